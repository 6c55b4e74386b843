// The key tables of packaging/doc/configuration.md, written from keys.ts (a unit test keeps the
// document equal to this output; `bun packaging/gen-docs.ts` rewrites it).
import { NODE_KEYS, SERVER_KEYS, type KeyDoc } from "./keys.ts";

const RELOAD_WORD: Record<KeyDoc["reload"], string> = { live: "live", restart: "**restart**" };

function table(keys: readonly KeyDoc[]): string {
  const rows = keys.map((k) => `| \`${k.key}\` | ${k.def === "" ? "—" : `\`${k.def}\``} | ${RELOAD_WORD[k.reload]} | ${k.added ? "**new** " : ""}${k.doc.replaceAll("|", "\\|")} |`);
  return ["| Key | Default | Reload | Meaning |", "|---|---|---|---|", ...rows].join("\n");
}

export const KEY_TABLES_BEGIN = "<!-- key tables: generated from lib/config/keys.ts by packaging/gen-docs.ts -->";
export const KEY_TABLES_END = "<!-- end of key tables -->";

export function keyTablesMarkdown(): string {
  return [KEY_TABLES_BEGIN, "", "### [CM_SERVER]", "", table(SERVER_KEYS), "", "### [CM_NODE]", "", table(NODE_KEYS), "", KEY_TABLES_END].join("\n");
}

/** `doc` with its generated block replaced by the current tables. */
export function withKeyTables(doc: string): string {
  const a = doc.indexOf(KEY_TABLES_BEGIN);
  const b = doc.indexOf(KEY_TABLES_END);
  if (a < 0 || b < a) throw new Error("configuration.md has no generated key-table block");
  return doc.slice(0, a) + keyTablesMarkdown() + doc.slice(b + KEY_TABLES_END.length);
}
