// The systemd unit's service-life promises (issue 7), read with the ini parser: a daemon restart must
// not take resources down (KillMode=process), a crash restarts it, reload is SIGHUP, the sysconfig file
// is optional, and it starts after the network is really up.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ini from "ini";

const unit = ini.parse(readFileSync(join(import.meta.dir, "../../packaging/drcm.service"), "utf8")) as Record<string, Record<string, unknown>>;

describe("packaging/drcm.service", () => {
  test("[Unit] orders it after network-online.target and wants it", () => {
    expect(unit.Unit?.After).toBe("network-online.target");
    expect(unit.Unit?.Wants).toBe("network-online.target");
  });

  test("[Service] keeps resources across a daemon restart and restarts on failure", () => {
    const s = unit.Service!;
    expect(s.KillMode).toBe("process");
    expect(s.Restart).toBe("on-failure");
    expect(s.ExecReload).toBe("/bin/kill -HUP $MAINPID");
    expect(s.EnvironmentFile).toBe("-/etc/sysconfig/drcm");
    expect(String(s.ExecStart)).toStartWith("/usr/sbin/drcm ");
    // SIGTERM is the graceful release; systemd must wait for it rather than SIGKILL after 90 s.
    expect(s.KillSignal).toBe("SIGTERM");
    // systemd time span: "30min", "600", "2h"...
    const span = /^(\d+)\s*(s|sec|min|m|h)?$/.exec(String(s.TimeoutStopSec));
    const factor: Record<string, number> = { "": 1, s: 1, sec: 1, m: 60, min: 60, h: 3600 };
    const seconds = span ? Number(span[1]) * factor[span[2] ?? ""]! : NaN;
    expect(seconds).toBeGreaterThanOrEqual(120);
  });

  test("[Install] is wanted by multi-user.target", () => {
    expect(unit.Install?.WantedBy).toBe("multi-user.target");
  });
});
