import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { scanChangeset } from "../../src/changeset/decode.js";
import { encodeChangeLine, encodeChangeset } from "../../src/changeset/encode.js";
import type { FileProblem } from "../../src/changeset/format.js";
import {
  change,
  chunked,
  dec,
  EXPECT,
  enc,
  HEADER,
  headerText,
  LINES,
  problemOf,
  rawFile,
} from "./fixtures.js";

describe("incomplete", () => {
  it("a file cut at every byte offset is incomplete", async () => {
    const { bytes } = encodeChangeset(HEADER, LINES);
    for (let cut = 0; cut < bytes.length; cut++) {
      const problem = problemOf(await scanChangeset(bytes.subarray(0, cut), EXPECT));
      expect({ cut, kind: problem.kind }).toEqual({ cut, kind: "incomplete" });
    }
  });

  it("a cut-short file is incomplete even when what arrived is bad, in any chunking (property)", async () => {
    const bad = rawFile([
      headerText({ client: "bob" }),
      "not json",
      encodeChangeLine({ ...change(1), client: "eve" }),
    ]);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: bad.length - 1 }),
        fc.integer({ min: 1, max: 9 }),
        async (cut, chunk) => {
          const problem = problemOf(
            await scanChangeset(chunked(bad.subarray(0, cut), chunk), EXPECT, { maxLineBytes: 40 }),
          );
          expect(problem.kind).toBe("incomplete");
        },
      ),
    );
  });

  it("names the reason", async () => {
    const { bytes } = encodeChangeset(HEADER, LINES);
    expect(problemOf(await scanChangeset(new Uint8Array(0), EXPECT)).code).toBe("EMPTY");
    expect(problemOf(await scanChangeset(bytes.subarray(0, bytes.length - 1), EXPECT)).code).toBe(
      "NO_TRAILING_NEWLINE",
    );
    const withoutTrailer = bytes.subarray(0, Buffer.from(bytes).lastIndexOf("{"));
    expect(problemOf(await scanChangeset(withoutTrailer, EXPECT)).code).toBe("NO_TRAILER");
  });
});

describe("corrupt", () => {
  it("one byte flipped inside a string value is a checksum mismatch", async () => {
    const { bytes } = encodeChangeset(HEADER, LINES);
    const at = Buffer.from(bytes).indexOf("Title 3") + 1;
    const flipped = bytes.slice();
    flipped[at] = "X".charCodeAt(0);
    expect(dec.decode(flipped)).toContain('"title":"TXtle 3"'); // still valid JSON, only the bytes differ
    expect(problemOf(await scanChangeset(flipped, EXPECT))).toMatchObject({
      kind: "corrupt",
      code: "CHECKSUM_MISMATCH",
      line: 5,
    });
  });

  it("a trailer count that differs from the lines is a count mismatch", async () => {
    const file = rawFile([headerText(), encodeChangeLine(change(1))], 2);
    expect(problemOf(await scanChangeset(file, EXPECT))).toMatchObject({
      kind: "corrupt",
      code: "COUNT_MISMATCH",
    });
  });

  it("corrupt wins over a bad line", async () => {
    const file = rawFile([headerText({ client: "bob" })], 4);
    expect(problemOf(await scanChangeset(file, EXPECT)).code).toBe("COUNT_MISMATCH");
  });
});

