import { describe, expect, test } from "bun:test";
import { splitWords } from "../../lib/client/commands.ts";
import { parseArgs, UsageError, DEFAULT_CONFIG } from "../../lib/cli/args.ts";
import { errorMessage } from "../../lib/error.ts";

describe("parseArgs()", () => {
  test("parseArgs() defaults to the server with /etc/drcm/cm.cfg", () => {
    const o = parseArgs([]);
    expect(o.mode).toBe("server");
    expect(o.configFile).toBe(DEFAULT_CONFIG);
    expect(o.configFileGiven).toBe(false);
  });

  test("parseArgs() takes --config-file=PATH and --config-file PATH, with 1.x quote stripping", () => {
    expect(parseArgs(["--config-file=/tmp/c/cm.cfg"]).configFile).toBe("/tmp/c/cm.cfg");
    expect(parseArgs(["--config-file", "/tmp/c/cm.cfg"]).configFile).toBe("/tmp/c/cm.cfg");
    expect(parseArgs(['--config-file="/tmp/x y.cfg"']).configFile).toBe("/tmp/x y.cfg");
    expect(parseArgs(["--CONFIG-FILE=/a"]).configFileGiven).toBe(true);
  });

  test("parseArgs() follows the 1.x precedence: check-config, then client, else server; help and version first", () => {
    expect(parseArgs(["--client", "--check-config"]).mode).toBe("check-config");
    expect(parseArgs(["--command=cm_stat", "--client"]).mode).toBe("client");
    expect(parseArgs(["--version", "--client"]).mode).toBe("version");
    expect(parseArgs(["--check-config", "--help"]).mode).toBe("help");
    expect(parseArgs(["-?"]).mode).toBe("help");
  });

  test("parseArgs() reads the 1.x single-dash options -cN and -nNODE", () => {
    const o = parseArgs(["--client", "--command=ping", "-c3", '-n"cmnode2"']);
    expect(o.count).toBe(3);
    expect(o.nodeSelector).toBe("cmnode2");
    expect(parseArgs(["-c0"]).count).toBe(1);
  });

  test("parseArgs() reads logging and debug flags, which override the config", () => {
    const o = parseArgs(["--debug-level=3", "--verbose-level=0", "--log-file=/var/tmp/x.log", "--log-level=-2", "--log-file-clear", "--log-disable"]);
    expect([o.debug, o.debugLevel, o.verboseLevel, o.logFile, o.logLevel, o.logFileClear, o.logDisable]).toEqual([true, 3, 1, "x.log", 0, true, true]);
  });

  test("parseArgs() takes --node=NAME and the drcm 2 modes", () => {
    expect(parseArgs(["--node=n2"]).node).toBe("n2");
    expect(parseArgs(["--keygen", "--force"]).mode).toBe("keygen");
    expect(parseArgs(["--install", "--root=/tmp/r", "--dry-run"]).root).toBe("/tmp/r");
    expect(parseArgs(["--import-heartbeat=/tmp/ha.d"]).haDir).toBe("/tmp/ha.d");
    expect(parseArgs(["demo", "--keep"]).mode).toBe("demo");
  });

  test("parseArgs() rejects unknown flags, missing values and stray words with a clear message", () => {
    const msg = (argv: string[]) => {
      try {
        parseArgs(argv);
        return "no error";
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return errorMessage(e);
      }
    };
    expect(msg(["--bogus"])).toContain("Unknown option --bogus");
    expect(msg(["-x"])).toContain("Unknown command line arg -x");
    expect(msg(["-c"])).toContain("Missing value for -c");
    expect(msg(["-n"])).toContain("Missing value for -n");
    expect(msg(["--config-file"])).toContain("Missing value for --config-file");
    expect(msg(["--command="])).toContain("Missing value for --command");
    expect(msg(["--debug-level=high"])).toContain('expected a whole number, got "high"');
    expect(msg(["check-config"])).toContain('Unexpected argument "check-config"');
    expect(msg(["--client", "cm_stat"])).toContain('--command="cm_stat"');
    expect(msg(["--check-config", "--command=move", "web"])).toContain('Unexpected argument "web"');
  });

  test("parseArgs() keeps the words after --command= for the command, as the 1.x manual writes them", () => {
    for (const argv of [["--client", "--command=move", "ledger", "node1"], ["--client", "--command=move ledger node1"], ["--command=move", "ledger", "node1", "--client"]]) {
      const o = parseArgs(argv);
      expect(o.mode).toBe("client");
      expect([...splitWords(o.command!), ...o.rest]).toEqual(["move", "ledger", "node1"]);
    }
  });
});
