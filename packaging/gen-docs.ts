// Rewrites the generated parts of the documentation from the code's tables: `bun packaging/gen-docs.ts`.
// configuration.md (key tables), status.schema.json and the cm.cfg(5) man page packaging/cm.cfg.5.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { withKeyTables } from "../lib/config/keys-doc.ts";
import { cmCfgManPage } from "../lib/config/keys-man.ts";
import { statusJsonSchemaText } from "../lib/client/render-json.ts";

const file = join(import.meta.dir, "doc/configuration.md");
const before = readFileSync(file, "utf8");
const after = withKeyTables(before);
if (after !== before) writeFileSync(file, after);
console.log(after === before ? `${file}: up to date` : `${file}: key tables rewritten`);

const schemaFile = join(import.meta.dir, "doc/status.schema.json");
const schemaBefore = (() => {
  try {
    return readFileSync(schemaFile, "utf8");
  } catch {
    return "";
  }
})();
const schemaAfter = statusJsonSchemaText();
if (schemaAfter !== schemaBefore) writeFileSync(schemaFile, schemaAfter);
console.log(schemaAfter === schemaBefore ? `${schemaFile}: up to date` : `${schemaFile}: rewritten from statusJsonSchema`);

const manFile = join(import.meta.dir, "cm.cfg.5");
const manBefore = (() => {
  try {
    return readFileSync(manFile, "utf8");
  } catch {
    return "";
  }
})();
const manAfter = cmCfgManPage();
if (manAfter !== manBefore) writeFileSync(manFile, manAfter);
console.log(manAfter === manBefore ? `${manFile}: up to date` : `${manFile}: rewritten from the key tables`);
