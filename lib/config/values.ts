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
  alertOn: z.enum(["one", "all"], { error: 'expected "one" or "all"' }),
  httpBind: z.enum(["keep_alive_ip", "localhost", "all"], { error: 'expected "keep_alive_ip", "localhost" or "all"' }),
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

/** Dotted quad, no leading zeros: iproute2 and inet_aton read "010.0.0.8" as octal (8.0.0.8). */
export function isIPv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

/** An IPv6 address in any RFC 4291 text form (compressed, or with an embedded IPv4 tail); no zone, no prefix. */
export function isIPv6(s: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || s.length > 45) return false;
  let groups = 8;
  let text = s;
  // An embedded IPv4 tail (::ffff:192.0.2.1) stands for the last two groups.
  const lastColon = s.lastIndexOf(":");
  if (s.includes(".")) {
    if (!isIPv4(s.slice(lastColon + 1))) return false;
    text = s.slice(0, lastColon + 1) + "0";
    groups = 7;
  }
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const part = (h: string): string[] | null => {
    if (h === "") return [];
    const g = h.split(":");
    return g.every((x) => /^[0-9A-Fa-f]{1,4}$/.test(x)) ? g : null;
  };
  const head = part(halves[0]!);
  if (head === null) return false;
  if (halves.length === 1) return head.length === groups;
  const tail = part(halves[1]!);
  return tail !== null && head.length + tail.length < groups;
}

export const isIP = (s: string): boolean => isIPv4(s) || isIPv6(s);

/** Dotted mask with contiguous ones (255.255.255.0) or a prefix length 1..32. */
export function isNetmask(s: string): boolean {
  if (/^\d{1,2}$/.test(s)) return Number(s) >= 1 && Number(s) <= 32;
  if (!isIPv4(s)) return false;
  const n = s.split(".").reduce((acc, p) => acc * 256 + Number(p), 0);
  if (n === 0) return false;
  const inverted = 0xffffffff - n;
  return (inverted & (inverted + 1)) === 0;
}

/** A keep_alive_ip may be an IPv4 or IPv6 address or a resolvable host name. */
export function isHostOrIP(s: string): boolean {
  if (s.includes(":")) return isIPv6(s);
  if (/^[\d.]+$/.test(s)) return isIPv4(s);
  return /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(s);
}
