// The demo's world in one temporary directory: cm.cfg, the auth key, the agents and per-node
// run/log/cron directories. Three nodes on 127.0.0.61-63 (loopback: no root needed), one port for
// the cluster (UDP heartbeats + TCP console) and two for the demo's HTTP applications.
import { createHash, randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EMBEDDED } from "../embedded.ts";
import { currentDaemonUser, groupName } from "../io/passwd.ts";
import { drcmShell, sq } from "./self.ts";

export interface DemoNode {
  readonly name: string;
  readonly ip: string;
}

export interface DemoLayout {
  readonly dir: string;
  readonly configFile: string;
  readonly nodes: readonly DemoNode[];
  /** UDP heartbeats and TCP console. */
  readonly port: number;
  /** HTTP port of "web" (every node) and "ledger" (node1, backup node2). */
  readonly webPort: number;
  readonly ledgerPort: number;
  readonly failbackMs: number;
  /** --netns: the floating IP that goes with ledger (null on loopback). */
  readonly vip: string | null;
  readonly deadMs: number;
  /** Where node N installs the "jobs" crontab (its own cron directory, as on a real machine). */
  cronDir(node: string): string;
  /** Pid file of a demo application on a node. */
  pidFile(app: string, node: string): string;
  /** user:group the demo's [CM_APPLICATIONS] run as: whoever runs the demo, with their primary group. */
  readonly appUser: string;
}

export const APPS = ["web", "ledger"] as const;

const NODE_IPS = ["127.0.0.61", "127.0.0.62", "127.0.0.63"];

