// Values of the resource sections that drcm passes to a resource script as one argument each
// (lib/io/agents.ts quotes them): names and paths, never shell text. Only the programs of
// [CM_APPLICATIONS] are shell text. A shell metacharacter where a name is expected is an error,
// so a value like `httpd$(touch x)` is refused by --check-config and at start instead of being
// handed literally to an agent (or, as in 1.x, run by /bin/sh as root).

/** Characters that mean something to /bin/sh (plus whitespace): never part of a name. */
const SHELL_META = new Set([..."$`;&|<>()'\"*?[]{}~!#\\", " ", "\t", "\n", "\r"]);

/**
 * 1.x pasted values into `sh -c`, so `'ens192|eno8303'` reached the agent as ens192|eno8303: one
 * surrounding pair of matching quotes (single or double) is removed, the rest of the value is
 * literal. Used by the config check and by the agent command lines alike.
 */
export function stripOuterQuotes(value: string): string {
  if (value.length >= 2) {
    const q = value[0]!;
    if ((q === "'" || q === '"') && value.endsWith(q) && !value.slice(1, -1).includes(q)) return value.slice(1, -1);
  }
  return value;
}

const shown = (c: string): string => (c === "\n" ? "\\n" : c === "\t" ? "\\t" : c === "\r" ? "\\r" : c);

/** One value's rule: which characters it may hold and how to say so. */
interface NameRule {
  /** true: the character may appear. */
  readonly allowed: (c: string) => boolean;
  /** The end of the message: what the value should look like. */
  readonly expected: string;
}

const NAME_CHARS = /^[A-Za-z0-9._@-]$/;
const byClass =
  (re: RegExp) =>
  (c: string): boolean =>
    re.test(c);
const notMeta =
  (except = "") =>
  (c: string): boolean =>
    !SHELL_META.has(c) || except.includes(c);

const RULES = {
  nickname: { allowed: notMeta(), expected: `a nickname must not contain spaces, ":" or shell metacharacters ($ \` ; & | < > ( ) quotes * ? [ ] { } ~ ! # \\)` },
  service_name: { allowed: byClass(/^[A-Za-z0-9._@:-]$/), expected: "a service name is letters, digits and . _ @ - :" },
  interface: { allowed: byClass(/^[A-Za-z0-9._@:-]$/), expected: "an interface name is letters, digits and . _ @ - : (several separated by |, e.g. 'ens192|eno8303')" },
  user: { allowed: byClass(NAME_CHARS), expected: "a user name is letters, digits and . _ @ -" },
  group: { allowed: byClass(NAME_CHARS), expected: "a group name is letters, digits and . _ @ -" },
  // IPv6 NFS servers are written [fd00::1]:/export.
  source: { allowed: notMeta("[]"), expected: "a mount source is a device, host:/dir or //host/share without shell metacharacters" },
  path: { allowed: notMeta(), expected: "a path must not contain shell metacharacters ($ ` ; & | < > ( ) quotes * ? [ ] { } ~ ! # \\)" },
} satisfies Record<string, NameRule>;

export type NameKind = keyof typeof RULES;

/**
 * Why `value` (the cm.cfg field `key`, outer quotes already removed) is not a valid `kind`, or
 * null. The message names the field, the value and the first offending character.
 */
export function nameProblem(kind: NameKind, key: string, value: string): string | null {
  const rule: NameRule = RULES[kind];
  if (kind === "interface") {
    const parts = value.split("|");
    if (parts.some((p) => p === "")) return `${key} "${value}" has an empty name in its | list; ${rule.expected}`;
  }
  for (const c of value) {
    if (kind === "interface" && c === "|") continue;
    if (rule.allowed(c)) continue;
    const what = SHELL_META.has(c) ? "a shell metacharacter" : "the character";
    const tilde = c === "~" && kind !== "nickname" ? " (~ is not expanded: write the full path)" : "";
    return `${key} "${value}" contains ${what} "${shown(c)}"${tilde}; ${rule.expected}`;
  }
  return null;
}
