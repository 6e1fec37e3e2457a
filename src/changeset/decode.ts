// Reads changeset files (DESIGN section 3), streaming: memory is bounded by the longest accepted line.
// scanChangeset checks a whole file and says whether it is ok, incomplete, corrupt or bad; decodeChangeBatches
// then reads the change lines of a file that scanned ok, in batches, resumable at a line boundary.
import { createHash } from "node:crypto";
import type { z } from "zod";
import {
  type ChangeLine,
  changeSchema,
  type FileProblem,
  type FileProblemCode,
  FORMAT_VERSION,
  type HeaderLine,
  headerSchema,
  MAX_LINE_BYTES,
  type TrailerLine,
  trailerSchema,
} from "./format.js";
import { type ByteSource, splitLines } from "./line-splitter.js";
import { quote } from "./timestamp.js";

export type { ByteSource } from "./line-splitter.js";

export type ScanResult =
  | { ok: true; header: HeaderLine; count: number; size: number; sha256: string }
  | { ok: false; problem: FileProblem };

export interface ScanOptions {
  readonly maxLineBytes?: number;
  /** Checks that need the config (entity, uuid, payload columns); its problem is returned as is. */
  readonly validateChange?: (line: ChangeLine, lineNo: number) => FileProblem | undefined;
}

// fatal: bytes that are not UTF-8 make a line unreadable rather than silently replaced.
// ignoreBOM: a byte-order mark is kept, so it makes line 1 fail rather than vanish.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

type Parsed = { ok: true; value: unknown } | { ok: false; reason: string };

function parseLine(bytes: Uint8Array): Parsed {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { ok: false, reason: "is not valid UTF-8" };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, reason: "is not JSON" };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "does not match the format";
  const path = issue.path.map(String).join(".");
  return path === "" ? issue.message : `${path}: ${issue.message}`;
}

function contentOf(bytes: Uint8Array, terminated: boolean): Uint8Array {
  return terminated ? bytes.subarray(0, bytes.length - 1) : bytes;
}

function problem(
  kind: FileProblem["kind"],
  code: FileProblemCode,
  message: string,
  line?: number,
): FileProblem {
  return line === undefined ? { kind, code, message } : { kind, code, message, line };
}

/**
 * Checks a whole changeset file against the name it was found under. Reads to the end in every case, because
 * a file that is incomplete (still arriving, cut short) must come out incomplete whatever else is wrong with
 * what arrived so far; otherwise a checksum or count mismatch is corrupt; otherwise the first bad line is bad.
 */