function tcpFree(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen({ host: ip, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

function udpFree(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket("udp4");
    s.once("error", () => {
      s.close();
      resolve(false);
    });
    s.bind({ address: ip, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** A port derived from the pid (parallel demos differ) whose three ports are free on every node address. */
async function pickPort(ips: readonly string[] = NODE_IPS): Promise<number> {
  for (let i = 0; i < 40; i++) {
    // Below the kernel's ephemeral range (32768+), so no client socket grabs it while the demo runs.
    const p = 24000 + ((process.pid * 7 + i * 131) % 2500) * 3;
    let ok = true;
    for (const ip of ips) {
      if (!(await udpFree(ip, p)) || !(await tcpFree(ip, p)) || !(await tcpFree(ip, p + 1)) || !(await tcpFree(ip, p + 2))) {
        ok = false;
        break;
      }
    }
    if (ok) return p;
  }
  throw new Error("Cannot find a free port for the demo on 127.0.0.61-63 (tried 40 ports from 24000)");
}

const agentText = (path: string): Promise<string> => {
  const e = EMBEDDED.find((x) => x.path === path);
  if (e?.data === undefined) throw new Error(`The agent ${path} is not embedded in this drcm`);
  return Bun.file(e.data).text();
};

function appControl(dir: string, nodes: readonly DemoNode[], webPort: number, ledgerPort: number, ledgerAny: boolean): string {
  return `#!/bin/sh
# drcm demo application control: a small HTTP application answering "<app> on <node>".
#   demo-app.sh APP start|stop|status|watch        (DRCM_NODE, set by drcm, names this node)
# The start, stop and ensure programs of the demo's [CM_APPLICATIONS] entries call it, in the
# application user's login shell (su - as root; the user's own login shell when drcm is that user).
set -u
APP=\${1:-}
ACTION=\${2:-}
NODE=\${DRCM_NODE:-}
case $NODE in
${nodes.map((n) => `  ${n.name}) IP=${n.ip} ;;`).join("\n")}
  *) echo "demo-app.sh: ERROR - Unknown node \\"$NODE\\" (DRCM_NODE)"; exit 2 ;;
esac
case $APP in
  web) PORT=${webPort} ;;
  ledger) PORT=${ledgerPort}${ledgerAny ? "; IP=0.0.0.0 ;; # every address of the node, the floating IP too" : " ;;"}
  *) echo "demo-app.sh: ERROR - Unknown application \\"$APP\\""; exit 2 ;;
esac
PIDFILE=${sq(dir)}/run/app-$APP-$NODE.pid
running() { [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
case $ACTION in
  start)
    running && exit 0
    rm -f "$PIDFILE"
    nohup ${drcmShell()} demo responder "$APP" "$NODE" "$IP" "$PORT" "$PIDFILE" </dev/null >>${sq(dir)}/log/app-$APP-$NODE.log 2>&1 &
    i=0
    while [ $i -lt 200 ]; do
      running && { echo "demo-app.sh: INFO - $APP on $NODE answers on http://$IP:$PORT/"; exit 0; }
      sleep 0.05; i=$((i + 1))
    done
    echo "demo-app.sh: ERROR - $APP on $NODE did not start within 10 s"; exit 1 ;;
  stop)
    if running; then
      PID=$(cat "$PIDFILE")
      kill "$PID" 2>/dev/null
      i=0
      while kill -0 "$PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
      kill -9 "$PID" 2>/dev/null
    fi
    rm -f "$PIDFILE"; exit 0 ;;
  status) running && exit 0; exit 3 ;;
  watch) running && exit 0; echo "demo-app.sh: ERROR - $APP on $NODE is not running"; exit 1 ;;
  *) echo "Usage: demo-app.sh APP start|stop|status|watch"; exit 2 ;;
esac
`;
}

function config(dir: string, nodes: readonly DemoNode[], port: number, vip: string | null, appUser: string): string {
  const [n1, n2, n3] = nodes as [DemoNode, DemoNode, DemoNode];
  // A program is shell text for the user's login shell; a comma would split the cm.cfg field.
  const prog = (app: string, verb: string): string => `${sq(join(dir, "apps/demo-app.sh"))} ${app} ${verb}`.replaceAll(",", "\\,");
  const ipSection = vip === null ? "" : `\n[CM_IPADDRS]\n# nickname, floating IP, netmask, interface, resource_script\nvip, ${vip}, 24, eth0, ${dir}/resources/ipv4addr.sh\n`;
  return `# drcm demo cluster: three nodes on this machine (written by drcm demo; removed when it ends)
[CM_SERVER]
udpport = ${port}
tcpport = ${port}
run_dir = ${dir}/run
log_dir = ${dir}/log
spool_dir = ${dir}/spool
keep_alive_interval = 50ms
dead_time = 800ms
failback_delay = 3s

[CM_APPLICATIONS]
# nickname, user:group, start_program, stop_program, ensure_script: the demo's HTTP applications
# (apps/demo-app.sh; ensure only checks, so the start-up probe never starts anything)
${["web", "ledger"].map((a) => `${a}, ${appUser}, ${prog(a, "start")}, ${prog(a, "stop")}, ${prog(a, "watch")}`).join("\n")}

[CM_CRONTABS]
# nickname, template_file, install_location, resource_script (each node installs into cron/<node>)
jobs, ${dir}/crontabs/demo_jobs, ${dir}/cron, ${dir}/resources/demo-crontab.sh
${ipSection}
[CM_NODE]
nodename = ${n1.name}
hostname = ${n1.name}.demo
keep_alive_ip = ${n1.ip}
node_applications = web,ledger
node_crontabs = jobs${vip === null ? "" : "\nnode_floating_ip_addrs = vip"}

[CM_NODE]
nodename = ${n2.name}
hostname = ${n2.name}.demo
keep_alive_ip = ${n2.ip}
node_applications = web
node_backup_applications = ${n1.name}:ledger
node_backup_crontabs = ${n1.name}:jobs${vip === null ? "" : `\nnode_backup_floating_ip_addrs = ${n1.name}:vip`}

[CM_NODE]
nodename = ${n3.name}
hostname = ${n3.name}.demo
keep_alive_ip = ${n3.ip}
node_applications = web
node_backup_crontabs = ${n1.name}:jobs
`;
}

/** user:group of whoever runs the demo (numeric when there is no name), so no su password is ever needed. */
function demoAppUser(): string {
  const me = currentDaemonUser();
  return `${me.username}:${groupName(me.gid) ?? String(me.gid)}`;
}

/** Creates the demo directory; the caller removes it (DemoCluster.cleanup). */
export async function makeLayout(netns?: { ips: readonly string[]; vip: string }): Promise<DemoLayout> {
  const nodes = (netns?.ips ?? NODE_IPS).map((ip, i) => ({ name: `node${i + 1}`, ip }));
  // Fresh namespaces have every port free.
  const port = netns ? 53897 : await pickPort();
  const vip = netns?.vip ?? null;
  const dir = mkdtempSync(join(tmpdir(), "drcm-demo-"));
  for (const d of ["run", "log", "spool", "resources", "apps", "crontabs", ".auth", ...nodes.map((n) => `cron/${n.name}`)]) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, ".auth"), 0o700);
  const key = randomBytes(2048);
  writeFileSync(join(dir, ".auth/authkey"), key, { mode: 0o600 });
  writeFileSync(join(dir, ".auth/authkey.sha1"), `${createHash("sha1").update(key).digest("hex")}\n`, { mode: 0o600 });
  writeFileSync(join(dir, "resources/crontab.sh"), await agentText("/usr/libexec/drcm/resources/crontab.sh"), { mode: 0o755 });
  writeFileSync(
    join(dir, "resources/demo-crontab.sh"),
    `#!/bin/sh\n# Each demo node has its own cron directory, as each machine has its own /etc/cron.d.\nDRCM_SYSTEM_CRONTAB=${sq(join(dir, "no-system-crontab"))} exec ${sq(join(dir, "resources/crontab.sh"))} "$1" "$2/\${DRCM_NODE:?}" "$3"\n`,
    { mode: 0o755 },
  );
  writeFileSync(join(dir, "apps/demo-app.sh"), appControl(dir, nodes, port + 1, port + 2, vip !== null), { mode: 0o755 });
  if (vip !== null) writeFileSync(join(dir, "resources/ipv4addr.sh"), await agentText("/usr/libexec/drcm/resources/ipv4addr.sh"), { mode: 0o755 });
  writeFileSync(join(dir, "crontabs/demo_jobs"), "# drcm demo crontab: installed only on the node that holds \"jobs\" (cron never reads this directory)\n*/5 * * * * root /bin/true\n");
  const configFile = join(dir, "cm.cfg");
  const appUser = demoAppUser();
  writeFileSync(configFile, config(dir, nodes, port, vip, appUser));
  return {
    dir,
    configFile,
    nodes,
    port,
    webPort: port + 1,
    ledgerPort: port + 2,
    failbackMs: 3000,
    deadMs: 800,
    vip,
    cronDir: (node) => join(dir, "cron", node),
    pidFile: (app, node) => join(dir, "run", `app-${app}-${node}.pid`),
    appUser,
  };
}
