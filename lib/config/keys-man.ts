// cm.cfg(5), written from the same key tables as packaging/doc/configuration.md (lib/config/keys.ts):
// `bun packaging/gen-docs.ts` rewrites packaging/cm.cfg.5, and a unit test keeps the committed page
// equal to this output. Pure: tables in, roff text out.
import { KIND_INFO, type ResourceKind } from "./model.ts";
import { NODE_KEYS, SERVER_KEYS, type KeyDoc } from "./keys.ts";

export interface FieldDoc {
  readonly name: string;
  readonly doc: string;
  readonly optional?: boolean;
}

/**
 * The CSV fields of each resource section, in order (the parser's "expected ..." message of
 * lib/config/resources.ts names the same list; the unit test compares them).
 */
export const RESOURCE_FIELDS: Readonly<Record<ResourceKind, { readonly what: string; readonly fields: readonly FieldDoc[] }>> = {
  crontab: {
    what: "Crontabs: installed on the node that holds them, removed elsewhere (exclusive: one node at a time).",
    fields: [
      { name: "nickname", doc: "Name of the crontab in node_crontabs, node_backup_crontabs and cm_stat" },
      { name: "template_file", doc: "The crontab file to install" },
      { name: "install_location", doc: "Directory it is installed into, e.g. /etc/cron.d" },
      { name: "resource_script", doc: "Agent run as `resource_script start|stop|status ...`, e.g. /etc/drcm/resources/crontab.sh" },
    ],
  },
  ipaddr: {
    what: "Floating IP addresses (exclusive: one node at a time).",
    fields: [
      { name: "nickname", doc: "Name of the address in node_floating_ip_addrs and node_backup_floating_ip_addrs" },
      { name: "ip_address", doc: "IPv4 (no leading zeros) or IPv6 address" },
      { name: "netmask", doc: "IPv4: dotted (255.255.255.0) or a prefix (24); IPv6: a prefix length 1-128" },
      { name: "interface", doc: "Network interface; alternatives in quotes, 'ens192|eno8303'" },
      { name: "resource_script", doc: "Agent: /etc/drcm/resources/ipv4addr.sh or ipv6addr.sh, matching the address" },
    ],
  },
  service: {
    what: "System services.",
    fields: [
      { name: "nickname", doc: "Name of the service in node_services and node_backup_services" },
      { name: "service_name", doc: "The system service, e.g. httpd" },
      { name: "resource_script", doc: "Agent, e.g. /etc/drcm/resources/service.sh" },
    ],
  },
  application: {
    what: "Applications: programs run as a user, in that user's login shell.",
    fields: [
      { name: "nickname", doc: "Name of the application in node_applications and node_backup_applications" },
      { name: "user:group", doc: "User and group the programs run as" },
      { name: "start_program", doc: "Shell text that starts the application (`;`-separated commands, `~`, `$VARS`)" },
      { name: "stop_program", doc: "Shell text that stops it" },
      { name: "ensure_script", doc: "Shell text that checks it runs (exit 0) and is the start-up probe: it must never start anything", optional: true },
    ],
  },
  filesystem: {
    what: "File systems (NFS, CIFS and other mounts).",
    fields: [
      { name: "nickname", doc: "Name of the file system in node_filesystems and node_backup_filesystems" },
      { name: "source", doc: "What is mounted, e.g. nfs1:/export/data" },
      { name: "target", doc: "Mount point" },
      { name: "resource_script", doc: "Agent, e.g. /etc/drcm/resources/nfs.sh" },
    ],
  },
};

/** The resource sections in the order of configuration.md. */
export const RESOURCE_SECTION_ORDER: readonly ResourceKind[] = ["crontab", "ipaddr", "service", "application", "filesystem"];

/** The CSV line format of a resource section, as the parser writes it: `a, b, c[, d]`. */
export function resourceFormat(kind: ResourceKind): string {
  return RESOURCE_FIELDS[kind].fields.map((f, i) => (i === 0 ? f.name : f.optional ? `[, ${f.name}]` : `, ${f.name}`)).join("");
}

/** Roff-escapes plain text: backslashes, option dashes (`-n`, `--node`; not the hyphen of read-only), `code` in bold. */
function text(s: string): string {
  const esc = (t: string): string => t.replaceAll("\\", "\\e");
  return s
    .split("`")
    .map((p, i) => (i % 2 === 1 ? `\\fB${esc(p).replaceAll("-", "\\-")}\\fR` : esc(p).replace(/(?<![A-Za-z0-9])-/g, "\\-")))
    .join("");
}

