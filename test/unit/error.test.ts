import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { errnoCode, errorMessage, unreadableReason } from "../../lib/error.ts";

const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("nothing thrown");
};

describe("error helpers", () => {
  test("errorMessage() gives an Error's message and the text of anything else thrown", () => {
    expect(errorMessage(new Error("Disk full"))).toBe("Disk full");
    expect(errorMessage("plain text")).toBe("plain text");
    expect(errorMessage(undefined)).toBe("undefined");
  });

  test("errnoCode() reads the code of a failed system call and nothing else", () => {
    expect(errnoCode(thrown(() => readFileSync("/nonexistent/drcm")))).toBe("ENOENT");
    expect(errnoCode(new Error("no code"))).toBeUndefined();
    expect(errnoCode({ code: 5 })).toBeUndefined();
    expect(errnoCode(null)).toBeUndefined();
  });

  test("unreadableReason() words the common errno codes and falls back to the message", () => {
    expect(unreadableReason(thrown(() => readFileSync("/nonexistent/drcm")))).toBe("it does not exist");
    expect(unreadableReason(thrown(() => readFileSync("/")))).toBe("it is a directory");
    expect(unreadableReason(new Error("Something else"))).toBe("Something else");
  });
});
