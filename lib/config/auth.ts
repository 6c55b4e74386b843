// The shared secret: <etcDir>/.auth/authkey (HMAC key of every message) and authkey.sha1
// (the 1.x token, 40 hex characters of sha1sum). Keys made with the manual's dd/sha1sum recipe work as they are.
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { errnoCode, unreadableReason } from "../error.ts";

export interface AuthPaths {
  readonly dir: string;
  readonly key: string;
  readonly sha1: string;
}

export function authPaths(etcDir: string): AuthPaths {
  const dir = join(etcDir, ".auth");
  return { dir, key: join(dir, "authkey"), sha1: join(dir, "authkey.sha1") };
}

/** Why the key cannot be used, in parts, so the client can give its own advice after `why`. */
export interface AuthKeyProblem {
  /** The whole message, with the advice for --check-config. */
  readonly error: string;
  readonly path: string;
  /** "it does not exist", "permission denied", "the file is empty", ... */
  readonly why: string;
  readonly empty: boolean;
}

/** The key bytes, or why they cannot be used. Permissions are checked by checks.ts and the server. */
export function readAuthKey(etcDir: string): { key: Uint8Array } | AuthKeyProblem {
  const p = authPaths(etcDir).key;
  let key: Uint8Array;
  try {
    key = new Uint8Array(readFileSync(p));
  } catch (e) {
    const code = errnoCode(e);
    const why = unreadableReason(e);
    return { error: `Cannot read auth key ${p}: ${why}${code === "ENOENT" ? " (create it with drcm --keygen)" : ""}`, path: p, why, empty: false };
  }
  if (key.length === 0)
    return { error: `Cannot use auth key ${p}: the file is empty (create it with drcm --keygen --force)`, path: p, why: "the file is empty", empty: true };
  return { key };
}

/** The client's one-line local error: the key is a node's problem, not the cluster's. */
export const clientKeyError = (p: AuthKeyProblem): string =>
  /permission denied/i.test(p.why)
    ? // The key exists: --keygen would replace the cluster's key. Reading it needs root (mode 0600).
      `Cannot read auth key ${p.path}: ${p.why}: run the client as root (or with sudo); the key is readable by its owner only`
    : `${p.empty ? "Cannot use" : "Cannot read"} auth key ${p.path}: ${p.why}: run drcm --keygen${p.empty ? " --force" : ""}, then copy .auth to every node`;

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
