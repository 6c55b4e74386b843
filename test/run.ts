// `npm test`: every test ring this machine can run, each in its own `bun test` process, then one
// plain summary line `N passed, N failed` for CI. Rings:
//   unit, sim           always
//   integration         always (real drcm processes on 127.0.0.x; needs the compiled binary)
//   netns               only as root with ip/iptables/arping present (test files skip themselves otherwise)
// `npm test -- unit sim` runs only the named rings.
import { $ } from "bun";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const all = ["unit", "sim", "integration", "netns"];
const wanted = process.argv.slice(2).filter((a) => all.includes(a));
const rings = wanted.length > 0 ? wanted : all;

const hasTests = (dir: string): boolean =>
  existsSync(dir) && readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith(".test.ts"));

let passed = 0;
let failed = 0;
let skipped = 0;
const failedRings: string[] = [];

if (rings.some((r) => r === "integration" || r === "netns")) {
  process.stdout.write("== building dist/drcm\n");
  // The binary embeds resources/ and packaging/ files: refresh the manifest first.
  await $`bun packaging/gen-embedded.ts`.cwd(root).nothrow().quiet();
  const b = await $`bun build --compile --no-compile-autoload-dotenv --no-compile-autoload-bunfig drcm.ts --outfile dist/drcm`
    .cwd(root)
    .nothrow()
    .quiet();
  if (b.exitCode !== 0) {
    process.stdout.write(b.stderr.toString());
    process.stdout.write("build failed\n");
    failed++;
  }
}

for (const ring of rings) {
  const dir = join(root, "test", ring);
  if (!hasTests(dir)) continue;
  process.stdout.write(`\n== ring ${ring}\n`);
  const proc = Bun.spawn(["bun", "test", "--timeout", ring === "netns" ? "180000" : "60000", `./test/${ring}/`], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, DRCM_BIN: join(root, "dist/drcm"), FORCE_COLOR: "0" },
  });
  let text = "";
  const pump = async (s: ReadableStream<Uint8Array>, out: NodeJS.WriteStream) => {
    const dec = new TextDecoder();
    for await (const chunk of s) {
      const t = dec.decode(chunk, { stream: true });
      text += t;
      out.write(t);
    }
  };
  await Promise.all([pump(proc.stdout, process.stdout), pump(proc.stderr, process.stdout)]);
  const code = await proc.exited;
  const num = (re: RegExp): number => Number(text.match(re)?.[1] ?? 0);
  const p = num(/^\s*(\d+) pass\s*$/m);
  const f = num(/^\s*(\d+) fail\s*$/m);
  const s = num(/^\s*(\d+) skip\s*$/m);
  passed += p;
  failed += f;
  skipped += s;
  if (code !== 0 && f === 0) failed++; // a crash or a file that failed to load counts too
  if (code !== 0) failedRings.push(ring);
}

if (failedRings.length > 0) process.stdout.write(`\nfailing rings: ${failedRings.join(", ")}\n`);
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}\n`);
process.exit(failed > 0 ? 1 : 0);
