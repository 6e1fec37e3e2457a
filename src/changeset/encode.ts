// Writes changeset files (DESIGN section 3). Pure: no disk, no clock. Output is deterministic (fixed key order,
// JSON.stringify's number and string forms) so an exporter can republish a lost file byte-identically.
import { createHash } from "node:crypto";
import { type ChangeLine, FORMAT_VERSION, MAX_LINE_BYTES } from "./format.js";

export interface ChangesetHeaderFields {
  readonly client: string;
  readonly seq: number;
  readonly prev: string | null;
  readonly changes: readonly [number, number];
  readonly created: string;
}

const encoder = new TextEncoder();
const NEWLINE = encoder.encode("\n");

/** The change line's JSON text, without the newline. Keys in the fixed order of section 3. */
export function encodeChangeLine(line: ChangeLine): string {
  for (const [key, value] of Object.entries(line.payload)) {
    // JSON.stringify would write NaN and Infinity as null: a silent change of the data.
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new Error(
        `change ${line.entity} ${line.uuid}: payload value "${key}" is ${value}, which JSON cannot carry`,
      );
    }
  }
  return JSON.stringify({
    type: line.type,
    entity: line.entity,
    uuid: line.uuid,
    op: line.op,
    ts: line.ts,
    version: line.version,
    client: line.client,
    // Payload keys keep the object's own property order (integer-like keys first, as JS orders them), which
    // JSON.parse reproduces: decode then re-encode is byte-identical.
    payload: line.payload,
  });
}

/** UTF-8 bytes the line takes in a file, its newline included (for splitting at the file limits). */
export function changeLineBytes(line: ChangeLine): number {
  return Buffer.byteLength(encodeChangeLine(line), "utf8") + 1;
}

function encodeLine(text: string, what: string): Uint8Array {
  const bytes = encoder.encode(text);
  if (bytes.length > MAX_LINE_BYTES) {
    throw new Error(`${what} is ${bytes.length} bytes, over the ${MAX_LINE_BYTES}-byte line limit`);
  }
  return bytes;
}

/**
 * The whole file: header, change lines, trailer, each ending in "\n". `sha256` is the hex sha256 of all of
 * `bytes` (what the client's next file names as `prev`).
 */
export function encodeChangeset(
  header: ChangesetHeaderFields,
  lines: readonly ChangeLine[],
): { bytes: Uint8Array; sha256: string } {
  const parts: Uint8Array[] = [];
  const beforeTrailer = createHash("sha256");
  const add = (bytes: Uint8Array): void => {
    parts.push(bytes, NEWLINE);
    beforeTrailer.update(bytes);
    beforeTrailer.update(NEWLINE);
  };
  add(
    encodeLine(
      JSON.stringify({
        type: "header",
        format: FORMAT_VERSION,
        client: header.client,
        seq: header.seq,
        prev: header.prev,
        changes: [header.changes[0], header.changes[1]],
        created: header.created,
      }),
      "header line",
    ),
  );
  for (const line of lines) {
    add(encodeLine(encodeChangeLine(line), `change ${line.entity} ${line.uuid}`));
  }
  const trailer = JSON.stringify({ type: "end", count: lines.length, sha256: beforeTrailer.digest("hex") });
  parts.push(encoder.encode(trailer), NEWLINE);

  let length = 0;
  for (const part of parts) length += part.length;
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return { bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}
