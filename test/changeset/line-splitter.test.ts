// The byte-level line splitter: lines cut on 0x0A whatever the chunking, over-long lines passed through.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type LineEvent, splitLines } from "../../src/changeset/line-splitter.js";

async function* chunks(bytes: Uint8Array, cuts: readonly number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    yield bytes.slice(at, cut);
    at = cut;
  }
  yield bytes.slice(at);
}

async function events(source: AsyncIterable<Uint8Array> | Uint8Array, max: number, base = 0) {
  const out: LineEvent[] = [];
  for await (const event of splitLines(source, max, base)) {
    // Copy: a line's bytes may be a view into the chunk.
    out.push(event.kind === "long" ? event : { ...event, bytes: event.bytes.slice() });
  }
  return out;
}

describe("splitLines", () => {
  it("reproduces every byte once and cuts exactly at newlines, whatever the chunking (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: "binary", maxLength: 12 }), { maxLength: 8 }),
        fc.boolean(),
        fc.array(fc.nat(200)),
        fc.integer({ min: 0, max: 14 }),
        async (parts, trailingNewline, rawCuts, max) => {
          const text = parts.join("\n") + (trailingNewline && parts.length > 0 ? "\n" : "");
          const bytes = new TextEncoder().encode(text);
          const cuts = rawCuts.map((c) => c % (bytes.length + 1));
          const got = await events(chunks(bytes, cuts), max, 1000);
          const joined = Buffer.concat(got.flatMap((e) => (e.kind === "long" ? [] : [e.bytes])));
          expect(joined.equals(Buffer.from(bytes))).toBe(true);
          // Expected lines from a plain split on "\n" (on bytes: the newline byte never occurs inside UTF-8).
          const expected: { start: number; length: number; terminated: boolean }[] = [];
          let start = 0;
          while (start < bytes.length) {
            const nl = bytes.indexOf(10, start);
            const end = nl === -1 ? bytes.length : nl + 1;
            expected.push({ start: start + 1000, length: end - start, terminated: nl !== -1 });
            start = end;
          }
          const lines = got.filter((e) => e.kind !== "skipped");
          expect(lines).toHaveLength(expected.length);
          for (const [i, e] of lines.entries()) {
            const want = expected[i]!;
            const content = want.length - (want.terminated ? 1 : 0);
            if (content > max) {
              expect(e).toEqual({
                kind: "long",
                start: want.start,
                end: want.start + want.length,
                terminated: want.terminated,
              });
            } else {
              expect(e.kind).toBe("line");
              if (e.kind === "line") {
                expect([e.start, e.bytes.length, e.terminated]).toEqual([
                  want.start,
                  want.length,
                  want.terminated,
                ]);
              }
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps a multi-byte character split across chunks whole", async () => {
    const bytes = new TextEncoder().encode("𝄞é\nx\n");
    const got = await events(chunks(bytes, [1, 2, 3, 4, 5]), 100);
    expect(got.map((e) => (e.kind === "line" ? new TextDecoder().decode(e.bytes) : e.kind))).toEqual([
      "𝄞é\n",
      "x\n",
    ]);
  });

  it("yields nothing for an empty source", async () => {
    expect(await events(new Uint8Array(0), 10)).toEqual([]);
  });
});
