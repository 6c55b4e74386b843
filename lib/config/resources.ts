// The five CSV resource sections (packaging/doc/configuration.md, "Resource sections (CSV)") -> Resource values. Field counts are exact and an empty
// field is an error (1.x collapsed empty fields silently and shifted the others).
import { isAbsolute, resolve } from "node:path";
import { error, type Section } from "./lexer.ts";
import type { Finding, Resource, ResourceKind } from "./model.ts";
import { isIPv4, isIPv6, isNetmask, splitCsv } from "./values.ts";
import { nameProblem, stripOuterQuotes, type NameKind } from "./names.ts";

export const SECTION_KIND: Record<string, ResourceKind> = {
  CM_CRONTABS: "crontab",
  CM_IPADDRS: "ipaddr",
  CM_SERVICES: "service",
  CM_APPLICATIONS: "application",
  CM_FILESYSTEMS: "filesystem",
};

const FORMAT: Record<ResourceKind, string> = {
  crontab: "nickname, template_file, install_location, resource_script",
  ipaddr: "nickname, ip_address, netmask, interface, resource_script",
  service: "nickname, service_name, resource_script",
  application: "nickname, user:group, start_program, stop_program[, ensure_script]",
  filesystem: "nickname, source, target, resource_script",
};
const FIELD_COUNTS: Record<ResourceKind, readonly number[]> = {
  crontab: [4],
  ipaddr: [5],
  service: [3],
  application: [4, 5],
  filesystem: [4],
};

const noSpaces = (s: string): string => s.replace(/\s+/g, "");

/** The fields of a resource that reach its agent as one argument each, and their rules. */
function literalFields(r: Resource): [key: string, kind: NameKind, value: string][] {
  switch (r.kind) {
    case "crontab":
      return [
        ["template_file", "path", r.template],
        ["install_location", "path", r.installDir],
      ];
    case "ipaddr":
      return [["interface", "interface", r.iface]];
    case "service":
      return [["service_name", "service_name", r.serviceName]];
    case "application":
      return [
        ["user", "user", r.user],
        ["group", "group", r.group],
      ];
    case "filesystem":
      return [
        ["source", "source", r.source],
        ["target", "path", r.target],
      ];
  }
}

/** Parses one resource line and checks its names; null (with findings) when it cannot become a resource. */
function parseResourceLine(kind: ResourceKind, text: string, line: number, etcDir: string, file: string, findings: Finding[]): Resource | null {
  const r = parseResourceFields(kind, text, line, etcDir, file, findings);
  if (r === null) return null;
  let ok = true;
  for (const [key, nameKind, value] of literalFields(r)) {
    const problem = nameProblem(nameKind, key, stripOuterQuotes(value));
    if (problem === null) continue;
    findings.push(error(file, line, problem));
    ok = false;
  }
  return ok ? r : null;
}

function parseResourceFields(kind: ResourceKind, text: string, line: number, etcDir: string, file: string, findings: Finding[]): Resource | null {
  const f = splitCsv(text);
  const section = Object.keys(SECTION_KIND).find((s) => SECTION_KIND[s] === kind)!;
  if (!FIELD_COUNTS[kind].includes(f.length)) {
    findings.push(
      error(file, line, `[${section}] missing or extra values on line: ${text} (expected ${FORMAT[kind]}; got ${f.length} field${f.length === 1 ? "" : "s"})`),
    );
    return null;
  }
  const empty = f.findIndex((x) => x === "");
  if (empty >= 0) {
    findings.push(error(file, line, `[${section}] field ${empty + 1} is empty on line: ${text} (expected ${FORMAT[kind]})`));
    return null;
  }
  const nickname = f[0]!;
  if (/[\s:]/.test(nickname)) {
    findings.push(error(file, line, `[${section}] nickname "${nickname}" must not contain spaces or ":"`));
    return null;
  }
  const badNickname = nameProblem("nickname", "nickname", nickname);
  if (badNickname !== null) {
    findings.push(error(file, line, `[${section}] ${badNickname}`));
    return null;
  }
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(etcDir, p));
  switch (kind) {
    case "crontab":
      return { kind, nickname, line, template: path(noSpaces(f[1]!)), installDir: noSpaces(f[2]!), script: path(f[3]!) };
    case "ipaddr": {
      const ip = noSpaces(f[1]!);
      const netmask = noSpaces(f[2]!);
      let ok = true;
      const v6 = isIPv6(ip);
      if (!v6 && !isIPv4(ip)) {
        findings.push(
          error(file, line, `Cannot parse floating IP "${nickname}": expected an IPv4 address like 192.168.1.10 (no leading zeros) or an IPv6 address like fd00:213::100, got "${ip}"`),
        );
        ok = false;
      }
      if (v6 && !(/^\d{1,3}$/.test(netmask) && Number(netmask) >= 1 && Number(netmask) <= 128)) {
        findings.push(error(file, line, `Cannot parse prefix length of IPv6 floating IP "${nickname}": expected 1-128 (e.g. 64), got "${netmask}"`));
        ok = false;
      } else if (!v6 && !isNetmask(netmask)) {
        findings.push(error(file, line, `Cannot parse netmask of floating IP "${nickname}": expected 255.255.255.0 or a prefix length 1-32, got "${netmask}"`));
        ok = false;
      }
      const agent = f[4]!.trim().split("/").pop() ?? "";
      if (ok && v6 && agent === "ipv4addr.sh") {
        findings.push(error(file, line, `Floating IP "${nickname}" is an IPv6 address but its resource script is ipv4addr.sh: use ipv6addr.sh`));
        ok = false;
      } else if (ok && !v6 && agent === "ipv6addr.sh") {
        findings.push(error(file, line, `Floating IP "${nickname}" is an IPv4 address but its resource script is ipv6addr.sh: use ipv4addr.sh`));
        ok = false;
      }
      return ok ? { kind, nickname, line, ip, netmask, iface: noSpaces(f[3]!), script: path(f[4]!) } : null;
    }
    case "service":
      return { kind, nickname, line, serviceName: noSpaces(f[1]!), script: path(f[2]!) };
    case "application": {
      const ug = noSpaces(f[1]!);
      if (!ug.includes(":")) {
        findings.push(error(file, line, `[${section}] Bad user:group on line: ${text} (got "${ug}")`));
        return null;
      }
      const user = ug.slice(0, ug.indexOf(":"));
      const group = ug.slice(ug.lastIndexOf(":") + 1);
      if (user === "" || group === "") {
        findings.push(error(file, line, `[${section}] Bad user:group on line: ${text} (both parts are needed, got "${ug}")`));
        return null;
      }
      return { kind, nickname, line, user, group, start: f[2]!, stop: f[3]!, ensure: f[4] ?? null };
    }
    case "filesystem":
      return { kind, nickname, line, source: noSpaces(f[1]!), target: noSpaces(f[2]!), script: path(f[3]!) };
  }
}

/** All resources of one section; a nickname defined twice in the section is an error (1.x ran both). */
export function parseResourceSection(section: Section, etcDir: string, file: string, findings: Finding[]): Resource[] {
  const kind = SECTION_KIND[section.name]!;
  const out: Resource[] = [];
  for (const l of section.lines) {
    const r = parseResourceLine(kind, l.text, l.line, etcDir, file, findings);
    if (!r) continue;
    const dup = out.find((x) => x.nickname === r.nickname);
    if (dup) {
      findings.push(error(file, l.line, `[${section.name}] nickname "${r.nickname}" is defined twice (first at line ${dup.line})`));
      continue;
    }
    out.push(r);
  }
  return out;
}
