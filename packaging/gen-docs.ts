// Rewrites the generated parts of the documentation from the code's tables: `bun packaging/gen-docs.ts`.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { withKeyTables } from "../lib/config/keys-doc.ts";

const file = join(import.meta.dir, "doc/configuration.md");
const before = readFileSync(file, "utf8");
const after = withKeyTables(before);
if (after !== before) writeFileSync(file, after);
console.log(after === before ? `${file}: up to date` : `${file}: key tables rewritten`);
