// The layer rules of ARCHITECTURE.md, checked on the source text:
// - lib/core, lib/wire and the pure parts of lib/config: no Bun.*, no node: sockets, processes,
//   timers or file system, no clock (Date.now, performance.now, new Date()), no timers, and no
//   import of a layer above them (lib/io, lib/client, lib/node, lib/server.ts) or of an impure
//   config file.
// - lib/node (the node driver): the same rules, since every port (clock, timers, sockets, agents) is
//   injected; it may import lib/core, lib/wire and pure lib/config, never lib/io or anything above.
// - lib/io: adapters only, never an import of lib/client.
// The scanner is tested on files written for the purpose, so a rule that silently matches nothing
// fails here too.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");

/**
 * lib/config files that look at the machine, with why. Everything else in lib/config is text in,
 * values out, and held to the pure rules.
 */
const IMPURE_CONFIG: Readonly<Record<string, string>> = {
  "lib/config/load.ts": "reads cm.cfg from disk (parseClusterText is the pure part)",
  "lib/config/auth.ts": "reads .auth/authkey and its mode bits",
  "lib/config/checks.ts": "checks scripts, directories and the key on this machine",
  "lib/config/self.ts": "finds this node by the machine's hostname",
  "lib/config/verify.ts": "load.ts, then checks.ts",
};

interface Rule {
  readonly name: string;
  readonly pattern: RegExp;
}

