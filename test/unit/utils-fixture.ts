// Stand-ins for the utils tests: a `drcm` that prints canned cm_stat text and answers ping per
// address, an `ip` that prints canned addresses, and a mail program that records what it was given.
// Everything lives in one temp directory; the scripts under test find them through DRCM_BIN, IP and
// UNIXMAILPROGRAM, the variables an admin would set.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The user running the tests, as the scripts see it (`id -un`). */
export const ME = Bun.spawnSync(["id", "-un"]).stdout.toString().trim();
export const REPO = join(import.meta.dir, "..", "..");
export const UTILS = join(REPO, "resources", "utils");
export const FSSYNC = join(REPO, "resources", "file_system_sync");

const HEADER = `
Cluster Manager Status Monitor                                  Nov 25 18:44:37

========================= M e m b e r   S t a t u s ===========================
`;
export const CM_STAT_HEALTHY = `${HEADER}
  Node status: All cluster nodes are UP
  Resource status: All cluster resources in NORMAL state
  Cluster status: HEALTHY
`;
export const CM_STAT_FAILEDOVER = `${HEADER}
  Node status: Cluster has 1 node DOWN
  Resource status: Cluster has 3 failed over resources
  Cluster status: DOWN nodes FAILEDOVER resources
`;

const STAND_IN_DRCM = `#!/bin/bash
# Stand-in drcm client: cm_stat prints $STATE/cm_stat; ping -nADDR succeeds when ADDR is listed in $STATE/up.
state="$(dirname "$0")/state"
echo "$*" >> "$state/calls"
case " $* " in
  *" --command=cm_stat "*) cat "$state/cm_stat"; exit 0 ;;
  *" --command=ping "*)
    for a in "$@"; do case "$a" in -n*) node="\${a#-n}" ;; esac; done
    if grep -qx "\${node:-}" "$state/up" 2>/dev/null; then echo "ping \${node} successful"; exit 0; fi
    echo "ping \${node:-} failed"; exit 1 ;;
esac
echo "stand-in drcm: unexpected arguments: $*" >&2
exit 2
`;

// Prints "ip addr show" text for the device named after "dev", from $STATE/ip-<dev>.
const STAND_IN_IP = `#!/bin/bash
state="$(dirname "$0")/state"
dev=""
prev=""
for a in "$@"; do [ "$prev" = dev ] && dev="$a"; prev="$a"; done
cat "$state/ip-$dev" 2>/dev/null || { echo "Device \\"$dev\\" does not exist." >&2; exit 1; }
`;

// Records each call as one JSON-ish block: args, then stdin.
const STAND_IN_MAIL = `#!/bin/bash
state="$(dirname "$0")/state"
n=$(ls "$state/mail" | wc -l)
f="$state/mail/$(printf %04d "$n")"
{ printf '%s\\n' "$@"; echo "--"; cat; } > "$f"
`;

export interface Mail {
  readonly args: string[];
  readonly body: string;
}

export class Fixture {
  readonly dir = mkdtempSync(join(tmpdir(), `drcm-utils-${process.pid}-`));
  readonly bin = join(this.dir, "bin");
  readonly state = join(this.bin, "state");
  readonly etc = join(this.dir, "etc");
  readonly varDir = join(this.dir, "var");

  constructor() {
    mkdirSync(join(this.state, "mail"), { recursive: true });
    mkdirSync(join(this.etc, "my_cluster_conf"), { recursive: true });
    this.exe("drcm", STAND_IN_DRCM);
    this.exe("ip", STAND_IN_IP);
    this.exe("mail", STAND_IN_MAIL);
    this.cmStat(CM_STAT_HEALTHY);
    this.up([]);
    this.clusterInfo({
      CLUSTER_NAME: "TEST-CLUSTER",
      BACKUP_USER: ME,
      PRIMARY_FILESYSTEMS_IP: "10.99.0.11",
      PRIMARY_FILESYSTEMS_ETH: "eth0",
      BACKUP_FILESYSTEMS_IP: "10.99.0.12",
      BACKUP_FILESYSTEMS_ETH: "eth0",
    });
  }

  exe(name: string, text: string): string {
    const p = join(this.bin, name);
    writeFileSync(p, text);
    chmodSync(p, 0o755);
    return p;
  }
  cmStat(text: string): void {
    writeFileSync(join(this.state, "cm_stat"), text);
  }
  /** Addresses whose drcm answers ping. */
  up(addrs: string[]): void {
    writeFileSync(join(this.state, "up"), addrs.map((a) => `${a}\n`).join(""));
  }
  /** `ip addr show dev DEV` output listing these addresses. */
  addresses(dev: string, addrs: string[]): void {
    const lines = [`2: ${dev}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000`];
    for (const a of addrs) lines.push(`    inet ${a}/24 brd 10.99.0.255 scope global ${dev}`, "       valid_lft forever preferred_lft forever");
    writeFileSync(join(this.state, `ip-${dev}`), `${lines.join("\n")}\n`);
  }
  clusterInfo(vars: Record<string, string>): void {
    const text = Object.entries(vars).map(([k, v]) => `export ${k}="${v}"\n`).join("");
    writeFileSync(join(this.etc, "my_cluster_conf", "my_cluster_info.sh"), text);
  }
  calls(): string[] {
    try {
      return readFileSync(join(this.state, "calls"), "utf8").split("\n").filter((l) => l !== "");
    } catch {
      return [];
    }
  }
  mails(): Mail[] {
    const dir = join(this.state, "mail");
    return readdirSync(dir)
      .sort()
      .map((f) => {
        const text = readFileSync(join(dir, f), "utf8");
        const cut = text.indexOf("\n--\n");
        return { args: text.slice(0, cut).split("\n"), body: text.slice(cut + 4) };
      });
  }

  /** The environment an admin would set to point the scripts at this fixture. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: this.dir,
      DRCMdir: this.etc,
      VARdir: this.varDir,
      LOGdir: join(this.dir, "log"),
      DRCM_BIN: join(this.bin, "drcm"),
      IP: join(this.bin, "ip"),
      UNIXMAILPROGRAM: join(this.bin, "mail"),
      DRCM_HOST: "testhost",
      ...extra,
    };
  }

  run(script: string, args: string[] = [], extra: Record<string, string> = {}, stdin = ""): { code: number; out: string } {
    const r = Bun.spawnSync(["bash", script, ...args], {
      env: this.env(extra),
      stdin: new TextEncoder().encode(stdin),
      stdout: "pipe",
      stderr: "pipe",
      timeout: 20_000,
    });
    return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
  }

  /** bash -c CODE in the fixture's environment (for the sourced utils). */
  bash(code: string, extra: Record<string, string> = {}): { code: number; out: string } {
    return this.run("-c", [code], extra);
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
