// Natural-key collisions (DESIGN section 5): two clients create the same UNIQUE value under different uuids.
// That must neither abort the apply nor diverge: of the live rows, the one with the lowest uuid (bytes) is
// shown, the other is shadowed and its register kept.
import { afterEach, describe, expect, it } from "vitest";
import { createLibraryTables } from "../../src/apply/library-tables.js";
import type { ChangeLine } from "../../src/changeset/format.js";
import { mediaConfig } from "../../src/config/media-preset.js";
import type { Database } from "../../src/db.js";
import { Replica } from "../../src/sync/replica.js";
import { createMediaDb } from "../helpers/media-app.js";

const NOW_MS = Date.parse("2026-03-01T12:00:00.000Z");

const open: Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function keyword(uuid: string, word: string, ts: string, client: string): ChangeLine {
  return {
    type: "change",
    entity: "Keywords",
    uuid,
    op: "create",
    ts,
    version: 1,
    client,
    payload: { uuid, keyword: word, last_modified: ts, version: 1, client_id: client, deleted: 0 },
  };
}

describe("natural-key collisions", () => {
  it("two keywords 'python' with different uuids: no abort, the lower uuid is shown, in both arrival orders", () => {
    const a = keyword("k-a", "python", "2026-03-01T10:00:00.000Z", "bob");
    const b = keyword("k-b", "Python", "2026-03-01T09:00:00.000Z", "alice");
    for (const order of [
      [a, b],
      [b, a],
    ]) {
      const db = createMediaDb();
      open.push(db);
      createLibraryTables(db);
      const replica = new Replica(db, mediaConfig(), "me", () => NOW_MS);
      replica.capturer.skipToEnd();
      for (const line of order)
        expect(() => replica.applyTransaction(() => replica.applier.apply(line, "test"))).not.toThrow();
      expect(db.prepare("SELECT uuid FROM Keywords").all()).toEqual([{ uuid: "k-a" }]);
      expect(replica.registers.get("Keywords", "k-a")).toBeDefined();
      expect(replica.registers.get("Keywords", "k-b")).toBeDefined();
    }
  });
});
