// Registers applied one peer change at a time (DESIGN section 5): add-wins links, pending links and children,
// rows whose update or delete arrives before their create, lost and duplicate changes.
import { afterEach, describe, expect, it } from "vitest";
import type { ApplyOutcome } from "../../src/apply/apply-change.js";
import { createLibraryTables } from "../../src/apply/library-tables.js";
import type { ChangeLine, ChangeOp, Payload, PayloadValue } from "../../src/changeset/format.js";
import { parseTimestamp } from "../../src/changeset/timestamp.js";
import { mediaConfig } from "../../src/config/media-preset.js";
import type { Database } from "../../src/db.js";
import { Replica } from "../../src/sync/replica.js";
import { createMediaDb } from "../helpers/media-app.js";

const NOW_MS = Date.parse("2026-03-01T12:00:00.000Z");
const T1 = "2026-01-01T10:00:00.000Z";
const T2 = "2026-01-01T10:00:00.001Z";
const T3 = "2026-01-01T11:00:00.000Z";

const open: Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function setup() {
  const db = createMediaDb();
  open.push(db);
  createLibraryTables(db);
  const replica = new Replica(db, mediaConfig(), "me", () => NOW_MS);
  replica.capturer.skipToEnd();
  return {
    db,
    replica,
    apply: (line: ChangeLine): ApplyOutcome =>
      replica.applyTransaction(() => replica.applier.apply(line, "test")).result,
    count: (sql: string, ...params: unknown[]) =>
      (db.prepare(`SELECT count(*) AS n FROM ${sql}`).get(...params) as { n: number }).n,
    row: (table: string, uuid: string) =>
      db.prepare(`SELECT * FROM ${table} WHERE uuid = ?`).get(uuid) as
        | Record<string, PayloadValue>
        | undefined,
    linked: (media: string, keyword: string) =>
      (
        db
          .prepare(
            `SELECT count(*) AS n FROM MediaKeywords mk JOIN Media m ON m.id = mk.media_id
             JOIN Keywords k ON k.id = mk.keyword_id WHERE m.uuid = ? AND k.uuid = ?`,
          )
          .get(media, keyword) as { n: number }
      ).n === 1,
    pending: () =>
      db
        .prepare("SELECT entity, uuid, parent_entity, parent_uuid FROM sfs_pending ORDER BY 1, 2, 3, 4")
        .all(),
  };
}

const DATA: Record<"Media" | "Keywords" | "Transcripts", (uuid: string) => Payload> = {
  Media: (uuid) => ({
    url: `https://example.com/${uuid}`,
    title: `Title ${uuid}`,
    type: "video",
    content: "text",
    author: null,
    ingestion_date: null,
    transcription_model: null,
    is_trash: 0,
    trash_date: null,
    content_hash: `hash-${uuid}`,
  }),
  Keywords: (uuid) => ({ keyword: `kw-${uuid}` }),
  Transcripts: () => ({
    whisper_model: "base",
    transcription: "hello",
    created_at: "2026-01-01",
    media_uuid: null,
  }),
};

/** A row change whose payload carries every synced column of its entity. */
function rowLine(
  entity: "Media" | "Keywords" | "Transcripts",
  uuid: string,
  op: Extract<ChangeOp, "create" | "update" | "delete">,
  ts: string,
  version: number,
  client: string,
  data: Payload = {},
): ChangeLine {
  return {
    type: "change",
    entity,
    uuid,
    op,
    ts,
    version,
    client,
    payload: {
      uuid,
      ...DATA[entity](uuid),
      ...data,
      last_modified: ts,
      version,
      client_id: client,
      deleted: op === "delete" ? 1 : 0,
    },
  };
}

function linkLine(
  op: "link" | "unlink",
  media: string,
  keyword: string,
  ts: string,
  client: string,
  version = 0,
): ChangeLine {
  return {
    type: "change",
    entity: "MediaKeywords",
    uuid: `${media}_${keyword}`,
    op,
    ts,
    version,
    client,
    payload: { media_uuid: media, keyword_uuid: keyword },
  };
}

