// What was thrown, as text for a message. A `catch (e)` may hold anything, not only an Error.

export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The errno code of a failed system call (ENOENT, EACCES, ...), or undefined when `e` has none. */
export function errnoCode(e: unknown): string | undefined {
  const code = e !== null && typeof e === "object" && "code" in e ? e.code : undefined;
  return typeof code === "string" ? code : undefined;
}

const UNREADABLE: Readonly<Record<string, string>> = {
  ENOENT: "it does not exist",
  EISDIR: "it is a directory",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOTDIR: "a part of its path is not a directory",
};

/** Why a file cannot be read, in words rather than errno text ("EISDIR: illegal operation..."). */
export const unreadableReason = (e: unknown): string => UNREADABLE[errnoCode(e) ?? ""] ?? errorMessage(e);