export async function scanChangeset(
  source: ByteSource,
  expect: { readonly client: string; readonly seq: number },
  options: ScanOptions = {},
): Promise<ScanResult> {
  const maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  // One running hash of the bytes, line by line; a copy is taken before each line that could be the trailer.
  const hash = createHash("sha256");
  let size = 0;
  let lineNo = 0;
  let firstBad: FileProblem | undefined;
  let header: HeaderLine | undefined;
  let endsWithNewline = false;
  // The last line seen, if it was an object with type "end" (the trailer if nothing follows it).
  let candidate: { lineNo: number; trailer: TrailerLine | undefined; before: string } | undefined;

  const markBad = (code: FileProblemCode, message: string, line: number): void => {
    firstBad ??= problem("bad", code, message, line);
  };

  const checkHeader = (value: unknown): void => {
    if (!isObject(value) || value.type !== "header") {
      markBad("NO_HEADER", "line 1 is not a header line", 1);
      return;
    }
    // Checked before the schema: a newer format may change the other header fields too.
    if (typeof value.format === "number" && value.format !== FORMAT_VERSION) {
      markBad(
        "UNKNOWN_FORMAT",
        `the file is in format ${value.format}, this version reads format ${FORMAT_VERSION}: ` +
          "it needs a newer version of sqlite-folder-sync",
        1,
      );
      return;
    }
    const parsed = headerSchema.safeParse(value);
    if (!parsed.success) {
      markBad("INVALID_LINE", `invalid header line: ${describeIssues(parsed.error)}`, 1);
    } else if (parsed.data.client !== expect.client) {
      markBad(
        "HEADER_CLIENT_MISMATCH",
        `the header names client ${quote(parsed.data.client)} but the file name says "${expect.client}"`,
        1,
      );
    } else if (parsed.data.seq !== expect.seq) {
      markBad(
        "HEADER_SEQ_MISMATCH",
        `the header names seq ${parsed.data.seq} but the file name says ${expect.seq}`,
        1,
      );
    } else {
      header = parsed.data;
    }
  };

  const checkChange = (value: unknown, at: number): void => {
    // Once a line is bad the verdict can only be incomplete, corrupt or that line: skip the work.
    if (firstBad !== undefined || header === undefined) return;
    const parsed = changeSchema.safeParse(value);
    if (!parsed.success) {
      markBad("INVALID_LINE", `invalid change line: ${describeIssues(parsed.error)}`, at);
      return;
    }
    if (parsed.data.client !== header.client) {
      markBad(
        "CHANGE_CLIENT_MISMATCH",
        `the change names client ${quote(parsed.data.client)} but the file belongs to "${header.client}"`,
        at,
      );
      return;
    }
    const found = options.validateChange?.(parsed.data, at);
    if (found !== undefined) firstBad ??= found;
  };

  for await (const event of splitLines(source, maxLineBytes)) {
    if (event.kind === "skipped") {
      hash.update(event.bytes);
      size += event.bytes.length;
      continue;
    }
    lineNo += 1;
    if (candidate !== undefined) {
      // A line follows an end line: that one was not the trailer.
      markBad("INVALID_LINE", "an end line before the end of the file", candidate.lineNo);
      candidate = undefined;
    }
    endsWithNewline = event.terminated;
    if (event.kind === "long") {
      markBad("LINE_TOO_LONG", `the line is longer than ${maxLineBytes} bytes`, lineNo);
      continue;
    }
    const parsed = parseLine(contentOf(event.bytes, event.terminated));
    if (event.terminated && parsed.ok && isObject(parsed.value) && parsed.value.type === "end") {
      const trailer = trailerSchema.safeParse(parsed.value);
      if (!trailer.success) {
        markBad("INVALID_LINE", `invalid end line: ${describeIssues(trailer.error)}`, lineNo);
      }
      candidate = {
        lineNo,
        trailer: trailer.success ? trailer.data : undefined,
        before: hash.copy().digest("hex"),
      };
      if (lineNo === 1) markBad("NO_HEADER", "line 1 is not a header line", 1);
    } else if (event.terminated) {
      if (lineNo === 1) {
        if (parsed.ok) checkHeader(parsed.value);
        else markBad("NO_HEADER", `line 1 ${parsed.reason}, not a header line`, 1);
      } else if (parsed.ok) {
        checkChange(parsed.value, lineNo);
      } else {
        markBad("NOT_JSON", `the line ${parsed.reason}`, lineNo);
      }
    }
    hash.update(event.bytes);
    size += event.bytes.length;
  }

  if (size === 0) return { ok: false, problem: problem("incomplete", "EMPTY", "the file is empty") };
  if (!endsWithNewline) {
    return {
      ok: false,
      problem: problem("incomplete", "NO_TRAILING_NEWLINE", "the file does not end with a newline"),
    };
  }
  if (candidate === undefined) {
    return { ok: false, problem: problem("incomplete", "NO_TRAILER", "the last line is not an end line") };
  }
  const { trailer } = candidate;
  if (trailer !== undefined) {
    if (trailer.sha256 !== candidate.before) {
      return {
        ok: false,
        problem: problem(
          "corrupt",
          "CHECKSUM_MISMATCH",
          `the end line gives sha256 ${trailer.sha256} but the content hashes to ${candidate.before}`,
          candidate.lineNo,
        ),
      };
    }
    const count = Math.max(0, lineNo - 2); // every line between the header and the trailer
    if (trailer.count !== count) {
      return {
        ok: false,
        problem: problem(
          "corrupt",
          "COUNT_MISMATCH",
          `the end line counts ${trailer.count} changes but the file has ${count}`,
          candidate.lineNo,
        ),
      };
    }
  }
  if (firstBad !== undefined) return { ok: false, problem: firstBad };
  if (header === undefined || trailer === undefined) {
    // Unreachable: a missing header or an invalid trailer is recorded as bad above.
    throw new Error("scanChangeset: no header or trailer and no problem recorded");
  }
  return { ok: true, header, count: trailer.count, size, sha256: hash.digest("hex") };
}

export interface DecodeOptions {
  /** Offset in the file of the source's first byte: 0, or an endOffset a previous batch gave. */
  readonly startOffset: number;
  readonly batchSize: number;
  readonly maxLineBytes?: number;
}

/**
 * Yields the change lines of a file that scanned ok, at most batchSize at a time. `source` yields the file's
 * bytes from startOffset on. Throws if the file no longer reads as it did when scanned.
 */
export async function* decodeChangeBatches(
  source: ByteSource,
  options: DecodeOptions,
): AsyncGenerator<{ changes: ChangeLine[]; endOffset: number }> {
  const { startOffset, batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`decodeChangeBatches: batchSize must be a positive integer, got ${batchSize}`);
  }
  if (!Number.isInteger(startOffset) || startOffset < 0) {
    throw new Error(`decodeChangeBatches: startOffset must be a non-negative integer, got ${startOffset}`);
  }
  const changed = (what: string, at: number): Error =>
    new Error(`the changeset file changed since it was checked: ${what} at byte ${at}`);
  let batch: ChangeLine[] = [];
  let endOffset = startOffset;
  let trailerSeen = false;
  for await (const event of splitLines(source, options.maxLineBytes ?? MAX_LINE_BYTES, startOffset)) {
    if (event.kind === "skipped") continue;
    if (event.kind === "long") throw changed("an over-long line", event.start);
    if (trailerSeen) throw changed("a line after the end line", event.start);
    if (!event.terminated) throw changed("a last line without a newline", event.start);
    const parsed = parseLine(contentOf(event.bytes, true));
    if (!parsed.ok) throw changed(`a line that ${parsed.reason}`, event.start);
    const type = isObject(parsed.value) ? parsed.value.type : undefined;
    if (event.start === 0) {
      if (type !== "header") throw changed("no header line", 0);
      continue;
    }
    if (type === "end") {
      trailerSeen = true;
      continue;
    }
    const change = changeSchema.safeParse(parsed.value);
    if (!change.success)
      throw changed(`an invalid change line (${describeIssues(change.error)})`, event.start);
    batch.push(change.data);
    endOffset = event.start + event.bytes.length;
    if (batch.length >= batchSize) {
      yield { changes: batch, endOffset };
      batch = [];
    }
  }
  if (!trailerSeen) throw changed("no end line", endOffset);
  if (batch.length > 0) yield { changes: batch, endOffset };
}