/** A replica holding Media m1 and Keyword k1 (from peer alice). */
function withParents() {
  const r = setup();
  expect(r.apply(rowLine("Media", "m1", "create", T1, 1, "alice"))).toBe("applied");
  expect(r.apply(rowLine("Keywords", "k1", "create", T1, 1, "alice"))).toBe("applied");
  return r;
}

describe("link registers", () => {
  it("concurrent link and unlink at equal ts: the link wins, link first", () => {
    const r = withParents();
    // bob's client id is higher: only add-wins makes the link win.
    expect(r.apply(linkLine("link", "m1", "k1", T2, "alice"))).toBe("applied");
    expect(r.apply(linkLine("unlink", "m1", "k1", T2, "bob"))).toBe("lost");
    expect(r.linked("m1", "k1")).toBe(true);
    expect(r.replica.registers.get("MediaKeywords", "m1_k1")?.key).toMatchObject({
      flag: 1,
      client: "alice",
    });
  });

  it("concurrent link and unlink at equal ts: the link wins, unlink first", () => {
    const r = withParents();
    expect(r.apply(linkLine("unlink", "m1", "k1", T2, "bob"))).toBe("applied");
    expect(r.linked("m1", "k1")).toBe(false);
    expect(r.apply(linkLine("link", "m1", "k1", T2, "alice"))).toBe("applied");
    expect(r.linked("m1", "k1")).toBe(true);
    expect(r.replica.registers.get("MediaKeywords", "m1_k1")?.key).toMatchObject({
      flag: 1,
      client: "alice",
    });
  });

  it("a link's version does not matter: an unlink with a higher version still loses at equal ts", () => {
    const r = withParents();
    expect(r.apply(linkLine("link", "m1", "k1", T2, "alice", 0))).toBe("applied");
    expect(r.apply(linkLine("unlink", "m1", "k1", T2, "bob", 99))).toBe("lost");
    expect(r.linked("m1", "k1")).toBe(true);
  });

  it("an unlink with a later ts beats an earlier link, in both arrival orders", () => {
    for (const order of [0, 1]) {
      const r = withParents();
      const link = linkLine("link", "m1", "k1", T2, "zed");
      const unlink = linkLine("unlink", "m1", "k1", T3, "alice");
      const outcomes = (order === 0 ? [link, unlink] : [unlink, link]).map((l) => r.apply(l));
      expect(outcomes).toEqual(order === 0 ? ["applied", "applied"] : ["applied", "lost"]);
      expect(r.linked("m1", "k1"), `order ${order}`).toBe(false);
      expect(r.count("MediaKeywords")).toBe(0);
      expect(r.replica.registers.get("MediaKeywords", "m1_k1")?.key).toMatchObject({
        flag: 0,
        client: "alice",
      });
    }
  });

  it("a link whose keyword has not arrived is pending, and shown as soon as the keyword is created", () => {
    const r = setup();
    r.apply(rowLine("Media", "m1", "create", T1, 1, "alice"));
    expect(r.apply(linkLine("link", "m1", "k1", T2, "alice"))).toBe("applied");
    expect(r.count("MediaKeywords")).toBe(0);
    expect(r.pending()).toEqual([
      { entity: "MediaKeywords", uuid: "m1_k1", parent_entity: "Keywords", parent_uuid: "k1" },
    ]);
    expect(r.replica.registers.get("MediaKeywords", "m1_k1")?.key.flag).toBe(1);
    r.apply(rowLine("Keywords", "k1", "create", T1, 1, "alice"));
    expect(r.linked("m1", "k1")).toBe(true);
    expect(r.pending()).toEqual([]);
  });

  it("a link waiting for both parents shows only once both have arrived", () => {
    const r = setup();
    r.apply(linkLine("link", "m1", "k1", T2, "alice"));
    expect(r.pending()).toHaveLength(2);
    r.apply(rowLine("Keywords", "k1", "create", T1, 1, "alice"));
    expect(r.count("MediaKeywords")).toBe(0);
    expect(r.pending()).toEqual([
      { entity: "MediaKeywords", uuid: "m1_k1", parent_entity: "Media", parent_uuid: "m1" },
    ]);
    r.apply(rowLine("Media", "m1", "create", T1, 1, "alice"));
    expect(r.linked("m1", "k1")).toBe(true);
    expect(r.pending()).toEqual([]);
  });

  it("a pending link beaten by a greater unlink before its parent arrives ends absent", () => {
    const r = setup();
    r.apply(rowLine("Media", "m1", "create", T1, 1, "alice"));
    r.apply(linkLine("link", "m1", "k1", T2, "alice"));
    expect(r.apply(linkLine("unlink", "m1", "k1", T3, "bob"))).toBe("applied");
    r.apply(rowLine("Keywords", "k1", "create", T1, 1, "alice"));
    expect(r.count("MediaKeywords")).toBe(0);
    expect(r.pending()).toEqual([]);
    expect(r.replica.registers.get("MediaKeywords", "m1_k1")?.key).toMatchObject({ flag: 0, client: "bob" });
  });

  it("a link to a deleted (deleted=1) parent is shown", () => {
    const r = setup();
    expect(r.apply(rowLine("Media", "m1", "delete", T1, 2, "alice"))).toBe("applied");
    expect(r.row("Media", "m1")?.deleted).toBe(1);
    r.apply(rowLine("Keywords", "k1", "create", T1, 1, "alice"));
    expect(r.apply(linkLine("link", "m1", "k1", T2, "bob"))).toBe("applied");
    expect(r.linked("m1", "k1")).toBe(true);
    expect(r.pending()).toEqual([]);
  });
});

