// Shared fixtures for the changeset tests: sample lines, hand-made files, chunked sources.
import { createHash } from "node:crypto";
import type { ScanResult } from "../../src/changeset/decode.js";
import type { ChangeLine, FileProblem } from "../../src/changeset/format.js";

export const CLIENT = "alice";
export const HEADER = {
  client: CLIENT,
  seq: 3,
  prev: "ab".repeat(32),
  changes: [10, 12] as [number, number],
  created: "2026-01-02T03:04:05.678Z",
};
export const EXPECT = { client: CLIENT, seq: 3 };
export const enc = new TextEncoder();
export const dec = new TextDecoder();

export function change(
  n: number,
  payload: ChangeLine["payload"] = { title: `Title ${n}`, rating: n },
): ChangeLine {
  return {
    type: "change",
    entity: "Media",
    uuid: `uuid-${n}`,
    op: "update",
    ts: "2026-01-02T03:04:05.678Z",
    version: n,
    client: CLIENT,
    payload,
  };
}

export const LINES = [change(1), change(2, { title: "Café ☕ 𝄞 日本", note: null, size: -1.5 }), change(3)];

/** A file from raw line texts with a correct checksum, for lines the encoder would never write. */
export function rawFile(lines: readonly string[], count = lines.length - 1): Uint8Array {
  const body = lines.map((l) => `${l}\n`).join("");
  const sha = createHash("sha256").update(body).digest("hex");
  return enc.encode(`${body}{"type":"end","count":${count},"sha256":"${sha}"}\n`);
}

export function headerText(fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ type: "header", format: 1, ...HEADER, ...fields });
}

export async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

export function problemOf(result: ScanResult): FileProblem {
  if (result.ok) throw new Error("expected a problem, the scan was ok");
  return result.problem;
}

export async function collect(source: AsyncGenerator<{ changes: ChangeLine[]; endOffset: number }>) {
  const batches: { changes: ChangeLine[]; endOffset: number }[] = [];
  for await (const batch of source) batches.push(batch);
  return batches;
}
