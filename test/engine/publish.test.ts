// Export's recorded publish intent and our own files in the folder (DESIGN section 6): a crash between
// rename and commit fast-forwards; a lost or cut-short own file is republished byte-identical; a file under
// our id that we never wrote (a copied database) stops export, and peers stop that stream on a broken chain.
import BetterSqlite3 from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { encodeChangeset } from "../../src/changeset/encode.js";
import type { ChangeLine } from "../../src/changeset/format.js";
import type { Database } from "../../src/db.js";
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

async function oneFile() {
  cluster = await Cluster.create(["alice", "bob"]);
  cluster.write(0, (app) => app.createMedia("m1", { title: "Intro" }));
  await cluster.sync(0);
  const alice = cluster.members[0]!;
  const name = "alice-000000000001.ndjson";
  const bytes = alice.transport.snapshot().get(name)!;
  return { alice, name, bytes };
}

describe("publish intent", () => {
  it("a crash between rename and commit fast-forwards: no duplicate, no gap", async () => {
    const { alice, name, bytes } = await oneFile();
    // The state a crash right after the rename leaves: the file is there, the database says "intended".
    alice.db.exec("UPDATE sfs_published SET state = 'intended', mtime_ms = NULL");
    alice.db.exec("UPDATE sfs_meta SET value = '0' WHERE key = 'export_cursor'");
    const report = await alice.sync.synchronize();
    expect(report.export.fastForwarded).toEqual([name]);
    expect(report.export.files).toEqual([]);
    expect([...alice.transport.snapshot().keys()]).toEqual([name]);
    expect(alice.transport.snapshot().get(name)).toEqual(bytes);
    cluster!.write(0, (app) => app.update("Media", "m1", "title", "Second"));
    const next = await alice.sync.synchronize();
    expect(next.export.files).toEqual(["alice-000000000002.ndjson"]);
  });

  it("a crash after the intent but before the rename publishes the same bytes", async () => {
    const { alice, name, bytes } = await oneFile();
    alice.transport.remove(name);
    alice.db.exec("UPDATE sfs_published SET state = 'intended'");
    alice.db.exec("UPDATE sfs_meta SET value = '0' WHERE key = 'export_cursor'");
    const report = await alice.sync.synchronize();
    expect(report.export.republished).toEqual([name]);
    expect(alice.transport.snapshot().get(name)).toEqual(bytes);
    expect(alice.db.prepare("SELECT state FROM sfs_published").all()).toEqual([{ state: "published" }]);
  });
});

describe("our own files in the folder", () => {
  it("a deleted own file is republished byte-identical", async () => {
    const { alice, name, bytes } = await oneFile();
    alice.transport.remove(name);
    const report = await alice.sync.synchronize();
    expect(report.export.republished).toEqual([name]);
    expect(alice.transport.snapshot().get(name)).toEqual(bytes);
  });

  it("a cut-short own file (a stick pulled before it flushed) is republished", async () => {
    const { alice, name, bytes } = await oneFile();
    alice.transport.putRaw(name, bytes.subarray(0, 40));
    const report = await alice.sync.synchronize();
    expect(report.failed).toBe(false);
    expect(report.export.republished).toEqual([name]);
    expect(alice.transport.snapshot().get(name)).toEqual(bytes);
  });

  it("a damaged own file (a flipped byte) is republished, not taken for another database's", async () => {
    const { alice, name, bytes } = await oneFile();
    alice.transport.putRaw(name, new TextDecoder().decode(bytes).replace("Intro", "Intrx"));
    const report = await alice.sync.synchronize();
    expect(report.failed).toBe(false);
    expect(report.export.republished).toEqual([name]);
    expect(alice.transport.snapshot().get(name)).toEqual(bytes);
  });

  it("a valid own file with other content stops export with the copied-database error", async () => {
    const { alice, name, bytes } = await oneFile();
    // Another database writing as alice published its own valid #1.
    const lines = new TextDecoder()
      .decode(bytes)
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    const header = lines[0] as { changes: [number, number]; created: string };
    const change = {
      ...(lines[1] as ChangeLine),
      payload: { ...(lines[1] as ChangeLine).payload, title: "Other" },
    };
    const other = encodeChangeset(
      { client: "alice", seq: 1, prev: null, changes: header.changes, created: header.created },
      [change],
    ).bytes;
    alice.transport.putRaw(name, other);
    cluster!.write(0, (app) => app.update("Media", "m1", "title", "Second"));
    const report = await alice.sync.synchronize();
    expect(report.failed).toBe(true);
    expect(report.export.stopped?.code).toBe("COPIED_DATABASE");
    expect(report.export.stopped?.message).toContain(name);
    expect(report.export.stopped?.action).toMatch(/new id|client id/);
    expect(report.export.files).toEqual([]);
  });
});

describe("a copied database", () => {
  it("is detected by the original (export stops) and by peers (the stream stops); others go on", async () => {
    cluster = await Cluster.create(["alice", "bob", "carol"]);
    cluster.write(0, (app) => app.createMedia("m1", { title: "Intro" }));
    await cluster.sync(0);
    const alice = cluster.members[0]!;
    // Someone copies alice's database to a new laptop: both now write as alice.
    const cloneDb = new BetterSqlite3(
      (alice.db as unknown as BetterSqlite3.Database).serialize(),
    ) as unknown as Database;
    const cloneTransport = MemoryTransport.fromSnapshot(alice.transport.snapshot(), {
      marker: { format: 1, id: "cluster-folder" },
    });
    const clone = await SyncManager.open({
      database: cloneDb,
      transport: cloneTransport,
      now: () => cluster!.time,
    });
    extra.push(async () => {
      await clone.close();
      cloneDb.close();
    });
    new MediaApp(cloneDb, "alice").createKeyword("k-clone", "from the copy");
    await clone.synchronize();
    cluster.write(0, (app) => app.createKeyword("k-orig", "from the original"));
    await cluster.sync(0);
    cluster.write(0, (app) => app.update("Keywords", "k-orig", "keyword", "original again"));
    await cluster.sync(0);
    // Bob gets the copy's alice #2 first, then the original's alice #3 (whose prev is the original's #2).
    const bob = cluster.members[1]!;
    bob.transport.putRaw("alice-000000000001.ndjson", cluster.cloud.get("alice-000000000001.ndjson")!);
    bob.transport.putRaw(
      "alice-000000000002.ndjson",
      cloneTransport.snapshot().get("alice-000000000002.ndjson")!,
    );
    bob.transport.putRaw("alice-000000000003.ndjson", cluster.cloud.get("alice-000000000003.ndjson")!);
    cluster.write(2, (app) => app.createKeyword("k-carol", "carol's"));
    await cluster.sync(2);
    bob.transport.putRaw("carol-000000000001.ndjson", cluster.cloud.get("carol-000000000001.ndjson")!);
    const report = await bob.sync.synchronize();
    expect(report.failed).toBe(true);
    const a = report.peers.find((p) => p.client === "alice")!;
    expect(a.state).toBe("stopped");
    expect(a.seq).toBe(2);
    expect(a.stopped?.reason).toBe("chain-broken");
    expect(a.stopped?.file).toBe("changes/alice-000000000003.ndjson");
    expect(report.peers.find((p) => p.client === "carol")?.appliedChanges).toBe(1);
    // The original sees a file under its own id that it never wrote.
    alice.transport.putRaw(
      "alice-000000000002.ndjson",
      cloneTransport.snapshot().get("alice-000000000002.ndjson")!,
    );
    const own = await alice.sync.synchronize();
    expect(own.export.stopped?.code).toBe("COPIED_DATABASE");
  });
});