describe("lost and duplicate changes", () => {
  it("a lost change is recorded in sfs_conflicts with the loser's payload and both keys", () => {
    const r = setup();
    r.apply(rowLine("Keywords", "k1", "create", T1, 1, "alice"));
    r.apply(rowLine("Keywords", "k1", "update", T3, 2, "alice", { keyword: "winner" }));
    const loser = rowLine("Keywords", "k1", "update", T2, 2, "bob", { keyword: "loser" });
    expect(r.apply(loser)).toBe("lost");
    expect(r.row("Keywords", "k1")?.keyword).toBe("winner");
    const lost = r.replica.conflicts.list().filter((c) => c.kind === "lost");
    expect(lost).toHaveLength(1);
    const c = lost[0]!;
    expect(c).toMatchObject({ kind: "lost", entity: "Keywords", uuid: "k1", source: "test" });
    expect(c.loserPayload).toEqual({
      uuid: "k1",
      keyword: "loser",
      last_modified: T2,
      version: 2,
      client_id: "bob",
      deleted: 0,
    });
    expect(c.loserKey).toMatchObject({ tsMicros: parseTimestamp(T2), version: 2, flag: 0, client: "bob" });
    expect(c.winnerKey).toMatchObject({ tsMicros: parseTimestamp(T3), version: 2, flag: 0, client: "alice" });
    // The register still holds the winner.
    expect(JSON.parse(r.replica.registers.get("Keywords", "k1")!.payload)).toMatchObject({
      keyword: "winner",
    });
  });

  it("a lost link is recorded too", () => {
    const r = withParents();
    r.apply(linkLine("unlink", "m1", "k1", T3, "alice"));
    expect(r.apply(linkLine("link", "m1", "k1", T2, "bob"))).toBe("lost");
    const lost = r.replica.conflicts.list().filter((c) => c.kind === "lost");
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({
      entity: "MediaKeywords",
      uuid: "m1_k1",
      loserPayload: { media_uuid: "m1", keyword_uuid: "k1" },
      loserKey: { flag: 1, client: "bob", version: 0 },
      winnerKey: { flag: 0, client: "alice" },
    });
  });

  it("an equal key is a duplicate and records nothing", () => {
    const r = setup();
    const line = rowLine("Keywords", "k1", "create", T1, 1, "alice");
    expect(r.apply(line)).toBe("applied");
    const registerBefore = r.replica.registers.get("Keywords", "k1");
    expect(r.apply(line)).toBe("duplicate");
    // Same key written in another accepted form, with a different payload: still the same change.
    const sameKey = rowLine("Keywords", "k1", "create", "2026-01-01 10:00:00", 1, "alice", {
      keyword: "other",
    });
    expect(r.apply(sameKey)).toBe("duplicate");
    expect(r.replica.conflicts.count()).toBe(0);
    expect(r.replica.registers.get("Keywords", "k1")).toEqual(registerBefore);
    expect(r.row("Keywords", "k1")?.keyword).toBe("kw-k1");
    // Links too.
    r.apply(rowLine("Media", "m1", "create", T1, 1, "alice"));
    const link = linkLine("link", "m1", "k1", T2, "alice");
    expect(r.apply(link)).toBe("applied");
    expect(r.apply(link)).toBe("duplicate");
    expect(r.apply(linkLine("link", "m1", "k1", T2, "alice", 5))).toBe("duplicate");
    expect(r.replica.conflicts.count()).toBe(0);
  });
});

