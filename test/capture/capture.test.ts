// Capture (DESIGN sections 2, 4, 5): sync_log rows after the capture cursor become stamped changes and
// register states; capture never fails on a timestamp, skips what the config does not know, fills
// incomplete payloads from the row, and never takes what the library itself wrote for a local change.
import { afterEach, describe, expect, it } from "vitest";
import { createLibraryTables } from "../../src/apply/library-tables.js";
import type { ChangeLine } from "../../src/changeset/format.js";
import { mediaConfig } from "../../src/config/media-preset.js";
import type { RowEntity } from "../../src/config/schema.js";
import type { Database } from "../../src/db.js";
import { Replica } from "../../src/sync/replica.js";
import { createMediaDb, MediaApp } from "../helpers/media-app.js";

const NOW_MS = Date.parse("2026-03-01T12:00:00.000Z");
const NOW_ISO = "2026-03-01T12:00:00.000Z";
const EARLIER = "2026-03-01T11:00:00.000Z";

const open: Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function setup(clientId = "me") {
  const db = createMediaDb();
  open.push(db);
  createLibraryTables(db);
  const replica = new Replica(db, mediaConfig(), clientId, () => NOW_MS);
  replica.capturer.skipToEnd();
  const app = new MediaApp(db, clientId, () => EARLIER);
  const captured = () =>
    (db.prepare("SELECT line FROM sfs_captured ORDER BY change_id").all() as Array<{ line: string }>).map(
      (r) => JSON.parse(r.line) as ChangeLine,
    );
  const lastChangeId = () =>
    (db.prepare("SELECT max(change_id) AS m FROM sync_log").get() as { m: number }).m;
  const logByHand = (
    entity: string,
    uuid: string,
    op: string,
    ts: string,
    version: number,
    payload: string | null,
  ) =>
    db
      .prepare(
        `INSERT INTO sync_log (entity, entity_uuid, operation, timestamp, client_id, version, payload)
         VALUES (?, ?, ?, ?, 'me', ?, ?)`,
      )
      .run(entity, uuid, op, ts, version, payload);
  const apply = (line: ChangeLine) => replica.applyTransaction(() => replica.applier.apply(line, "test"));
  return { db, replica, app, captured, lastChangeId, logByHand, apply };
}

function entity(name: string): RowEntity {
  const e = mediaConfig().entities.get(name);
  if (e?.kind !== "rows") throw new Error(name);
  return e;
}

