// Value types of cm.cfg (packaging/doc/configuration.md, "File format"), as zod schemas from the written text to typed values.
// 1.x parsed numbers like C atoi ("12abc" -> 12, "fast" -> 0); drcm rejects junk with a message.
import { z } from "zod";

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "50ms", "1s", "1.5s", "2m"; a bare number means seconds. Null when not a duration. */
export function parseDurationMs(text: string): number | null {
  const m = DURATION.exec(text.trim());
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? "s"]!;
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

/** Milliseconds as the shortest exact duration text: 50ms, 800ms, 5s, 2m. */
export function formatMs(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms >= 1000) return `${ms / 1000}s`;
  if (ms >= 1000 && (ms / 1000) * 10 === Math.round(ms / 100)) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function durationSchema(zeroOk: boolean) {
  return z.string().transform((s, ctx) => {
    const ms = parseDurationMs(s);
    if (ms === null || (ms <= 0 && !zeroOk)) {
      ctx.addIssue({
        code: "custom",
        message: `expected a ${zeroOk ? "" : "non-zero "}duration like "50ms", "1s", "1.5s" or "2m" (a bare number means seconds)`,
      });
      return z.NEVER;
    }
    return ms;
  });
}

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `expected a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `expected a whole number from ${min} to ${max}`).max(max, `expected a whole number from ${min} to ${max}`));

export const schemas = {
  port: wholeNumber(1, 65535),
  positiveInt: wholeNumber(1, 2_147_483_647),
  nonNegativeInt: wholeNumber(0, 2_147_483_647),
  maxLogSize: wholeNumber(1, 2_000_000_000),
  duration: durationSchema(false),
  durationOrZero: durationSchema(true),
  quorum: z.enum(["majority", "none"], { error: 'expected "majority" or "none"' }),
  ipv4: z.string().refine((s) => isIPv4(s), "expected an IPv4 address like 192.168.1.10"),
  nonEmpty: z.string().min(1, "expected a value"),
};

/** Runs a schema on one written value: the typed value, or the reason it is not one. */
export function parseWith<T>(schema: z.ZodType<T, string>, text: string): { ok: true; value: T } | { ok: false; reason: string } {
  const r = schema.safeParse(text);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, reason: r.error.issues[0]?.message ?? "invalid value" };
}

const TRUE_WORDS = new Set(["TRUE", "T", "YES", "Y"]);
const FALSE_WORDS = new Set(["FALSE", "F", "NO", "N"]);

/** 1.x bool: the words, else an integer >= 1. `recognized` is false for text that is neither (1.x read it as 0). */
export function parseBool(text: string): { value: boolean; recognized: boolean } {
  const u = text.trim().toUpperCase();
  if (TRUE_WORDS.has(u)) return { value: true, recognized: true };
  if (FALSE_WORDS.has(u)) return { value: false, recognized: true };
  if (/^-?\d+$/.test(u)) return { value: Number(u) >= 1, recognized: true };
  const lead = /^\d+/.exec(u);
  return { value: lead !== null && Number(lead[0]) >= 1, recognized: false };
}

/** node_* lists: spaces removed, empty items dropped. */
export function splitList(text: string): string[] {
  return text
    .replace(/\s+/g, "")
    .split(",")
    .filter((s) => s !== "");
}

/** CSV fields of a resource line; `\,` is a literal comma inside a field. Fields are trimmed. */
export function splitCsv(text: string): string[] {
  const fields: string[] = [];
  let cur = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "\\" && text[i + 1] === ",") {
      cur += ",";
      i++;
    } else if (ch === ",") {
      fields.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  fields.push(cur.trim());
  return fields;
}

export function isIPv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** Dotted mask with contiguous ones (255.255.255.0) or a prefix length 1..32. */
export function isNetmask(s: string): boolean {
  if (/^\d{1,2}$/.test(s)) return Number(s) >= 1 && Number(s) <= 32;
  if (!isIPv4(s)) return false;
  const n = s.split(".").reduce((acc, p) => acc * 256 + Number(p), 0);
  if (n === 0) return false;
  const inverted = 0xffffffff - n;
  return (inverted & (inverted + 1)) === 0;
}

/** A keep_alive_ip may be an IPv4 address or a resolvable host name. */
export function isHostOrIPv4(s: string): boolean {
  if (/^[\d.]+$/.test(s)) return isIPv4(s);
  return /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(s);
}
