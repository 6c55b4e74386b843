// haresources resource words -> drcm resource entries. Heartbeat's R1 resources are
// `Agent::arg1::arg2`, a bare IP address (IPaddr), or the name of an init script.
import type { ResourceKind } from "../config/model.ts";
import type { Findings } from "./finding.ts";
import type { Token } from "./hacf.ts";
import { isIPv4, isNetmask } from "../config/values.ts";

export interface ImportedResource {
  readonly kind: ResourceKind;
  /** Wanted nickname; made unique per kind when the config is written. */
  readonly nickname: string;
  /** CSV fields after the nickname, unescaped. */
  readonly fields: readonly string[];
  readonly token: Token;
}

export interface ResourceContext {
  /** Directory of cm.cfg; cifs.sh reads credentials from `<etcDir>/.auth/<host>`. */
  readonly etcDir: string;
  /** Directory the drcm agents are installed in (`<etcDir>/resources`). */
  readonly scriptDir: string;
  /** Interface of the first bcast/mcast/ucast line, for floating IPs written without one. */
  readonly iface: { name: string; line: number } | null;
  /** Names of the scripts in `<haDir>/resource.d`, the site's own Heartbeat agents. */
  readonly haScripts: readonly string[];
  readonly haDir: string;
}

/** Heartbeat's shipped agents drcm has no counterpart for, each with what to do instead. */
const UNMAPPED: Record<string, string> = {
  drbddisk: "drcm does not manage DRBD; promote the DRBD resource before the file system is mounted (e.g. an [CM_APPLICATIONS] entry running drbdadm primary/secondary)",
  MailTo: "use alert_script in [CM_SERVER] to send mail on cluster events",
  SendArp: "drcm's floating IP agent sends gratuitous ARP itself",
  Delay: "drcm has no start delays; order comes from resource kinds",
  IPv6addr: "drcm floating IPs are IPv4 only",
  IPsrcaddr: "set the source address in the service's own configuration",
  LVM: "activate the volume group in an [CM_APPLICATIONS] entry (vgchange -ay/-an)",
  Raid1: "assemble the array in an [CM_APPLICATIONS] entry (mdadm)",
  Xinetd: "run the service under systemd as a [CM_SERVICES] entry",
  apache: "use a [CM_SERVICES] entry for httpd/apache2",
  portblock: "no equivalent in drcm",
  AudibleAlarm: "use alert_script in [CM_SERVER]",
  WinPopup: "use alert_script in [CM_SERVER]",
  ldirectord: "run ldirectord as a [CM_SERVICES] entry",
  LVSSyslog: "no equivalent in drcm",
  LinuxSCSI: "no equivalent in drcm",
  ServeRAID: "no equivalent in drcm",
  ICP: "no equivalent in drcm",
  WAS: "run WebSphere as a [CM_SERVICES] or [CM_APPLICATIONS] entry",
  db2: "run DB2 as a [CM_SERVICES] or [CM_APPLICATIONS] entry",
  OCF: "OCF agents are not run by drcm; wrap the program in a [CM_SERVICES] or [CM_APPLICATIONS] entry",
};

/** Characters allowed in a generated nickname: no spaces, commas, colons or `#`. */
export const nick = (s: string): string => s.replace(/[^A-Za-z0-9_.-]+/g, "_").replace(/^_+|_+$/g, "") || "res";

const mountName = (dir: string): string => (dir === "/" ? "root" : nick(dir.split("/").filter((p) => p !== "").pop() ?? "fs"));

/** One haresources resource word -> a resource, or null after a finding that says why not. */
export function mapResource(t: Token, ctx: ResourceContext, f: Findings): ImportedResource | null {
  const parts = t.text.split("::");
  const agent = parts[0]!;
  const args = parts.slice(1);
  if (/^\d+\.\d+\.\d+\.\d+(\/|$)/.test(t.text)) return ipaddr(t, "IPaddr", t.text, ctx, f);
  if (agent === "IPaddr" || agent === "IPaddr2") {
    if (args.length !== 1 || args[0] === "") {
      f.warn(t.at, `Cannot read "${t.text}": expected ${agent}::IP[/PREFIX[/IFACE[/BROADCAST]]]; not mapped`);
      return null;
    }
    return ipaddr(t, agent, args[0]!, ctx, f);
  }
  if (agent === "Filesystem") return filesystem(t, args, ctx, f);
  const why = UNMAPPED[agent];
  if (why !== undefined) {
    f.warn(t.at, `Resource "${t.text}" is not mapped: ${why}`);
    return null;
  }
  const custom = agent.includes("/") ? agent : ctx.haScripts.includes(agent) ? `${ctx.haDir}/resource.d/${agent}` : null;
  if (custom !== null) {
    // Heartbeat calls its agents as `script ARGS... start|stop`; the same command lines work as an application.
    const cmd = [custom, ...args].join(" ");
    f.warn(
      t.at,
      `Resource "${t.text}" is a site script: mapped to [CM_APPLICATIONS] running "${cmd} start" and "${cmd} stop" as root; copy ${custom} to every node (drcm does not call its status action)`,
    );
    return { kind: "application", nickname: nick(agent.split("/").pop()!), fields: ["root:root", `${cmd} start`, `${cmd} stop`], token: t };
  }
  if (!/^[A-Za-z0-9_.@-]+$/.test(agent)) {
    f.warn(t.at, `Resource "${t.text}" is not a known Heartbeat agent nor an init script name: not mapped`);
    return null;
  }
  if (args.length > 0)
    f.warn(t.at, `Arguments "${args.join("::")}" of init script ${agent} are dropped: drcm runs "service.sh ${agent} start|stop|watch" (systemd or SysV)`);
  f.info(t.at, `${t.text} -> [CM_SERVICES] ${agent}`);
  return { kind: "service", nickname: nick(agent), fields: [agent, `${ctx.scriptDir}/service.sh`], token: t };
}