describe("bad", () => {
  const ok = encodeChangeLine(change(1));
  const cases: [string, string[], Partial<FileProblem>][] = [
    ["a non-JSON line", [headerText(), ok, "{oops", ok], { code: "NOT_JSON", line: 3 }],
    ["an empty line", [headerText(), "", ok], { code: "NOT_JSON", line: 2 }],
    ["no header", [ok, ok], { code: "NO_HEADER", line: 1 }],
    [
      "a header client other than the name's",
      [headerText({ client: "bob" }), ok],
      { code: "HEADER_CLIENT_MISMATCH", line: 1 },
    ],
    [
      "a header seq other than the name's",
      [headerText({ seq: 4 }), ok],
      { code: "HEADER_SEQ_MISMATCH", line: 1 },
    ],
    ["an invalid header", [headerText({ prev: "XYZ" }), ok], { code: "INVALID_LINE", line: 1 }],
    [
      "a change of another client",
      [headerText(), ok, encodeChangeLine({ ...change(2), client: "bob" })],
      { code: "CHANGE_CLIENT_MISMATCH", line: 3 },
    ],
    [
      "a change with a wrong op",
      [headerText(), ok, ok.replace('"update"', '"upsert"')],
      { code: "INVALID_LINE", line: 3 },
    ],
    [
      "an end line in the middle",
      [headerText(), `{"type":"end","count":0,"sha256":"${"0".repeat(64)}"}`, ok],
      { code: "INVALID_LINE", line: 2 },
    ],
  ];
  for (const [name, lines, expected] of cases) {
    it(`${name} is bad`, async () => {
      const problem = problemOf(await scanChangeset(rawFile(lines), EXPECT));
      expect(problem).toMatchObject({ kind: "bad", ...expected });
      expect(problem.message.length).toBeGreaterThan(0);
    });
  }

  it("an unknown format asks for a newer version", async () => {
    const problem = problemOf(
      await scanChangeset(rawFile([headerText({ format: 2, prev: 7 }), "{}"]), EXPECT),
    );
    expect(problem).toMatchObject({ kind: "bad", code: "UNKNOWN_FORMAT", line: 1 });
    expect(problem.message).toMatch(/newer version/);
  });

  it("the zod path is in an invalid line's message", async () => {
    const line = JSON.stringify({ ...change(1), payload: { title: { nested: true } } });
    const problem = problemOf(await scanChangeset(rawFile([headerText(), line]), EXPECT));
    expect(problem).toMatchObject({ code: "INVALID_LINE", line: 2 });
    expect(problem.message).toContain("payload.title");
  });

  it("a line over maxLineBytes is bad, streamed through without being buffered whole", async () => {
    const long = encodeChangeLine(change(1, { blob: "x".repeat(500) }));
    const file = rawFile([headerText(), encodeChangeLine(change(2)), long, encodeChangeLine(change(3))]);
    for (const chunk of [1, 7, 64, file.length]) {
      const problem = problemOf(await scanChangeset(chunked(file, chunk), EXPECT, { maxLineBytes: 300 }));
      expect(problem).toMatchObject({ kind: "bad", code: "LINE_TOO_LONG", line: 3 });
    }
    // The same file is fine under the default limit.
    expect((await scanChangeset(file, EXPECT)).ok).toBe(true);
  });

  it("a line of exactly maxLineBytes is accepted", async () => {
    const { bytes } = encodeChangeset(HEADER, LINES);
    const longest = Math.max(
      ...dec
        .decode(bytes)
        .split("\n")
        .map((l) => enc.encode(l).length),
    );
    expect((await scanChangeset(chunked(bytes, 3), EXPECT, { maxLineBytes: longest })).ok).toBe(true);
    expect(problemOf(await scanChangeset(bytes, EXPECT, { maxLineBytes: longest - 1 })).code).toBe(
      "LINE_TOO_LONG",
    );
  });

  it("reports the first bad line", async () => {
    const file = rawFile([headerText(), encodeChangeLine({ ...change(2), client: "bob" }), "nope"]);
    expect(problemOf(await scanChangeset(file, EXPECT))).toMatchObject({
      code: "CHANGE_CLIENT_MISMATCH",
      line: 2,
    });
  });

  it("returns validateChange's problem as is, with the 1-based line number passed in", async () => {
    const { bytes } = encodeChangeset(HEADER, LINES);
    const seen: number[] = [];
    const mine: FileProblem = { kind: "bad", code: "UNKNOWN_ENTITY", line: 99, message: "no such entity" };
    const result = await scanChangeset(bytes, EXPECT, {
      validateChange: (line, lineNo) => {
        seen.push(lineNo);
        return line.uuid === "uuid-2" ? mine : undefined;
      },
    });
    expect(problemOf(result)).toBe(mine);
    expect(seen).toEqual([2, 3]);
  });
});
