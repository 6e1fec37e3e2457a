// Per-peer cursors (DESIGN section 4): last applied seq and hash, the offset into a file applied in batches,
// and the counters status shows.
import BetterSqlite3 from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { createLibraryTables } from "../../src/apply/library-tables.js";
import type { Database } from "../../src/db.js";
import { CursorStore } from "../../src/sync/cursors.js";

const H1 = "a".repeat(64);
const H2 = "b".repeat(64);
const AT1 = "2026-03-01T12:00:00.000Z";
const AT2 = "2026-03-01T12:05:00.000Z";

const open: Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function store() {
  const db = new BetterSqlite3(":memory:") as unknown as Database;
  open.push(db);
  createLibraryTables(db);
  return new CursorStore(db);
}

describe("CursorStore", () => {
  it("gives seq 0 and hash null for an unknown peer", () => {
    const s = store();
    expect(s.get("alice")).toEqual({
      client: "alice",
      seq: 0,
      hash: null,
      partialOffset: 0,
      partialHash: null,
    });
    expect(s.all()).toEqual([]);
  });

  it("round-trips put and get, per peer", () => {
    const s = store();
    s.put({ client: "alice", seq: 3, hash: H1, partialOffset: 0, partialHash: null }, 10, AT1, 1000);
    s.put({ client: "bob", seq: 1, hash: H2, partialOffset: 0, partialHash: null }, 2, AT1, 500);
    expect(s.get("alice")).toEqual({
      client: "alice",
      seq: 3,
      hash: H1,
      partialOffset: 0,
      partialHash: null,
    });
    expect(s.get("bob")).toEqual({ client: "bob", seq: 1, hash: H2, partialOffset: 0, partialHash: null });
    s.put({ client: "alice", seq: 4, hash: H2, partialOffset: 0, partialHash: null }, 1, AT2, 1001);
    expect(s.get("alice")).toEqual({
      client: "alice",
      seq: 4,
      hash: H2,
      partialOffset: 0,
      partialHash: null,
    });
    expect(s.get("bob").seq).toBe(1);
  });

  it("keeps a partial offset and its file hash, and clears them when the file completes", () => {
    const s = store();
    s.put({ client: "alice", seq: 2, hash: H1, partialOffset: 0, partialHash: null }, 5, AT1, 100);
    s.put({ client: "alice", seq: 2, hash: H1, partialOffset: 4096, partialHash: H2 }, 5000, AT1, 200);
    expect(s.get("alice")).toEqual({
      client: "alice",
      seq: 2,
      hash: H1,
      partialOffset: 4096,
      partialHash: H2,
    });
    s.put({ client: "alice", seq: 2, hash: H1, partialOffset: 9000, partialHash: H2 }, 5000, AT1, 300);
    expect(s.get("alice").partialOffset).toBe(9000);
    s.put({ client: "alice", seq: 3, hash: H2, partialOffset: 0, partialHash: null }, 10, AT2, 400);
    expect(s.get("alice")).toEqual({
      client: "alice",
      seq: 3,
      hash: H2,
      partialOffset: 0,
      partialHash: null,
    });
  });

  it("accumulates applied_changes and records the last apply time", () => {
    const s = store();
    s.put({ client: "alice", seq: 1, hash: H1, partialOffset: 0, partialHash: null }, 7, AT1, null);
    s.put({ client: "alice", seq: 2, hash: H2, partialOffset: 0, partialHash: null }, 0, AT1, null);
    s.put({ client: "alice", seq: 3, hash: H1, partialOffset: 0, partialHash: null }, 5, AT2, null);
    expect(s.all()).toEqual([
      { client: "alice", seq: 3, applied_changes: 12, last_applied_at: AT2, max_ts: null },
    ]);
  });

  it("keeps the maximum max_ts, and null only until a value is given", () => {
    const s = store();
    const c = { client: "alice", seq: 1, hash: H1, partialOffset: 0, partialHash: null };
    s.put(c, 1, AT1, null);
    expect(s.all()[0]!.max_ts).toBeNull();
    s.put({ ...c, seq: 2 }, 1, AT1, 2000);
    expect(s.all()[0]!.max_ts).toBe(2000);
    s.put({ ...c, seq: 3 }, 1, AT1, 1500);
    expect(s.all()[0]!.max_ts).toBe(2000);
    s.put({ ...c, seq: 4 }, 1, AT1, null);
    expect(s.all()[0]!.max_ts).toBe(2000);
    const big = Date.parse("2026-03-01T12:00:00.000Z") * 1000;
    s.put({ ...c, seq: 5 }, 1, AT1, big);
    expect(s.all()[0]!.max_ts).toBe(big);
  });

  it("lists peers in client order", () => {
    const s = store();
    for (const client of ["carol", "alice", "bob"])
      s.put({ client, seq: 1, hash: H1, partialOffset: 0, partialHash: null }, 1, AT1, 1);
    expect(s.all().map((p) => p.client)).toEqual(["alice", "bob", "carol"]);
  });
});