/** A line of running text: a leading `.` or `'` would be read as a request. */
const line = (s: string): string => (/^[.']/.test(s) ? `\\&${s}` : s);

function keyEntry(k: KeyDoc): string[] {
  const def = k.def === "" ? "" : ` = \\fI${text(k.def)}\\fR`;
  const notes: string[] = [];
  if (k.added) notes.push("New in drcm 2 (DRCM 1.x does not read it).");
  if (k.ignored) notes.push("Accepted and checked; no effect in drcm 2.");
  notes.push(k.reload === "live" ? "A reload applies a change." : "Fixed at start: a reload that changes it is refused (restart needed).");
  let doc = k.doc.trim();
  if (!doc.endsWith(".")) doc += ".";
  if (k.def === "" && !/Default:/.test(doc) && !/^Required\./.test(doc) && !/^Same as/.test(doc)) notes.unshift("No default.");
  return [".TP", line(`\\fB${k.key}\\fR${def}`), line(text(doc)), line(notes.join(" "))];
}

function keySection(title: string, intro: readonly string[], keys: readonly KeyDoc[]): string[] {
  return [`.SS ${title}`, ...intro.map(line), ...keys.flatMap(keyEntry)];
}

function resourceSection(kind: ResourceKind): string[] {
  const r = RESOURCE_FIELDS[kind];
  const sec = KIND_INFO[kind].section;
  const out = [".TP", `.B [${sec}]`, line(text(r.what)), ".br", line(`\\fI${text(resourceFormat(kind))}\\fR`), ".RS"];
  for (const f of r.fields) out.push(".TP", `.I ${f.name}`, line(`${text(f.doc)}${f.optional ? " (optional)" : ""}.`));
  out.push(".RE");
  return out;
}

/** The whole of packaging/cm.cfg.5. */
export function cmCfgManPage(): string {
  const out: string[] = [
    '.\\" Generated from lib/config/keys.ts and lib/config/keys-man.ts by packaging/gen-docs.ts: do not edit.',
    '.TH CM.CFG 5 "2026" "drcm 2" "File Formats"',
    ".SH NAME",
    "cm.cfg \\- configuration file of the drcm cluster manager",
    ".SH SYNOPSIS",
    ".I /etc/drcm/cm.cfg",
    ".SH DESCRIPTION",
    ".B cm.cfg",
    "describes a drcm cluster: its settings, its nodes and the resources they run. It is the DataReel",
    "Cluster Manager 1.x format, read unchanged; every node has the same file. The directory holding it is the",
    "etc directory: drcm reads the key from",
    ".IR DIR/.auth/authkey",
    "and resolves relative resource script, crontab template, alert_script and fence_script paths against it.",
    ".B drcm \\-\\-check\\-config",
    "checks the file (and writes a template when there is none).",
    ".SS File format",
    "Sections: [CM_SERVER] once, [CM_NODE] once per node (their order is the node order of cm_stat), and the",
    "resource sections " + RESOURCE_SECTION_ORDER.map((k) => `[${KIND_INFO[k].section}]`).join(", ") + ", in any order.",
    "Section names are case-sensitive; an unknown section is a warning and ignored.",
    ".PP",
    ".B #",
    "starts a comment anywhere on a line;",
    ".B \\e#",
    "is a literal #.",
    ".B key = value",
    "lines set a key: the value is everything after the first =, trimmed, one trailing ; ignored.",
    "Keys match exactly; an unknown key is a warning with a suggestion; a key set twice in a block is a",
    "warning and the later value wins.",
    ".PP",
    "Yes/no values: 1, yes, y, true, t (any case) or a number of 1 or more are yes; 0, no, n, false, f are no.",
    "Numbers are whole numbers. Durations are written 50ms, 1s, 1.5s, 2m; a bare number means seconds.",
    "Node lists (the node_* keys) are comma separated; backup entries are",
    ".IR node : nickname .",
    ...keySection("[CM_SERVER]", ["Settings of the whole cluster, once per file."], SERVER_KEYS),
    ...keySection("[CM_NODE]", ["One section per node; nodename, hostname and keep_alive_ip are required."], NODE_KEYS),
    ".SS Resource sections",
    "One resource per line, comma-separated fields; the first is a nickname, unique within its section.",
    "Field counts are exact and an empty field is an error. Write",
    ".B \\e,",
    "for a comma inside a field.",
    ...RESOURCE_SECTION_ORDER.flatMap(resourceSection),
    ".SH RELOAD",
    "A running daemon re-reads the file on",
    '.BR "systemctl reload drcm" ,',
    "SIGHUP or",
    '.BR "drcm \\-\\-client \\-\\-command=reload" .',
    "A file with errors is refused. Keys fixed at start (marked above) cannot change by reload: such a reload is",
    "refused whole, naming the keys, and the running configuration stays.",
    ".SH EXAMPLE",
    ".nf",
    ".ft CR",
    "[CM_SERVER]",
    "udpport = 53897",
    "dead_time = 800ms",
    ".sp",
    "[CM_SERVICES]",
    "web, httpd, /etc/drcm/resources/service.sh",
    ".sp",
    "[CM_NODE]",
    "nodename = cmnode1",
    "hostname = node1.example.com",
    "keep_alive_ip = 10.0.0.11",
    "node_services = web",
    ".sp",
    "[CM_NODE]",
    "nodename = cmnode2",
    "hostname = node2.example.com",
    "keep_alive_ip = 10.0.0.12",
    "node_backup_services = cmnode1:web",
    ".ft R",
    ".fi",
    ".SH FILES",
    ".TP",
    ".I /etc/drcm/cm.cfg",
    "The configuration (another with",
    ".BI \\-\\-config\\-file= PATH ).",
    ".TP",
    ".I /etc/drcm/.auth/authkey",
    "The shared secret, beside the configuration.",
    ".TP",
    ".I /usr/share/doc/drcm/configuration.md",
    "The same keys, with the checks of \\-\\-check\\-config.",
    ".SH SEE ALSO",
    ".BR drcm (8)",
  ];
  return `${out.join("\n")}\n`;
}