function ipaddr(t: Token, agent: string, arg: string, ctx: ResourceContext, f: Findings): ImportedResource | null {
  const [ip = "", mask = "", iface = "", bcast = ""] = arg.split("/");
  if (!isIPv4(ip)) {
    f.warn(t.at, `Cannot read "${t.text}": "${ip}" is not an IPv4 address; not mapped`);
    return null;
  }
  let netmask = mask;
  if (mask !== "" && !isNetmask(mask)) {
    f.warn(t.at, `Cannot read netmask "${mask}" of "${t.text}": 24 is used; check it`);
    netmask = "24";
  }
  let dev = iface;
  const guessed: string[] = [];
  if (netmask === "") {
    netmask = "24";
    guessed.push("netmask 24");
  }
  if (dev === "") {
    dev = ctx.iface?.name ?? "eth0";
    guessed.push(`interface ${dev}${ctx.iface ? ` (from ha.cf:${ctx.iface.line})` : " (ha.cf names no interface)"}`);
  }
  if (guessed.length > 0)
    f.warn(t.at, `"${t.text}" leaves the netmask or interface to Heartbeat's routing-table lookup; drcm needs them written: ${guessed.join(" and ")} assumed, check them`);
  if (bcast !== "") f.info(t.at, `Broadcast address ${bcast} of "${t.text}" is not written: the interface's broadcast is derived from the netmask`);
  f.info(t.at, `${t.text} -> [CM_IPADDRS] ${ip}/${netmask} on ${dev}`);
  return { kind: "ipaddr", nickname: "vip", fields: [ip, netmask, dev, `${ctx.scriptDir}/ipv4addr.sh`], token: t };
}

function filesystem(t: Token, args: readonly string[], ctx: ResourceContext, f: Findings): ImportedResource | null {
  const [dev = "", dir = "", fstype = "", options = ""] = args;
  if (dev === "" || dir === "") {
    f.warn(t.at, `Cannot read "${t.text}": expected Filesystem::DEVICE::DIRECTORY[::FSTYPE[::OPTIONS]]; not mapped`);
    return null;
  }
  const name = mountName(dir);
  const optNote = options !== "" ? `; mount options "${options}" are not carried over: put them in /etc/fstab for ${dir}` : "";
  if (/^[^/][^:]*:\//.test(dev) || /^nfs4?$/.test(fstype)) {
    if (optNote !== "") f.warn(t.at, `${t.text} -> [CM_FILESYSTEMS] ${name} with nfs.sh${optNote}`);
    else f.info(t.at, `${t.text} -> [CM_FILESYSTEMS] ${name} with nfs.sh`);
    return { kind: "filesystem", nickname: name, fields: [dev, dir, `${ctx.scriptDir}/nfs.sh`], token: t };
  }
  if (dev.startsWith("//") || /^(cifs|smbfs|smb3)$/.test(fstype)) {
    const host = dev.replace(/^\/+/, "").split("/")[0] ?? "";
    f.warn(t.at, `${t.text} -> [CM_FILESYSTEMS] ${name} with cifs.sh: its credentials come from ${ctx.etcDir}/.auth/${host}, not from mount options${options ? ` ("${options}" not carried over)` : ""}`);
    return { kind: "filesystem", nickname: name, fields: [dev, dir, `${ctx.scriptDir}/cifs.sh`], token: t };
  }
  // A local or shared block device (SAN LUN, DRBD): drcm ships no agent for it, so it becomes an
  // application with plain mount/umount commands and a watch that remounts it.
  const type = fstype !== "" ? `-t ${fstype} ` : "";
  const opts = options !== "" ? `-o ${options} ` : "";
  const mount = `mount ${type}${opts}${dev} ${dir}`;
  f.warn(
    t.at,
    `${t.text} is a block device, which drcm's nfs.sh and cifs.sh cannot mount: mapped to [CM_APPLICATIONS] ${name} running "${mount}" and "umount ${dir}"; make sure it can never be mounted on two nodes at once (set a fence_script)`,
  );
  return { kind: "application", nickname: name, fields: ["root:root", mount, `umount ${dir}`, `mountpoint -q ${dir} || ${mount}`], token: t };
}
