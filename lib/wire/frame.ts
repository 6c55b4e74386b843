// Length-prefixed frames for the TCP control channel: 4-byte big-endian length, then the bytes.
// The reader refuses a length over the limit as soon as it sees the prefix, so a client (or a port
// scanner) can never make the server buffer more than MAX_FRAME_BYTES.

export const MAX_FRAME_BYTES = 4 * 1024 * 1024;
const PREFIX_BYTES = 4;

export function frame(bytes: Uint8Array): Uint8Array {
  if (bytes.length > MAX_FRAME_BYTES) {
    throw new Error(`Cannot frame ${bytes.length} bytes: over the ${MAX_FRAME_BYTES}-byte control frame limit`);
  }
  const out = new Uint8Array(PREFIX_BYTES + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length, false);
  out.set(bytes, PREFIX_BYTES);
  return out;
}

export type FramePush = { ok: true; frames: Uint8Array[] } | { ok: false; reason: "oversize" };

/** Feed it stream chunks in order; it hands back each complete frame once. */
export class FrameReader {
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #failed = false;

  constructor(readonly maxFrameBytes: number = MAX_FRAME_BYTES) {}

  /** Bytes received but not yet part of a complete frame. */
  get buffered(): number {
    return this.#buffered;
  }

  /** After "oversize" the stream is out of step for good: every later push fails too. */
  push(chunk: Uint8Array): FramePush {
    if (this.#failed) return { ok: false, reason: "oversize" };
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.#buffered < PREFIX_BYTES) break;
      const length = this.#peekLength();
      if (length > this.maxFrameBytes) {
        this.#failed = true;
        this.#chunks = [];
        this.#buffered = 0;
        return { ok: false, reason: "oversize" };
      }
      if (this.#buffered < PREFIX_BYTES + length) break;
      const all = this.#take(PREFIX_BYTES + length);
      frames.push(all.subarray(PREFIX_BYTES));
    }
    return { ok: true, frames };
  }

  #peekLength(): number {
    const head = this.#chunks[0]!.length >= PREFIX_BYTES ? this.#chunks[0]! : this.#join();
    return new DataView(head.buffer, head.byteOffset, PREFIX_BYTES).getUint32(0, false);
  }

  /** Merges the pending chunks into one (only when a prefix or a frame spans chunks). */
  #join(): Uint8Array {
    if (this.#chunks.length === 1) return this.#chunks[0]!;
    const joined = new Uint8Array(this.#buffered);
    let at = 0;
    for (const c of this.#chunks) {
      joined.set(c, at);
      at += c.length;
    }
    this.#chunks = [joined];
    return joined;
  }

  #take(n: number): Uint8Array {
    const all = this.#join();
    const taken = all.slice(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    return taken;
  }
}
