import { expect, test } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./utils-fixture.ts";

const hasShellcheck = Bun.which("shellcheck") !== null;
if (!hasShellcheck) console.log("utils-shellcheck: shellcheck is not installed (apt-get install shellcheck): skipping");

const dirs = ["resources/utils", "resources/file_system_sync", "resources/my_cluster_conf"];

test.skipIf(!hasShellcheck)("shellcheck finds nothing in the utils, file_system_sync and my_cluster_conf scripts", () => {
  for (const d of dirs) {
    const files = readdirSync(join(REPO, d)).filter((f) => f.endsWith(".sh") || f === "cm_stat").sort();
    expect(files.length).toBeGreaterThan(0);
    const r = Bun.spawnSync(["shellcheck", "-x", "-s", "bash", ...files], { cwd: join(REPO, d), stdout: "pipe", stderr: "pipe" });
    expect(`${d}: ${r.stdout.toString()}${r.stderr.toString()}`).toBe(`${d}: `);
    expect(r.exitCode).toBe(0);
  }
}, 60_000);

// Sourced helpers run under their caller's options; the sync_*.sh wrappers get set -u from the include.
const sourcedOnly = new Set(["drcm_common.sh", "process_lock.sh", "send_alert.sh", "sync_list_functions.sh"]);
const isWrapper = (f: string) => /^sync_(?!file_system_include)[a-z]+\.sh$/.test(f);

test("every utils and file_system_sync script that runs on its own uses set -u", () => {
  const checked: string[] = [];
  for (const d of ["resources/utils", "resources/file_system_sync"]) {
    for (const f of readdirSync(join(REPO, d)).filter((f) => !sourcedOnly.has(f) && !isWrapper(f))) {
      expect(`${f}: ${/^set -u$/m.test(readFileSync(join(REPO, d, f), "utf8"))}`).toBe(`${f}: true`);
      checked.push(f);
    }
  }
  expect(checked).toContain("sync_file_system_include.sh");
  expect(checked).toContain("watch_cluster.sh");
});
