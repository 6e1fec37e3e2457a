// The engine on real data, from a user's view: a database that already holds rows, a client id that already
// has files, both sides of a conflict, and writes of local-only columns.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MEDIA_CONFIG, mediaConfig } from "../../src/config/media-preset.js";
import { canonicalDump } from "../../src/sync/dump.js";
import { SyncManager } from "../../src/sync/sync-manager.js";
import { Cluster } from "../helpers/cluster.js";
import { createMediaDb, MediaApp } from "../helpers/media-app.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempFolder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "sfs-real-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, "shared"));
  return dir;
}

function openDb(dir: string, name: string) {
  const file = path.join(dir, `${name}.db`);
  const db = createMediaDb(file);
  cleanups.push(() => {
    db.close();
  });
  return { file, db, app: new MediaApp(db, name) };
}

async function init(dir: string, file: string, clientId: string, force = false) {
  const sync = await SyncManager.init({
    database: file,
    folder: path.join(dir, "shared"),
    clientId,
    config: MEDIA_CONFIG,
    force,
  });
  cleanups.push(() => sync.close());
  return sync;
}

describe("an existing database", () => {
  it("init adopts the rows it holds and exports them as creates; older sync_log rows are not exported", async () => {
    const dir = tempFolder();
    const a = openDb(dir, "old-laptop");
    // Years of use before sync: rows, a deleted row, a link, and the sync_log they left behind.
    a.app.createMedia("m1", { title: "Old talk" });
    a.app.createMedia("m2", { title: "Deleted one" });
    a.app.setDeleted("Media", "m2", true);
    a.app.createKeyword("k1", "history");
    a.app.link("m1", "k1");
    const before = a.app.syncLogCount();
    expect(before).toBe(5);
    const sync = await init(dir, a.file, "old-laptop");
    const report = await sync.synchronize();
    // One change per existing row (m2 as a delete) and per link; the 5 older sync_log rows are not exported.
    expect(report.export.exportedChanges).toBe(4);
    const b = openDb(dir, "new-laptop");
    const bs = await init(dir, b.file, "new-laptop");
    await bs.synchronize();
    expect(canonicalDump(b.db, mediaConfig()).tables).toEqual(canonicalDump(a.db, mediaConfig()).tables);
    expect(b.db.prepare("SELECT uuid, deleted FROM Media ORDER BY uuid").all()).toEqual([
      { uuid: "m1", deleted: 0 },
      { uuid: "m2", deleted: 1 },
    ]);
  });

  it("a client id that already has files in the folder is refused, unless forced; forced, it continues the seq", async () => {
    const dir = tempFolder();
    const a = openDb(dir, "laptop");
    const sync = await init(dir, a.file, "laptop");
    a.app.createMedia("m1", { title: "One" });
    await sync.synchronize();
    await sync.close();
    // The laptop's disk dies; a fresh database is set up under the same id.
    const b = openDb(dir, "laptop-restored");
    await expect(init(dir, b.file, "laptop")).rejects.toMatchObject({ code: "CLIENT_ID_IN_USE" });
    const forced = await init(dir, b.file, "laptop", true);
    b.app.createMedia("m2", { title: "Two" });
    const report = await forced.synchronize();
    expect(report.failed).toBe(false);
    expect(report.export.files).toEqual(["laptop-000000000002.ndjson"]);
  });
});

describe("both sides of a conflict", () => {
  it("the device whose edit was replaced can find it in its conflict log", async () => {
    const cluster = await Cluster.create(["alice", "bob"]);
    cleanups.push(() => cluster.close());
    cluster.write(0, (app) => app.createMedia("m1", { title: "Draft" }));
    await cluster.settle();
    // Both edit offline at the same moment with the same version: bob's client id is higher, bob wins.
    cluster.write(0, (app) => app.update("Media", "m1", "title", "Alice's title"));
    cluster.write(1, (app) => app.update("Media", "m1", "title", "Bob's title"));
    await cluster.settle();
    const alice = cluster.members[0]!;
    const title = alice.db.prepare("SELECT title FROM Media WHERE uuid = 'm1'").get();
    expect(title).toEqual({ title: "Bob's title" });
    const replaced = alice.sync.conflicts().find((c) => c.kind === "replaced");
    expect(replaced).toMatchObject({ entity: "Media", uuid: "m1", winnerKey: { client: "bob" } });
    expect(replaced?.loserPayload).toMatchObject({ title: "Alice's title" });
    const lost = cluster.members[1]!.sync.conflicts().find((c) => c.kind === "lost");
    expect(lost?.loserPayload).toMatchObject({ title: "Alice's title" });
  });
});

describe("local-only columns", () => {
  it("writing an embedding is not a change: nothing is logged or exported, and sync never touches it", async () => {
    const cluster = await Cluster.create(["alice", "bob"]);
    cleanups.push(() => cluster.close());
    cluster.write(0, (app) => app.createMedia("m1", { title: "Talk" }));
    await cluster.settle();
    const alice = cluster.members[0]!;
    const logged = alice.app.syncLogCount();
    alice.app.setEmbedding("m1", Buffer.from([1, 2, 3]));
    expect(alice.app.syncLogCount()).toBe(logged);
    const report = await alice.sync.synchronize();
    expect(report.export.files).toEqual([]);
    // A peer's later edit of the row leaves alice's embedding alone.
    cluster.write(1, (app) => app.update("Media", "m1", "title", "Retitled"));
    await cluster.settle();
    const row = alice.db.prepare("SELECT title, vector_embedding FROM Media WHERE uuid = 'm1'").get() as {
      title: string;
      vector_embedding: Buffer;
    };
    expect(row.title).toBe("Retitled");
    expect([...row.vector_embedding]).toEqual([1, 2, 3]);
  });
});
