// Keys are stamped at capture (DESIGN section 5): ts = max(min(logged, now), current key's ts + 1 ms), whole
// milliseconds, so a local change always travels with a key greater than what its register held.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { keyOfLine } from "../../src/apply/apply-change.js";
import { createLibraryTables } from "../../src/apply/library-tables.js";
import { compareKeys } from "../../src/apply/order-key.js";
import { stampTs } from "../../src/capture/stamp.js";
import type { ChangeLine } from "../../src/changeset/format.js";
import { parseTimestamp } from "../../src/changeset/timestamp.js";
import { mediaConfig } from "../../src/config/media-preset.js";
import type { Database } from "../../src/db.js";
import { Replica } from "../../src/sync/replica.js";
import { createMediaDb, MediaApp } from "../helpers/media-app.js";

const NOW_MS = Date.parse("2026-03-01T12:00:00.000Z");
const NOW = NOW_MS * 1000;
const MS = 1000;
const HOUR_MS = 3_600_000;

const open: Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function setup(clientId = "me", nowMs = NOW_MS) {
  const db = createMediaDb();
  open.push(db);
  createLibraryTables(db);
  const replica = new Replica(db, mediaConfig(), clientId, () => nowMs);
  replica.capturer.skipToEnd();
  const app = new MediaApp(db, clientId, () => new Date(nowMs).toISOString());
  const captured = () =>
    (db.prepare("SELECT line FROM sfs_captured ORDER BY change_id").all() as Array<{ line: string }>).map(
      (r) => JSON.parse(r.line) as ChangeLine,
    );
  const apply = (line: ChangeLine) =>
    replica.applyTransaction(() => replica.applier.apply(line, "test")).result;
  return { db, replica, app, captured, apply };
}

function mediaLine(
  op: "create" | "update",
  ts: string,
  version: number,
  client: string,
  title: string,
): ChangeLine {
  return {
    type: "change",
    entity: "Media",
    uuid: "m1",
    op,
    ts,
    version,
    client,
    payload: {
      uuid: "m1",
      url: "https://example.com/m1",
      title,
      type: "video",
      content: "text",
      author: null,
      ingestion_date: null,
      transcription_model: null,
      is_trash: 0,
      trash_date: null,
      content_hash: "hash-m1",
      last_modified: ts,
      version,
      client_id: client,
      deleted: 0,
    },
  };
}

