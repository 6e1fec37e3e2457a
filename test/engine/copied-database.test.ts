// A copied database (two databases writing as one client) and the documented way out: one copy takes a new
// client id, which re-exports what the folder does not hold as it wrote it; every replica then converges.
import BetterSqlite3 from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { MEDIA_CONFIG, mediaConfig } from "../../src/config/media-preset.js";
import type { Database } from "../../src/db.js";
import { canonicalDump } from "../../src/sync/dump.js";
import { SyncManager } from "../../src/sync/sync-manager.js";
import { MemoryTransport } from "../../src/transport/memory-transport.js";
import { Cluster } from "../helpers/cluster.js";
import { MediaApp } from "../helpers/media-app.js";

let cluster: Cluster | undefined;
const extra: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of extra.splice(0)) await c();
  await cluster?.close();
  cluster = undefined;
});

describe("a copied database", () => {
  it("is stopped, then recovered by giving the copy a new client id; nothing is lost", async () => {
    cluster = await Cluster.create(["alice", "bob"]);
    cluster.write(0, (app) => app.createMedia("m1", { title: "Intro" }));
    await cluster.settle();
    const alice = cluster.members[0]!;
    // The database is copied to a new laptop; both keep writing as alice.
    const copyDb = new BetterSqlite3(
      (alice.db as unknown as BetterSqlite3.Database).serialize(),
    ) as unknown as Database;
    const copyView = MemoryTransport.fromSnapshot(alice.transport.snapshot(), {
      marker: { format: 1, id: "cluster-folder" },
    });
    const now = () => cluster!.time;
    let copy = await SyncManager.open({ database: copyDb, transport: copyView, now });
    extra.push(async () => {
      await copy.close();
      copyDb.close();
    });
    const copyApp = new MediaApp(copyDb, "alice", () => new Date(now()).toISOString());
    copyApp.createKeyword("k-copy", "made on the copy");
    copyApp.update("Media", "m1", "title", "Retitled on the copy");
    await copy.synchronize();
    cluster.write(0, (app) => app.createKeyword("k-orig", "made on the original"));
    await cluster.sync(0);
    // The sync service keeps the original's alice #2; the copy sees it replace its own.
    const name = "alice-000000000002.ndjson";
    copyView.putRaw(name, cluster.cloud.get(name)!);
    const stopped = await copy.synchronize();
    expect(stopped.failed).toBe(true);
    expect(stopped.export.stopped).toMatchObject({ code: "COPIED_DATABASE", file: `changes/${name}` });
    expect(stopped.export.stopped?.action).toContain("--client-id NEW --force");

    // The way out: the copy takes a new client id.
    await copy.close();
    copy = await SyncManager.init({
      database: copyDb,
      transport: copyView,
      folder: "memory:copy",
      clientId: "alice-laptop2",
      config: MEDIA_CONFIG,
      force: true,
      now,
    });
    const recovered = await copy.synchronize();
    expect(recovered.failed).toBe(false);
    expect(recovered.export.files).toEqual(["alice-laptop2-000000000001.ndjson"]);
    expect(recovered.export.exportedChanges).toBe(2);

    // Deliver everything everywhere.
    const copyFile = copyView.snapshot().get("alice-laptop2-000000000001.ndjson")!;
    cluster.cloud.set("alice-laptop2-000000000001.ndjson", copyFile);
    await cluster.settle();
    for (const [n, bytes] of cluster.cloud) copyView.putRaw(n, bytes);
    const last = await copy.synchronize();
    expect(last.failed).toBe(false);
    await cluster.settle();
    const dumps = [...cluster.dumps(), canonicalDump(copyDb, mediaConfig())];
    for (const d of dumps) expect(d).toEqual(dumps[0]);
    const keywords = copyDb.prepare("SELECT uuid FROM Keywords ORDER BY uuid").all();
    expect(keywords).toEqual([{ uuid: "k-copy" }, { uuid: "k-orig" }]);
    expect(copyDb.prepare("SELECT title FROM Media").get()).toEqual({ title: "Retitled on the copy" });
  });
});