describe("capture", () => {
  it("captures local writes as lines of this client with the row's synced columns", () => {
    const { replica, app, captured } = setup();
    app.createMedia("m1", { title: "Intro" });
    app.setEmbedding("m1", Buffer.from([1, 2, 3])); // local-only: not a change
    app.createKeyword("k1", "python");
    app.link("m1", "k1");
    const result = replica.captureNow();
    expect(result).toEqual({ captured: 3, warnings: [] });
    const lines = captured();
    expect(lines.map((l) => [l.entity, l.op, l.uuid, l.client])).toEqual([
      ["Media", "create", "m1", "me"],
      ["Keywords", "create", "k1", "me"],
      ["MediaKeywords", "link", "m1_k1", "me"],
    ]);
    expect(Object.keys(lines[0]!.payload)).toEqual(entity("Media").payloadKeys);
    expect(lines[0]!.ts).toBe(EARLIER);
    expect(lines[2]!.version).toBe(0);
    expect(lines[2]!.payload).toEqual({ media_uuid: "m1", keyword_uuid: "k1" });
    // Nothing more on a second capture.
    expect(replica.captureNow().captured).toBe(0);
  });

  it("captures an unparseable sync_log timestamp as now, with a warning naming the change_id", () => {
    const { replica, app, captured, lastChangeId } = setup();
    app.stamp = () => "last tuesday";
    app.createMedia("m1", { title: "Intro" });
    const id = lastChangeId();
    app.stamp = () => EARLIER;
    app.createKeyword("k1", "python");
    const result = replica.captureNow();
    expect(result.captured).toBe(2);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toContain(`change_id ${id}`);
    expect(result.warnings[0]).toContain("last tuesday");
    const [media, keyword] = captured();
    expect(media!.ts).toBe(NOW_ISO);
    expect(keyword!.ts).toBe(EARLIER);
    expect(replica.registers.get("Media", "m1")?.key.ts).toBe(NOW_MS * 1000);
  });

  it("skips a sync_log entity unknown to the config, with a warning, and goes on", () => {
    const { replica, app, captured, lastChangeId, logByHand } = setup();
    logByHand("Playlists", "p1", "create", EARLIER, 1, '{"uuid":"p1","name":"x"}');
    const id = lastChangeId();
    app.createKeyword("k1", "python");
    const result = replica.captureNow();
    expect(result.captured).toBe(1);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toContain(`change_id ${id}`);
    expect(result.warnings[0]).toContain("Playlists");
    expect(captured().map((l) => l.entity)).toEqual(["Keywords"]);
    expect(replica.registers.get("Playlists", "p1")).toBeUndefined();
    // The cursor moved past it: it is not warned about again.
    expect(replica.capturer.cursor).toBe(lastChangeId());
    expect(replica.captureNow()).toEqual({ captured: 0, warnings: [] });
  });

  it("exports a delete whose trigger payload lacks columns with every synced column filled from the row", () => {
    const { db, replica, app, captured, logByHand } = setup();
    app.createMedia("m1", { title: "Intro" });
    app.createTranscript("t1", "m1", "hello");
    replica.captureNow();
    // An app whose delete triggers log only the uuid.
    db.exec('DROP TRIGGER "fs_Media_delete"; DROP TRIGGER "fs_Transcripts_delete";');
    const del = "2026-03-01T11:30:00.000Z";
    db.prepare("UPDATE Transcripts SET deleted = 1, version = 2, last_modified = ? WHERE uuid = 't1'").run(
      del,
    );
    db.prepare("UPDATE Media SET deleted = 1, version = 2, last_modified = ? WHERE uuid = 'm1'").run(del);
    logByHand("Transcripts", "t1", "delete", del, 2, '{"uuid":"t1"}');
    logByHand("Media", "m1", "delete", del, 2, '{"uuid":"m1"}');
    expect(replica.captureNow()).toEqual({ captured: 2, warnings: [] });
    const [, , transcript, media] = captured();
    expect(transcript).toMatchObject({
      entity: "Transcripts",
      op: "delete",
      ts: del,
      version: 2,
      client: "me",
    });
    expect(Object.keys(transcript!.payload)).toEqual(entity("Transcripts").payloadKeys);
    expect(transcript!.payload).toEqual({
      uuid: "t1",
      whisper_model: "base",
      transcription: "hello",
      created_at: "2026-01-01",
      media_uuid: "m1",
      last_modified: del,
      version: 2,
      client_id: "me",
      deleted: 1,
    });
    expect(media).toMatchObject({ entity: "Media", op: "delete", ts: del, version: 2 });
    expect(Object.keys(media!.payload)).toEqual(entity("Media").payloadKeys);
    expect(media!.payload).toMatchObject({
      uuid: "m1",
      url: "https://example.com/m1",
      title: "Intro",
      type: "video",
      content: "text",
      content_hash: "hash-m1",
      is_trash: 0,
      deleted: 1,
    });
    expect(replica.registers.get("Media", "m1")?.key.flag).toBe(1);
  });

  it("does not capture what applying a peer's change wrote (no echo)", () => {
    const { replica, app, captured, apply } = setup();
    app.createMedia("m1", { title: "Intro" });
    replica.captureNow();
    apply({
      type: "change",
      entity: "Keywords",
      uuid: "k1",
      op: "create",
      ts: EARLIER,
      version: 1,
      client: "alice",
      payload: {
        uuid: "k1",
        keyword: "python",
        last_modified: EARLIER,
        version: 1,
        client_id: "alice",
        deleted: 0,
      },
    });
    apply({
      type: "change",
      entity: "MediaKeywords",
      uuid: "m1_k1",
      op: "link",
      ts: EARLIER,
      version: 0,
      client: "alice",
      payload: { media_uuid: "m1", keyword_uuid: "k1" },
    });
    expect(replica.captureNow().captured).toBe(0);
    expect(captured().map((l) => l.uuid)).toEqual(["m1"]);
    // A local change made afterwards is captured.
    app.unlink("m1", "k1");
    expect(replica.captureNow().captured).toBe(1);
    expect(captured().at(-1)).toMatchObject({ op: "unlink", uuid: "m1_k1", client: "me" });
  });

  it("a local write that lets pending peer changes show does not capture them as local changes (no echo)", () => {
    const { db, replica, app, captured, apply } = setup();
    app.createMedia("m1", { title: "Intro" });
    replica.captureNow();
    // alice links m1 to keyword k1 and adds a transcript to media m2; neither parent is here yet.
    const aliceTs = "2026-03-01T11:10:00.000Z";
    apply({
      type: "change",
      entity: "MediaKeywords",
      uuid: "m1_k1",
      op: "link",
      ts: aliceTs,
      version: 0,
      client: "alice",
      payload: { media_uuid: "m1", keyword_uuid: "k1" },
    });
    apply({
      type: "change",
      entity: "Transcripts",
      uuid: "t1",
      op: "create",
      ts: aliceTs,
      version: 1,
      client: "alice",
      payload: {
        uuid: "t1",
        whisper_model: "base",
        transcription: "hello",
        created_at: "2026-01-01",
        media_uuid: "m2",
        last_modified: aliceTs,
        version: 1,
        client_id: "alice",
        deleted: 0,
      },
    });
    expect(db.prepare("SELECT count(*) AS n FROM sfs_pending").get()).toEqual({ n: 2 });
    // The app here creates the very rows they wait for (uuids derived from content, an import of the same
    // data on two machines): the pending link and child now show.
    app.createKeyword("k1", "python");
    app.createMedia("m2", { title: "Other" });
    replica.captureNow();
    expect(db.prepare("SELECT count(*) AS n FROM MediaKeywords").get()).toEqual({ n: 1 });
    expect(db.prepare("SELECT count(*) AS n FROM Transcripts").get()).toEqual({ n: 1 });
    // Only the two local creates are this client's changes; alice's link and transcript are not re-exported
    // as ours, and their registers keep alice's keys.
    expect(captured().map((l) => `${l.entity} ${l.op} ${l.uuid}`)).toEqual([
      "Media create m1",
      "Keywords create k1",
      "Media create m2",
    ]);
    expect(replica.registers.get("MediaKeywords", "m1_k1")?.key.client).toBe("alice");
    expect(replica.registers.get("Transcripts", "t1")?.key.client).toBe("alice");
  });

  it("a row holding a value JSON cannot carry does not block applying peers' changes", () => {
    const { db, app, apply } = setup();
    app.createMedia("m1", { title: "Intro" });
    // SQLite stores 1e999 as an infinite REAL; the trigger's json_object logs it as 9.0e+999.
    db.prepare("UPDATE Media SET is_trash = 1e999 WHERE uuid = 'm1'").run();
    const line: ChangeLine = {
      type: "change",
      entity: "Keywords",
      uuid: "k9",
      op: "create",
      ts: EARLIER,
      version: 1,
      client: "alice",
      payload: {
        uuid: "k9",
        keyword: "rust",
        last_modified: EARLIER,
        version: 1,
        client_id: "alice",
        deleted: 0,
      },
    };
    let result: ReturnType<typeof apply> | undefined;
    expect(() => {
      result = apply(line);
    }).not.toThrow();
    expect(result?.result).toBe("applied");
    // Capture reports the row (a warning naming it) instead of failing the whole transaction.
    expect(result?.warnings.join("\n")).toMatch(/change_id \d+|Media m1/);
    expect(db.prepare("SELECT keyword FROM Keywords WHERE uuid = 'k9'").get()).toEqual({ keyword: "rust" });
  });
});
