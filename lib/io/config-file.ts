// Why a config file cannot be opened, in the words of the real cause: a file in a directory this user
// cannot enter is "permission denied", not "not found" (existsSync says false for both).
import { statSync } from "node:fs";
import { errorMessage } from "../error.ts";

export type ConfigFileProblem = { missing: true; message: string } | { missing: false; message: string };

export function configFileProblem(file: string): ConfigFileProblem | null {
  try {
    statSync(file);
    return null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { missing: true, message: `Config file not found ${file}` };
    if (code === "EACCES")
      return {
        missing: false,
        message: `Cannot read config file ${file}: permission denied (the file or a directory on its path is not readable by ${process.geteuid?.() === 0 ? "root" : "this user"}; run as root or as cluster_user)`,
      };
    return { missing: false, message: `Cannot read config file ${file}: ${errorMessage(e)}` };
  }
}
