// The shared secret: <etcDir>/.auth/authkey (HMAC key of every message) and authkey.sha1
// (the 1.x token, 40 hex characters of sha1sum). Keys made with the manual's dd/sha1sum recipe work as they are.
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";

export interface AuthPaths {
  readonly dir: string;
  readonly key: string;
  readonly sha1: string;
}

export function authPaths(etcDir: string): AuthPaths {
  const dir = join(etcDir, ".auth");
  return { dir, key: join(dir, "authkey"), sha1: join(dir, "authkey.sha1") };
}

/** The key bytes, or why they cannot be used. Permissions are checked by checks.ts and the server. */
export function readAuthKey(etcDir: string): { key: Uint8Array } | { error: string } {
  const p = authPaths(etcDir).key;
  let key: Uint8Array;
  try {
    key = new Uint8Array(readFileSync(p));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "it does not exist (create it with drcm --keygen)" : code === "EACCES" ? "permission denied" : (e as Error).message;
    return { error: `Cannot read auth key ${p}: ${why}` };
  }
  if (key.length === 0) return { error: `Cannot use auth key ${p}: the file is empty (create it with drcm --keygen --force)` };
  return { key };
}

/** First 40 characters of `sha1sum authkey`, as the manual writes into authkey.sha1. */
export const keyToken = (key: Uint8Array): string => createHash("sha1").update(key).digest("hex");

/** Mode bits readable by group or others, or null when the file is private (or missing). */
export function groupOrOtherBits(path: string): number | null {
  try {
    const mode = statSync(path).mode & 0o077;
    return mode === 0 ? null : mode;
  } catch {
    return null;
  }
}
