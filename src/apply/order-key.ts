// The order key of DESIGN section 5: a total order on changes that does not depend on which side is local.
// Rows: (ts, version, deleted, client). Links: (ts, linked, client); a link's version is always 0.
// Pure.
import type { Micros } from "../changeset/timestamp.js";

export interface OrderKey {
  /** The change's instant, microseconds since the epoch (UTC). */
  readonly ts: Micros;
  readonly version: number;
  /** Rows: 1 for a delete. Links: 1 for a link (add-wins). The value that wins a tie is 1. */
  readonly flag: 0 | 1;
  readonly client: string;
}

const utf8 = new TextEncoder();

/** Compares two strings as UTF-8 bytes (what SQLite's BINARY collation does). */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  // Fast path: for ASCII, UTF-16 order equals byte order.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII range test
  if (/^[\x00-\x7f]*$/.test(a) && /^[\x00-\x7f]*$/.test(b)) return a < b ? -1 : 1;
  return Buffer.compare(utf8.encode(a), utf8.encode(b));
}

export function compareKeys(a: OrderKey, b: OrderKey): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  if (a.version !== b.version) return a.version < b.version ? -1 : 1;
  if (a.flag !== b.flag) return a.flag < b.flag ? -1 : 1;
  return compareUtf8(a.client, b.client);
}

export function keysEqual(a: OrderKey, b: OrderKey): boolean {
  return a.ts === b.ts && a.version === b.version && a.flag === b.flag && a.client === b.client;
}