describe("stampTs", () => {
  it("keeps a past logged ts when the register is new", () => {
    expect(stampTs(NOW - 5 * MS, NOW, undefined)).toBe(NOW - 5 * MS);
  });

  it("clamps a logged ts in the future to now", () => {
    expect(stampTs(NOW + HOUR_MS * MS, NOW, undefined)).toBe(NOW);
    expect(stampTs(NOW + 1, NOW, undefined)).toBe(NOW);
    // Still above the current key.
    expect(stampTs(NOW + HOUR_MS * MS, NOW, NOW - 10 * MS)).toBe(NOW);
  });

  it("takes now for an unreadable (undefined) logged ts", () => {
    expect(stampTs(undefined, NOW, undefined)).toBe(NOW);
    expect(stampTs(undefined, NOW, NOW + 7 * MS)).toBe(NOW + 8 * MS);
  });

  it("gives current + 1 ms for a logged ts older than, or equal to, the current key", () => {
    expect(stampTs(NOW - 10 * MS, NOW, NOW - 5 * MS)).toBe(NOW - 4 * MS);
    expect(stampTs(NOW - 5 * MS, NOW, NOW - 5 * MS)).toBe(NOW - 4 * MS);
    // A current key ahead of now (a peer whose clock runs ahead): still above it.
    expect(stampTs(NOW, NOW, NOW + HOUR_MS * MS)).toBe(NOW + HOUR_MS * MS + MS);
  });

  it("keeps a logged ts that is already above the current key", () => {
    expect(stampTs(NOW - 2 * MS, NOW, NOW - 5 * MS)).toBe(NOW - 2 * MS);
  });

  it("gives whole milliseconds only", () => {
    expect(stampTs(NOW - 5 * MS + 999, NOW, undefined)).toBe(NOW - 5 * MS);
    expect(stampTs(undefined, NOW + 456, undefined)).toBe(NOW);
    // A current key with a fraction of a millisecond: the stamp is the next whole millisecond above it.
    expect(stampTs(NOW - 10 * MS, NOW, NOW - 5 * MS + 500)).toBe(NOW - 4 * MS);
    expect(stampTs(NOW - 5 * MS + 700, NOW, NOW - 5 * MS + 500)).toBe(NOW - 4 * MS);
  });

  it("is max(min(logged, now), current + 1 ms), a whole millisecond strictly above current (property)", () => {
    const t = fc.integer({ min: NOW - 10_000 * MS, max: NOW + 10_000 * MS });
    fc.assert(
      fc.property(
        fc.option(t, { nil: undefined }),
        t,
        fc.option(t, { nil: undefined }),
        (logged, now, current) => {
          const s = stampTs(logged, now, current);
          expect(s % MS).toBe(0);
          expect(s).toBeLessThanOrEqual(Math.max(now, current === undefined ? now : current + MS));
          expect(s).toBeGreaterThanOrEqual(Math.floor(Math.min(logged ?? now, now) / MS) * MS);
          if (current !== undefined) {
            expect(s).toBeGreaterThan(current);
            expect(s).toBeLessThanOrEqual(Math.max(now, current + MS));
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe("stamped keys of local changes", () => {
  it("two writes of one row in the same millisecond with the same version get strictly increasing keys", () => {
    const { replica, app, captured } = setup();
    app.createMedia("m1", { title: "v0" });
    app.update("Media", "m1", "title", "v1", false);
    app.update("Media", "m1", "title", "v2", false);
    expect(replica.captureNow().captured).toBe(3);
    // Captured one at a time too.
    app.update("Media", "m1", "title", "v3", false);
    replica.captureNow();
    app.update("Media", "m1", "title", "v4", false);
    replica.captureNow();
    const lines = captured();
    expect(lines.map((l) => l.payload.title)).toEqual(["v0", "v1", "v2", "v3", "v4"]);
    expect(lines.map((l) => l.version)).toEqual([1, 1, 1, 1, 1]);
    const keys = lines.map((l) => keyOfLine(mediaConfig(), l));
    for (let i = 1; i < keys.length; i++) expect(compareKeys(keys[i]!, keys[i - 1]!)).toBeGreaterThan(0);
    expect(lines.map((l) => l.ts)).toEqual([
      "2026-03-01T12:00:00.000Z",
      "2026-03-01T12:00:00.001Z",
      "2026-03-01T12:00:00.002Z",
      "2026-03-01T12:00:00.003Z",
      "2026-03-01T12:00:00.004Z",
    ]);
    // The register holds the last key, and the exported ts is its key.
    expect(replica.registers.get("Media", "m1")?.key).toEqual(keys[4]);
    // The payload keeps the app's last_modified (values are written verbatim).
    expect(lines[4]!.payload.last_modified).toBe("2026-03-01T12:00:00.000Z");
  });

  it("a local change made after ingesting a newer peer change wins on every replica", () => {
    const me = setup("me");
    me.app.createMedia("m1", { title: "Intro" });
    me.replica.captureNow();
    const myCreate = me.captured()[0]!;
    // Alice's clock runs an hour ahead of ours.
    const aliceTs = new Date(NOW_MS + HOUR_MS).toISOString();
    const alice = mediaLine("update", aliceTs, 2, "alice", "Alice's");
    expect(me.apply(alice)).toBe("applied");
    expect(me.db.prepare("SELECT title, version FROM Media WHERE uuid='m1'").get()).toEqual({
      title: "Alice's",
      version: 2,
    });
    // We edit the row after seeing alice's edit, with our (behind) clock.
    me.app.update("Media", "m1", "title", "Mine");
    me.replica.captureNow();
    const mine = me.captured()[1]!;
    expect(mine.ts).toBe(new Date(NOW_MS + HOUR_MS + 1).toISOString());
    const mineKey = keyOfLine(mediaConfig(), mine);
    const aliceKey = keyOfLine(mediaConfig(), alice);
    expect(compareKeys(mineKey, aliceKey)).toBeGreaterThan(0);
    expect(me.replica.registers.get("Media", "m1")?.key).toEqual(mineKey);

    // Every other replica agrees, whatever the arrival order.
    for (const order of [
      [myCreate, alice, mine],
      [myCreate, mine, alice],
      [mine, alice, myCreate],
      [alice, mine, myCreate],
    ]) {
      const other = setup("carol");
      for (const l of order) other.apply(l);
      expect(other.replica.registers.get("Media", "m1")?.key).toEqual(mineKey);
      expect(other.db.prepare("SELECT title FROM Media WHERE uuid='m1'").get()).toEqual({ title: "Mine" });
    }
  });

  it("a local change after a peer delete that is ahead in time also wins (undelete)", () => {
    const me = setup("me");
    me.app.createMedia("m1", { title: "Intro" });
    me.replica.captureNow();
    const aheadTs = new Date(NOW_MS + HOUR_MS).toISOString();
    const del = { ...mediaLine("update", aheadTs, 2, "zed", "Intro"), op: "delete" as const };
    del.payload = { ...del.payload, deleted: 1 };
    me.apply(del);
    expect(me.app.setDeleted("Media", "m1", false)).toBe(true);
    me.replica.captureNow();
    const undelete = me.captured()[1]!;
    expect(undelete.op).toBe("update");
    expect(compareKeys(keyOfLine(mediaConfig(), undelete), keyOfLine(mediaConfig(), del))).toBeGreaterThan(0);
    expect(parseTimestamp(undelete.ts)).toBe((NOW_MS + HOUR_MS + 1) * MS);
  });
});