const PURE_RULES: readonly Rule[] = [
  { name: "Bun.*", pattern: /\bBun\s*\./ },
  { name: "timer", pattern: /\b(?:setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/ },
  { name: "clock", pattern: /\bDate\.now\s*\(|\bperformance\.now\s*\(|\bnew\s+Date\s*\(\s*\)|\bprocess\.hrtime\b/ },
  { name: "process", pattern: /\bprocess\s*\.\s*(?:env|argv|exit|kill|getuid|geteuid|getgid|cwd|pid)\b/ },
];

/** Modules that are edges: sockets, processes, timers, files, the host, the runtime itself. */
const EDGE_MODULES = /^(?:node:)?(?:net|dgram|child_process|cluster|worker_threads|timers(?:\/promises)?|fs(?:\/promises)?|dns(?:\/promises)?|os|readline|http|https|tls)$|^bun(?::|$)/;
/** Layers above the pure ones. */
const HIGHER = /^lib\/(?:io|client|node|cli|demo|import)\/|^lib\/server\.ts$|^drcm\.ts$/;

/** What a line imports or re-exports: `from "x"`, `import "x"`, `import("x")`, `require("x")`. */
const SPECIFIER = /\bfrom\s*["']([^"']+)["']|\bimport\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']|\brequire\s*\(\s*["']([^"']+)["']/g;

function specifiers(line: string): string[] {
  return [...line.matchAll(SPECIFIER)].map((m) => m[1] ?? m[2] ?? m[3] ?? m[4]!);
}

/** A relative specifier as a root-relative path (`lib/io/control.ts`); other specifiers as written. */
const resolveSpec = (file: string, spec: string): string => (spec.startsWith(".") ? join(dirname(file), spec) : spec);

type ImportCheck = (file: string, target: string, spec: string) => string | null;

const pureImports =
  (impureConfig: Readonly<Record<string, string>>): ImportCheck =>
  (_file, target, spec) => {
    if (EDGE_MODULES.test(spec)) return "edge module import";
    if (HIGHER.test(target)) return "import of a higher layer";
    if (target in impureConfig) return "import of an impure config file";
    return null;
  };

const DRIVER_HIGHER = /^lib\/(?:io|client|cli|demo|import)\/|^lib\/server\.ts$|^drcm\.ts$/;
const driverImports =
  (impureConfig: Readonly<Record<string, string>>): ImportCheck =>
  (_file, target, spec) => {
    if (EDGE_MODULES.test(spec)) return "edge module import";
    if (DRIVER_HIGHER.test(target)) return "import of an adapter or a higher layer";
    if (target in impureConfig) return "import of an impure config file";
    return null;
  };

const ioImports: ImportCheck = (_file, target) => (target.startsWith("lib/client/") ? "import of lib/client" : null);

/** Comments are prose: "Date.now() of the sender's start" in a doc comment is not a clock read. */
function stripComments(src: string): string {
  let out = "";
  let i = 0;
  let quote: string | null = null;
  while (i < src.length) {
    const c = src[i]!;
    const next = src[i + 1];
    if (quote !== null) {
      out += c;
      if (c === "\\") {
        out += next ?? "";
        i += 2;
        continue;
      }
      if (c === quote) quote = null;
      i++;
      continue;
    }
    if (c === "/" && next === "/") {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && next === "*") {
      const end = src.indexOf("*/", i + 2);
      const body = src.slice(i, end < 0 ? src.length : end + 2);
      out += body.replace(/[^\n]/g, " ");
      i += body.length;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") quote = c;
    out += c;
    i++;
  }
  return out;
}

interface Violation {
  readonly file: string;
  readonly line: number;
  readonly rule: string;
  readonly text: string;
}

/** Every line of `file` (a path relative to `root`) that breaks one of `rules` or imports what `imports` refuses. */
function scanFile(root: string, file: string, rules: readonly Rule[], imports: ImportCheck): Violation[] {
  const src = readFileSync(join(root, file), "utf8");
  const original = src.split("\n");
  const found: Violation[] = [];
  stripComments(src)
    .split("\n")
    .forEach((line, i) => {
      const add = (rule: string) => found.push({ file, line: i + 1, rule, text: original[i]!.trim() });
      for (const r of rules) if (r.pattern.test(line)) add(r.name);
      for (const spec of specifiers(line)) {
        const why = imports(file, resolveSpec(file, spec), spec);
        if (why !== null) add(why);
      }
    });
  return found;
}

/** .ts files under `dir` (relative to `root`), as root-relative paths. */
function sourceFiles(root: string, dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".ts"))
    .map((f) => relative(root, join(root, dir, f)))
    .sort();
}

/** The layer violations of the tree at `root`. */
function layerViolations(root: string, impureConfig: Readonly<Record<string, string>> = IMPURE_CONFIG): Violation[] {
  const pure = [...sourceFiles(root, "lib/core"), ...sourceFiles(root, "lib/wire"), ...sourceFiles(root, "lib/config").filter((f) => !(f in impureConfig))];
  const io = sourceFiles(root, "lib/io");
  const driver = sourceFiles(root, "lib/node");
  return [
    ...pure.flatMap((f) => scanFile(root, f, PURE_RULES, pureImports(impureConfig))),
    ...driver.flatMap((f) => scanFile(root, f, PURE_RULES, driverImports(impureConfig))),
    ...io.flatMap((f) => scanFile(root, f, [], ioImports)),
  ];
}

const show = (v: readonly Violation[]): string[] => v.map((x) => `${x.file}:${x.line}: ${x.rule}: ${x.text}`);

describe("layers", () => {
  test("layerViolations() finds none in lib/core, lib/wire, lib/config, lib/node and lib/io", () => {
    expect(show(layerViolations(ROOT))).toEqual([]);
  });

  test("every exception to the pure config rules names a file that exists", () => {
    const config = new Set(sourceFiles(ROOT, "lib/config"));
    expect(Object.keys(IMPURE_CONFIG).filter((f) => !config.has(f))).toEqual([]);
  });

  test("the layer scan covers the directories it claims to", () => {
    for (const dir of ["lib/core", "lib/wire", "lib/config", "lib/node", "lib/io"]) expect(sourceFiles(ROOT, dir).length).toBeGreaterThan(0);
  });
});

describe("layerViolations() on a tree that breaks the rules", () => {
  const tmp = mkdtempSync(join(tmpdir(), "drcm-layers-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const write = (file: string, text: string): void => {
    mkdirSync(join(tmp, file, ".."), { recursive: true });
    writeFileSync(join(tmp, file), text);
  };
  write(
    "lib/core/bad.ts",
    [
      `import { createSocket } from "node:dgram";`,
      `import { spawn } from "node:child_process";`,
      `import { readFileSync } from "fs";`,
      `import { sleep } from "bun";`,
      `import { AUTH_FAILED } from "../io/control.ts";`,
      `export const t = () => Date.now();`,
      `export const p = () => performance.now();`,
      `export const d = () => new Date();`,
      `export const s = () => setTimeout(() => {}, 1);`,
      `export const b = () => Bun.spawnSync(["true"]);`,
      `export const e = () => process.env.HOME;`,
      `export const l = () => import("node:net");`,
      `import { readAuthKey } from "../config/disk.ts";`,
      `export { runServer } from "../server.ts";`,
    ].join("\n"),
  );
  write(
    "lib/core/fine.ts",
    [
      `// Date.now() and Bun.spawn are only named here, in a comment.`,
      `/** setTimeout( in a doc comment */`,
      `export const at = (now: number): Date => new Date(now);`,
      `export const text = "see http://example.com // not a comment";`,
      `import type { Cluster } from "../config/model.ts";`,
    ].join("\n"),
  );
  write("lib/wire/bad.ts", `import { createConnection } from "node:net";\nexport const i = setInterval(() => {}, 5);\n`);
  write("lib/config/pure.ts", `import { readFile } from "node:fs/promises";\nimport { readAuthKey } from "./disk.ts";\nimport { parse } from "./lexer.ts";\n`);
  write("lib/config/disk.ts", `import { readFile } from "node:fs/promises";\n`);
  write(
    "lib/node/bad.ts",
    [
      `import { openUdp } from "../io/udp.ts";`,
      `import { Core } from "../core/node.ts";`,
      `export const t = () => setInterval(() => {}, 50);`,
      `export const n = () => performance.now();`,
      `import { createSocket } from "node:dgram";`,
    ].join("\n"),
  );
  write("lib/io/bad.ts", `import { AUTH_FAILED } from "../client/protocol.ts";\nimport { readFileSync } from "node:fs";\nconst m = await import("../client/run.ts");\nimport { clock } from "../core/clock.ts";\n`);

  const found = layerViolations(tmp, { "lib/config/disk.ts": "reads files" });
  const at = (file: string) => found.filter((v) => v.file === file).map((v) => `${v.line} ${v.rule}`);

  test("layerViolations() flags Bun.*, edge modules, timers, clocks, process and higher layers in lib/core", () => {
    expect(at("lib/core/bad.ts")).toEqual([
      "1 edge module import",
      "2 edge module import",
      "3 edge module import",
      "4 edge module import",
      "5 import of a higher layer",
      "6 clock",
      "7 clock",
      "8 clock",
      "9 timer",
      "10 Bun.*",
      "11 process",
      "12 edge module import",
      "13 import of an impure config file",
      "14 import of a higher layer",
    ]);
  });

  test("layerViolations() ignores comments, strings and a Date built from a given time", () => {
    expect(at("lib/core/fine.ts")).toEqual([]);
  });

  test("layerViolations() holds lib/wire and pure lib/config to the same rules, not the listed exceptions", () => {
    expect(at("lib/wire/bad.ts")).toEqual(["1 edge module import", "2 timer"]);
    expect(at("lib/config/pure.ts")).toEqual(["1 edge module import", "2 import of an impure config file"]);
    expect(at("lib/config/disk.ts")).toEqual([]);
  });

  test("layerViolations() holds the node driver to injected ports: no adapters, timers, clocks or sockets", () => {
    expect(at("lib/node/bad.ts")).toEqual(["1 import of an adapter or a higher layer", "3 timer", "4 clock", "5 edge module import"]);
  });

  test("layerViolations() flags lib/io importing lib/client, and nothing else there", () => {
    expect(at("lib/io/bad.ts")).toEqual(["1 import of lib/client", "3 import of lib/client"]);
  });
});
