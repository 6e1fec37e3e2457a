// Changeset files end to end: encode, scan ok, decode in batches, resume, forward compatibility.
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeChangeBatches, scanChangeset } from "../../src/changeset/decode.js";
import { changeLineBytes, encodeChangeLine, encodeChangeset } from "../../src/changeset/encode.js";
import {
  change,
  chunked,
  collect,
  dec,
  EXPECT,
  enc,
  HEADER,
  headerText,
  LINES,
  rawFile,
} from "./fixtures.js";

describe("encode", () => {
  it("writes keys in the fixed order and counts bytes with the newline", () => {
    const line = change(2, { z: 1, a: "é" });
    const text = encodeChangeLine({ ...line, payload: line.payload });
    expect(text).toBe(
      '{"type":"change","entity":"Media","uuid":"uuid-2","op":"update","ts":"2026-01-02T03:04:05.678Z","version":2,"client":"alice","payload":{"z":1,"a":"é"}}',
    );
    expect(changeLineBytes(line)).toBe(enc.encode(text).length + 1);
  });

  it("writes a header, the lines and a trailer whose checksum covers everything before it", () => {
    const { bytes, sha256 } = encodeChangeset(HEADER, LINES);
    const text = dec.decode(bytes);
    const lines = text.split("\n");
    expect(lines).toHaveLength(6);
    expect(lines[5]).toBe("");
    expect(lines[0]).toBe(
      `{"type":"header","format":1,"client":"alice","seq":3,"prev":"${HEADER.prev}","changes":[10,12],"created":"2026-01-02T03:04:05.678Z"}`,
    );
    const before = lines
      .slice(0, 4)
      .map((l) => `${l}\n`)
      .join("");
    const trailer = JSON.parse(lines[4]!) as Record<string, unknown>;
    expect(Object.keys(trailer)).toEqual(["type", "count", "sha256"]);
    expect(trailer).toEqual({
      type: "end",
      count: 3,
      sha256: createHash("sha256").update(before).digest("hex"),
    });
    expect(sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
  });

  it("refuses non-finite numbers, which JSON would turn into null", () => {
    expect(() => encodeChangeLine(change(1, { x: Number.NaN }))).toThrow(/JSON cannot carry/);
  });
});

describe("round trip", () => {
  it("scans ok, decodes the same lines and re-encodes byte-identically", async () => {
    const { bytes, sha256 } = encodeChangeset(HEADER, LINES);
    const result = await scanChangeset(bytes, EXPECT);
    expect(result).toEqual({
      ok: true,
      header: { type: "header", format: 1, ...HEADER },
      count: 3,
      size: bytes.length,
      sha256,
    });
    const batches = await collect(decodeChangeBatches(bytes, { startOffset: 0, batchSize: 2 }));
    expect(batches.map((b) => b.changes.length)).toEqual([2, 1]);
    const decoded = batches.flatMap((b) => b.changes);
    expect(decoded).toEqual(LINES);
    const again = encodeChangeset(HEADER, decoded);
    expect(Buffer.from(again.bytes).equals(Buffer.from(bytes))).toBe(true);
    expect(again.sha256).toBe(sha256);
  });

  it("holds for arbitrary payloads, chunkings and batch sizes (property)", async () => {
    const payload = fc.dictionary(
      fc.string({ unit: "grapheme", maxLength: 8 }),
      fc.oneof(
        fc.string({ unit: "grapheme", maxLength: 20 }),
        fc.integer(),
        // JSON has no -0: it is written as 0, which SQLite stores the same way.
        fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d)),
        fc.constant(null),
      ),
      { maxKeys: 5 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(payload, { maxLength: 6 }),
        fc.integer({ min: 1, max: 17 }),
        fc.integer({ min: 1, max: 4 }),
        async (payloads, chunk, batchSize) => {
          const lines = payloads.map((p, i) => change(i, p));
          const { bytes, sha256 } = encodeChangeset(HEADER, lines);
          const result = await scanChangeset(chunked(bytes, chunk), EXPECT);
          expect(result.ok && result.sha256 === sha256 && result.count === lines.length).toBe(true);
          const batches = await collect(
            decodeChangeBatches(chunked(bytes, chunk), { startOffset: 0, batchSize }),
          );
          const decoded = batches.flatMap((b) => b.changes);
          expect(decoded).toEqual(lines);
          expect(Buffer.from(encodeChangeset(HEADER, decoded).bytes).equals(Buffer.from(bytes))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("an empty changeset (no change lines) is ok", async () => {
    const { bytes } = encodeChangeset(HEADER, []);
    expect(await scanChangeset(bytes, EXPECT)).toMatchObject({ ok: true, count: 0 });
    expect(await collect(decodeChangeBatches(bytes, { startOffset: 0, batchSize: 5 }))).toEqual([]);
  });

  it("decodes multi-byte UTF-8 split across 1-byte chunks", async () => {
    const { bytes, sha256 } = encodeChangeset(HEADER, LINES);
    expect(await scanChangeset(chunked(bytes, 1), EXPECT)).toMatchObject({ ok: true, sha256 });
    const batches = await collect(decodeChangeBatches(chunked(bytes, 1), { startOffset: 0, batchSize: 10 }));
    expect(batches[0]!.changes[1]!.payload.title).toBe("Café ☕ 𝄞 日本");
  });
});

describe("decodeChangeBatches", () => {
  it("resumes at a batch's endOffset and gives exactly the remaining lines", async () => {
    const lines = Array.from({ length: 7 }, (_, i) => change(i));
    const { bytes } = encodeChangeset(HEADER, lines);
    const first = await collect(decodeChangeBatches(bytes, { startOffset: 0, batchSize: 3 }));
    expect(first.map((b) => b.changes.length)).toEqual([3, 3, 1]);
    for (const [i, batch] of first.entries()) {
      expect(bytes[batch.endOffset - 1]).toBe(0x0a);
      const rest = await collect(
        decodeChangeBatches(chunked(bytes.subarray(batch.endOffset), 5), {
          startOffset: batch.endOffset,
          batchSize: 2,
        }),
      );
      expect(rest.flatMap((b) => b.changes)).toEqual(lines.slice((i + 1) * 3));
      // endOffsets stay absolute.
      if (rest.length > 0) expect(rest.at(-1)!.endOffset).toBe(first.at(-1)!.endOffset);
    }
  });

  it("throws when the file no longer has its trailer or a line went bad", async () => {
    const { bytes } = encodeChangeset(HEADER, LINES);
    await expect(
      collect(decodeChangeBatches(bytes.subarray(0, bytes.length - 10), { startOffset: 0, batchSize: 2 })),
    ).rejects.toThrow(/changed since it was checked/);
    const broken = rawFile([headerText(), "{not json"]);
    await expect(collect(decodeChangeBatches(broken, { startOffset: 0, batchSize: 2 }))).rejects.toThrow(
      /not JSON/,
    );
    await expect(collect(decodeChangeBatches(bytes, { startOffset: 0, batchSize: 0 }))).rejects.toThrow(
      /batchSize/,
    );
  });
});

describe("forward compatibility", () => {
  it("ignores unknown fields in every line", async () => {
    const header = headerText({ extra: { nested: [1, 2] } });
    const line = JSON.stringify({ ...change(1), future: "field", op: "create" });
    const body = `${header}\n${line}\n`;
    const sha = createHash("sha256").update(body).digest("hex");
    const file = enc.encode(`${body}{"type":"end","count":1,"sha256":"${sha}","signature":"later"}\n`);
    const result = await scanChangeset(file, EXPECT);
    expect(result).toMatchObject({ ok: true, count: 1 });
    const [batch] = await collect(decodeChangeBatches(file, { startOffset: 0, batchSize: 10 }));
    expect(batch!.changes[0]).toEqual({ ...change(1), op: "create" });
  });
});
