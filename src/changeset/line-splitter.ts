// Splits a byte stream into lines on byte 0x0A, holding at most one line (up to maxLineBytes) in memory.
// Lines are cut on bytes, never on decoded text, so a UTF-8 character split across chunks stays whole.
// The events carry every byte of the input exactly once, in order, so a consumer can hash the file from them.

/** A whole file in memory, or its bytes as a stream of chunks (e.g. a file read stream). */
export type ByteSource = Uint8Array | AsyncIterable<Uint8Array>;

export type LineEvent =
  /**
   * A line of at most maxLineBytes (the newline excluded). `bytes` ends with the newline iff `terminated`;
   * only the last line of the input can be unterminated. `bytes` may be a view into the source's chunk:
   * use it before pulling the next event.
   */
  | {
      readonly kind: "line";
      readonly start: number;
      readonly bytes: Uint8Array;
      readonly terminated: boolean;
    }
  /** Raw bytes of an over-long line, passed through (for hashing) rather than buffered. */
  | { readonly kind: "skipped"; readonly bytes: Uint8Array }
  /** An over-long line is over: its `skipped` events came before. `end` is just after its newline, if any. */
  | { readonly kind: "long"; readonly start: number; readonly end: number; readonly terminated: boolean };

const NEWLINE = 0x0a;

export async function* chunksOf(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield source;
    return;
  }
  for await (const chunk of source) yield chunk;
}

// Partial lines are kept across chunks, so they are copied: a source may reuse its buffers.
function copyOf(view: Uint8Array): Uint8Array {
  const copy = new Uint8Array(view.length);
  copy.set(view);
  return copy;
}

function concat(pieces: readonly Uint8Array[], last: Uint8Array): Uint8Array {
  if (pieces.length === 0) return last;
  let length = last.length;
  for (const piece of pieces) length += piece.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  out.set(last, at);
  return out;
}

/**
 * Yields the lines of `source`. Offsets are absolute: `baseOffset` is the offset of the source's first byte
 * in the file (when a read resumes mid-file).
 */
export async function* splitLines(
  source: ByteSource,
  maxLineBytes: number,
  baseOffset = 0,
): AsyncGenerator<LineEvent> {
  let pieces: Uint8Array[] = [];
  let pendingLength = 0;
  let lineStart = baseOffset;
  let chunkStart = baseOffset;
  let skipping = false;
  for await (const chunk of chunksOf(source)) {
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, pos);
      if (skipping) {
        if (nl === -1) {
          yield { kind: "skipped", bytes: chunk.subarray(pos) };
          break;
        }
        yield { kind: "skipped", bytes: chunk.subarray(pos, nl + 1) };
        yield { kind: "long", start: lineStart, end: chunkStart + nl + 1, terminated: true };
        skipping = false;
        lineStart = chunkStart + nl + 1;
        pos = nl + 1;
        continue;
      }
      const contentEnd = nl === -1 ? chunk.length : nl;
      if (pendingLength + (contentEnd - pos) > maxLineBytes) {
        // Too long to accept: hand over what was buffered and pass the rest through until the newline.
        for (const piece of pieces) yield { kind: "skipped", bytes: piece };
        pieces = [];
        pendingLength = 0;
        skipping = true;
        continue;
      }
      if (nl === -1) {
        pieces.push(copyOf(chunk.subarray(pos)));
        pendingLength += chunk.length - pos;
        break;
      }
      const bytes = concat(pieces, chunk.subarray(pos, nl + 1));
      pieces = [];
      pendingLength = 0;
      yield { kind: "line", start: lineStart, bytes, terminated: true };
      lineStart = chunkStart + nl + 1;
      pos = nl + 1;
    }
    chunkStart += chunk.length;
  }
  if (skipping) {
    yield { kind: "long", start: lineStart, end: chunkStart, terminated: false };
  } else if (pendingLength > 0) {
    yield { kind: "line", start: lineStart, bytes: concat(pieces, new Uint8Array(0)), terminated: false };
  }
}
