// Issue 16: cm.cfg(5), packaging/cm.cfg.5, is generated from the key tables of lib/config/keys.ts
// (lib/config/keys-man.ts, written by packaging/gen-docs.ts), names every key and every field of the
// resource sections as the parser knows them, and renders with man/groff without a warning.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NODE_KEYS, SERVER_KEYS } from "../../lib/config/keys.ts";
import { cmCfgManPage, RESOURCE_FIELDS, RESOURCE_SECTION_ORDER, resourceFormat } from "../../lib/config/keys-man.ts";
import { parseClusterText } from "../../lib/config/load.ts";
import { KIND_INFO, RESOURCE_KINDS } from "../../lib/config/model.ts";

const ROOT = join(import.meta.dir, "..", "..");
const PAGE = join(ROOT, "packaging/cm.cfg.5");
const generated = cmCfgManPage();
const man = Bun.which("man");
const groff = Bun.which("groff");

/** The page as man shows it, without warnings captured (stderr is returned apart). */
function render(file: string, width: number): { out: string; err: string; code: number } {
  const r = Bun.spawnSync([man!, "--warnings", "-l", file], { env: { ...process.env, MANWIDTH: String(width), MAN_KEEP_FORMATTING: "", MANPAGER: "cat", PAGER: "cat", LANG: "C.UTF-8" }, stdout: "pipe", stderr: "pipe" });
  return { out: r.stdout.toString(), err: r.stderr.toString(), code: r.exitCode };
}

/** The .TP entry of a key: its tag line is `\fBkey\fR` with the default, if any. */
const tagOf = (key: string): RegExp => new RegExp(`^\\.TP\\n\\\\fB${key}\\\\fR(?: = \\\\fI[^\\n]*\\\\fR)?\\n`, "m");

describe("cm.cfg(5)", () => {
  test("the committed packaging/cm.cfg.5 is the generated page (else: bun packaging/gen-docs.ts)", () => {
    expect(readFileSync(PAGE, "utf8")).toBe(generated);
  });

  test("NAME, SYNOPSIS, DESCRIPTION, the sections, FILES and SEE ALSO drcm(8)", () => {
    expect(generated).toMatch(/^\.TH CM\.CFG 5 /m);
    const heads = [...generated.matchAll(/^\.SH (.*)$/gm)].map((m) => m[1]);
    expect(heads).toEqual(["NAME", "SYNOPSIS", "DESCRIPTION", "RELOAD", "EXAMPLE", "FILES", "SEE ALSO"]);
    const subs = [...generated.matchAll(/^\.SS (.*)$/gm)].map((m) => m[1]);
    expect(subs).toEqual(["File format", "[CM_SERVER]", "[CM_NODE]", "Resource sections"]);
    expect(generated).toMatch(/\.SH SEE ALSO\n\.BR drcm \(8\)\n$/);
    expect(generated).toContain(".I /etc/drcm/cm.cfg");
  });

  test("every key of the tables has its own .TP entry, in table order, with its default and its reload rule", () => {
    for (const [section, keys] of [
      ["[CM_SERVER]", SERVER_KEYS],
      ["[CM_NODE]", NODE_KEYS],
    ] as const) {
      const start = generated.indexOf(`.SS ${section}\n`);
      const end = generated.indexOf("\n.SS ", start + 1);
      const block = generated.slice(start, end);
      let at = 0;
      for (const k of keys) {
        const m = tagOf(k.key).exec(block.slice(at));
        expect(m, `${section} ${k.key}`).not.toBeNull();
        const tag = m![0];
        if (k.def !== "") expect(tag).toContain(` = \\fI${k.def.replaceAll("-", "\\-")}\\fR`);
        else expect(tag).not.toContain(" = ");
        at += m!.index + tag.length;
        const body = block.slice(at, block.indexOf("\n.TP", at) < 0 ? undefined : block.indexOf("\n.TP", at));
        expect(body).toContain(k.reload === "live" ? "A reload applies a change." : "refused (restart needed)");
        if (k.added) expect(body).toContain("New in drcm 2");
        if (k.ignored) expect(body).toContain("no effect in drcm 2");
      }
      expect(block.match(/^\.TP$/gm)?.length).toBe(keys.length);
    }
  });

  test("every resource section is described with the fields the parser expects", () => {
    expect([...RESOURCE_SECTION_ORDER].sort()).toEqual([...RESOURCE_KINDS].sort());
    const text = RESOURCE_SECTION_ORDER.map((k) => `[${KIND_INFO[k].section}]\nx\n`).join("");
    const { findings } = parseClusterText(`[CM_SERVER]\n${text}[CM_NODE]\nnodename = a\nhostname = a\nkeep_alive_ip = 127.0.0.1\n`, "/nonexistent/cm.cfg");
    for (const k of RESOURCE_SECTION_ORDER) {
      const section = KIND_INFO[k].section;
      const msg = findings.find((f) => f.message.startsWith(`[${section}] missing or extra values`))?.message;
      expect(msg, section).toBeDefined();
      expect(/\(expected (.*); got/.exec(msg!)?.[1]).toBe(resourceFormat(k));
      expect(generated).toContain(`.B [${section}]\n`);
      for (const f of RESOURCE_FIELDS[k].fields) expect(generated).toContain(`.I ${f.name}\n`);
    }
  });

  test("roff: no line of running text starts with . or ' unless it is a request, no raw tab or non-ASCII", () => {
    for (const l of generated.split("\n")) {
      if (/^[.']/.test(l)) expect(l).toMatch(/^(?:\.\\"|\.(?:TH|SH|SS|TP|PP|B|I|BR|BI|IR|RS|RE|br|sp|nf|fi|ft)(?: |$))/);
      expect(l).not.toContain("\t");
    }
    expect(/[^\x00-\x7f]/.test(generated)).toBe(false);
  });

  test.skipIf(man === null || groff === null)("man -l renders it without a warning at 80 and 200 columns", () => {
    for (const width of [80, 200]) {
      const r = render(PAGE, width);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      expect(r.out).toContain("cm.cfg - configuration file of the drcm cluster manager");
      for (const k of [...SERVER_KEYS, ...NODE_KEYS]) expect(r.out).toContain(k.key);
      expect(r.out).toContain("drcm(8)");
    }
    // The warning check works: a page with an unknown macro is reported.
    const dir = mkdtempSync(join(tmpdir(), "drcm-man-"));
    try {
      writeFileSync(join(dir, "bad.5"), ".TH X 5\n.SH NAME\nx \\- y\n.FOO bar\n");
      expect(render(join(dir, "bad.5"), 80).err).toContain("warning");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

if (man === null || groff === null) console.log("skipping the man rendering check of cm.cfg(5): man or groff is not installed");
