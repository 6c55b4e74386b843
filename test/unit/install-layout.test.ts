import { describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadCluster } from "../../lib/config/load.ts";
import { EMBEDDED } from "../../lib/embedded.ts";
import { fileLine, renderSpec } from "../../packaging/build-rpm.ts";
import { renderManifest } from "../../packaging/gen-embedded.ts";
import { scanLayout } from "../../packaging/layout.ts";

const repo = join(import.meta.dir, "..", "..");

describe("install layout", () => {
  test("renderManifest() matches the committed lib/embedded.ts (run bun packaging/gen-embedded.ts when this fails)", () => {
    expect(readFileSync(join(repo, "lib", "embedded.ts"), "utf8")).toBe(renderManifest());
  });

  test("scanLayout() maps the resources tree into /etc/drcm with executable scripts", () => {
    const entries = scanLayout(repo);
    const byPath = new Map(entries.map((e) => [e.path, e]));
    for (const d of ["/etc/drcm/resources", "/etc/drcm/utils", "/etc/drcm/file_system_sync", "/etc/drcm/my_cluster_conf", "/etc/drcm/crontabs", "/var/log/drcm", "/var/spool/drcm"]) {
      expect(byPath.get(d)?.type).toBe("dir");
    }
    expect(byPath.get("/etc/drcm/.auth")?.mode).toBe(0o700);
    expect(byPath.get("/usr/sbin/drcm_server")?.target).toBe("drcm");
    expect(byPath.get("/etc/rc.d/init.d/drcm")?.pkg).toBe("sysvinit");
    expect(byPath.get("/etc/sysconfig/drcm")?.config).toBe("noreplace");
    for (const e of entries) {
      if (e.src === undefined) continue;
      expect(statSync(join(repo, e.src)).isFile()).toBe(true);
      if (e.path.endsWith(".sh")) expect(e.mode).toBe(0o755);
      if (e.path.startsWith("/etc/drcm/resources/")) expect(e.config).toBe("noreplace");
    }
  });

  test("scanLayout() ships a tmpfiles.d entry that recreates /run/drcm (the sync scripts' lock dir) at boot", () => {
    const e = scanLayout(repo).find((x) => x.path === "/usr/lib/tmpfiles.d/drcm.conf");
    expect(e?.type).toBe("file");
    expect(e?.mode).toBe(0o644);
    expect(e?.pkg).toBe("main");
    expect(readFileSync(join(repo, e!.src!), "utf8")).toMatch(/^d \/run\/drcm 0755 root root -$/m);
    expect(EMBEDDED.some((x) => x.path === "/usr/lib/tmpfiles.d/drcm.conf")).toBe(true);
  });

  test("fileLine() marks the install record %config(noreplace) and leaves its checksum out of rpm -V", () => {
    const rec = scanLayout(repo).find((x) => x.type === "record")!;
    expect(rec.config).toBe("noreplace");
    expect(fileLine({ ...rec })).toBe("%config(noreplace) %verify(not md5 size mtime) %attr(0644,root,root) /var/lib/drcm/installed.sha256");
  });

  test("EMBEDDED lists every shipped file exactly once, sorted", () => {
    const paths = EMBEDDED.map((e) => e.path);
    expect(new Set(paths).size).toBe(paths.length);
    expect([...paths].sort()).toEqual(paths);
  });

  test("loadCluster() accepts the shipped example configs without findings of severity error", async () => {
    for (const f of ["cm_2_node_example.cfg", "cm_4_node_example.cfg"]) {
      const r = await loadCluster(join(repo, "packaging", "examples", f));
      expect(r.cluster).not.toBeNull();
      const errors = r.findings.filter((x) => x.severity === "ERROR");
      expect(errors).toEqual([]);
    }
  });

  test("fileLine() writes the RPM flags and modes of each manifest entry", () => {
    const m = { pkg: "main" as const, config: null };
    expect(fileLine({ ...m, path: "/etc/drcm/.auth", type: "dir", mode: 0o700 })).toBe("%dir %attr(0700,root,root) /etc/drcm/.auth");
    expect(fileLine({ ...m, path: "/etc/drcm/resources/nfs.sh", type: "file", mode: 0o755, config: "noreplace" })).toBe(
      "%config(noreplace) %attr(0755,root,root) /etc/drcm/resources/nfs.sh",
    );
    expect(fileLine({ ...m, path: "/etc/drcm/x.cfg", type: "file", mode: 0o644, config: "config" })).toBe("%config %attr(0644,root,root) /etc/drcm/x.cfg");
    expect(fileLine({ ...m, path: "/usr/sbin/drcm_server", type: "symlink", mode: 0o777, target: "drcm" })).toBe("/usr/sbin/drcm_server");
  });

  test("renderSpec() fills version and both %files lists from the manifest, and never restarts on upgrade", () => {
    const spec = renderSpec(readFileSync(join(repo, "packaging", "drcm.spec"), "utf8"), EMBEDDED, "9.8.7", "3", new Date(Date.UTC(2026, 10, 25)));
    expect(spec).not.toMatch(/@[A-Z_]+@/);
    expect(spec).toMatch(/^Version: +9\.8\.7$/m);
    expect(spec).toContain("* Wed Nov 25 2026");
    expect(spec).toContain("%define _binary_payload w9.gzdio");
    expect(spec).toMatch(/^Requires: +glibc >= 2\.17$/m);
    const sysv = spec.slice(spec.indexOf("%files sysvinit"));
    expect(sysv).toContain("/etc/rc.d/init.d/drcm");
    const main = spec.slice(spec.indexOf("%files\n"), spec.indexOf("%files sysvinit"));
    expect(main).not.toContain("/etc/rc.d/init.d/drcm");
    for (const e of EMBEDDED.filter((x) => x.pkg === "main")) expect(main).toContain(fileLine(e));
    expect(spec).not.toMatch(/try-restart|condrestart/);
    // /run/drcm now, not only after the next boot.
    expect(spec).toContain("systemd-tmpfiles --create /usr/lib/tmpfiles.d/drcm.conf");
  });
});