describe("rows that cannot be shown yet", () => {
  it("a child whose Media arrives later is pending, then shown with the right media_id", () => {
    const r = setup();
    // Another Media first, so that m1's local id is not 1.
    r.apply(rowLine("Media", "m0", "create", T1, 1, "alice"));
    const t = rowLine("Transcripts", "t1", "create", T2, 1, "bob", { media_uuid: "m1", transcription: "hi" });
    expect(r.apply(t)).toBe("applied");
    expect(r.row("Transcripts", "t1")).toBeUndefined();
    expect(r.pending()).toEqual([
      { entity: "Transcripts", uuid: "t1", parent_entity: "Media", parent_uuid: "m1" },
    ]);
    r.apply(rowLine("Media", "m1", "create", T1, 1, "alice"));
    const m1 = r.row("Media", "m1")!;
    const m0 = r.row("Media", "m0")!;
    expect(m1.id).not.toBe(m0.id);
    expect(r.row("Transcripts", "t1")).toMatchObject({
      media_id: m1.id,
      transcription: "hi",
      client_id: "bob",
      deleted: 0,
    });
    expect(r.pending()).toEqual([]);
  });

  it("a pending child shows whatever its register holds when the parent arrives", () => {
    const r = setup();
    r.apply(
      rowLine("Transcripts", "t1", "create", T1, 1, "bob", { media_uuid: "m1", transcription: "first" }),
    );
    r.apply(
      rowLine("Transcripts", "t1", "update", T2, 2, "bob", { media_uuid: "m1", transcription: "second" }),
    );
    r.apply(rowLine("Media", "m1", "create", T1, 1, "alice"));
    expect(r.row("Transcripts", "t1")).toMatchObject({ transcription: "second", version: 2 });
  });

  it("an update that arrives before the create inserts the row; the older create does not overwrite it", () => {
    const r = setup();
    expect(r.apply(rowLine("Media", "m1", "update", T3, 2, "bob", { title: "New" }))).toBe("applied");
    expect(r.row("Media", "m1")).toMatchObject({
      title: "New",
      version: 2,
      client_id: "bob",
      last_modified: T3,
      deleted: 0,
    });
    expect(r.apply(rowLine("Media", "m1", "create", T1, 1, "alice", { title: "Old" }))).toBe("lost");
    expect(r.row("Media", "m1")).toMatchObject({
      title: "New",
      version: 2,
      client_id: "bob",
      last_modified: T3,
    });
    expect(r.count("Media")).toBe(1);
  });

  it("a delete arriving first inserts a deleted=1 row; the later create does not resurrect it", () => {
    const r = setup();
    expect(r.apply(rowLine("Media", "m1", "delete", T3, 2, "bob", { title: "Gone" }))).toBe("applied");
    expect(r.row("Media", "m1")).toMatchObject({ title: "Gone", deleted: 1, version: 2 });
    expect(r.apply(rowLine("Media", "m1", "create", T1, 1, "alice", { title: "Old" }))).toBe("lost");
    expect(r.row("Media", "m1")).toMatchObject({ title: "Gone", deleted: 1, version: 2 });
    expect(r.replica.registers.get("Media", "m1")?.key).toMatchObject({ flag: 1, client: "bob" });
  });

  it("applying a peer's changes captures nothing (no echo)", () => {
    const r = withParents();
    r.apply(linkLine("link", "m1", "k1", T2, "alice"));
    expect(r.count("sync_log")).toBeGreaterThan(0);
    expect(r.count("sfs_captured")).toBe(0);
    expect(r.replica.captureNow().captured).toBe(0);
  });
});
