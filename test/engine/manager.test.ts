// SyncManager over a real folder: the folder marker guard, the database lock, batched apply of a large file
// with resume after an interruption, status(), and watch() converging two databases written by their apps.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MEDIA_CONFIG, mediaConfig } from "../../src/config/media-preset.js";
import type { Database } from "../../src/db.js";
import { canonicalDump } from "../../src/sync/dump.js";
import { SyncManager } from "../../src/sync/sync-manager.js";
import { FolderTransport } from "../../src/transport/folder-transport.js";
import type { SyncTransport } from "../../src/transport/transport.js";
import { createMediaDb, MediaApp } from "../helpers/media-app.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "sfs-manager-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, "shared"));
  return dir;
}

async function client(dir: string, id: string, extra: Partial<Parameters<typeof SyncManager.init>[0]> = {}) {
  const dbPath = path.join(dir, `${id}.db`);
  const db = createMediaDb(dbPath);
  cleanups.push(() => {
    db.close();
  });
  const sync = await SyncManager.init({
    database: dbPath,
    folder: path.join(dir, "shared"),
    clientId: id,
    config: MEDIA_CONFIG,
    ...extra,
  });
  cleanups.push(() => sync.close());
  return { db, app: new MediaApp(db, id), sync, dbPath };
}

async function eventually(check: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("the folder marker", () => {
  it("a pass on a folder without its marker stops with a clear error and writes nothing", async () => {
    const dir = tempDir();
    const a = await client(dir, "alice");
    a.app.createMedia("m1", { title: "Intro" });
    rmSync(path.join(dir, "shared"), { recursive: true });
    mkdirSync(path.join(dir, "shared")); // an empty mount point
    await expect(a.sync.synchronize()).rejects.toMatchObject({ code: "FOLDER_MARKER_MISSING" });
    expect(readdirSync(path.join(dir, "shared"))).toEqual([]);
  });

  it("a pass on another sync folder stops with a clear error", async () => {
    const dir = tempDir();
    const a = await client(dir, "alice");
    const other = path.join(dir, "other");
    mkdirSync(other);
    await new FolderTransport(other).ensureMarker({ format: 1, id: "another-folder" });
    rmSync(path.join(dir, "shared"), { recursive: true });
    const { renameSync } = await import("node:fs");
    renameSync(other, path.join(dir, "shared"));
    await expect(a.sync.synchronize()).rejects.toMatchObject({ code: "FOLDER_MARKER_MISMATCH" });
  });
});

describe("the database lock", () => {
  it("a second SyncManager on the same database is refused while the first is open", async () => {
    const dir = tempDir();
    const a = await client(dir, "alice");
    await expect(SyncManager.open({ database: a.dbPath })).rejects.toMatchObject({ code: "LOCKED" });
    await a.sync.close();
    const again = await SyncManager.open({ database: a.dbPath });
    await again.close();
    expect(existsSync(`${a.dbPath}.lock`)).toBe(false);
  });
});

describe("a large file", () => {
  it("is applied in batches, and an interrupted apply resumes where it stopped", async () => {
    const dir = tempDir();
    const a = await client(dir, "alice", { maxFileChanges: 100_000 });
    const db = a.db as Database;
    db.exec("BEGIN");
    for (let i = 0; i < 1200; i++) a.app.createKeyword(`k${String(i).padStart(5, "0")}`, `keyword ${i}`);
    db.exec("COMMIT");
    const exp = await a.sync.synchronize();
    expect(exp.export.files).toEqual(["alice-000000000001.ndjson"]);

    const bobPath = path.join(dir, "bob.db");
    const bobDb = createMediaDb(bobPath);
    cleanups.push(() => {
      bobDb.close();
    });
    // A transport whose stream fails after ~half the file once, as an unplugged stick would.
    const real = new FolderTransport(path.join(dir, "shared"));
    // Call 1 is the scan of the whole file, call 2 the apply pass: that one fails once.
    let calls = 0;
    const flaky: SyncTransport = {
      location: real.location,
      readMarker: () => real.readMarker(),
      ensureMarker: (m) => real.ensureMarker(m),
      list: () => real.list(),
      read: (n) => real.read(n),
      publish: (n, b) => real.publish(n, b),
      removeOwnTempFiles: (c) => real.removeOwnTempFiles(c),
      checkWritable: () => real.checkWritable(),
      unpublish: (n) => real.unpublish(n),
      watch: (h) => real.watch(h),
      async *stream(name: string, start = 0) {
        calls++;
        const fail = calls === 2;
        let seen = 0;
        for await (const chunk of real.stream(name, start)) {
          for (let at = 0; at < chunk.length; at += 16_384) {
            const piece = chunk.subarray(at, at + 16_384);
            seen += piece.length;
            if (fail && seen > 60_000) throw new Error("device removed");
            yield piece;
          }
        }
      },
    };
    const bob = await SyncManager.init({
      database: bobPath,
      folder: path.join(dir, "shared"),
      transport: flaky,
      clientId: "bob",
      config: MEDIA_CONFIG,
      wholeFileLimit: 1000,
      batchSize: 100,
    });
    cleanups.push(() => bob.close());
    const first = await bob.synchronize();
    // The scan read the whole file; the apply pass failed part way: some batches are in, the file waits.
    const partial = bobDb.prepare("SELECT seq, partial_offset, applied_changes FROM sfs_peers").get() as {
      seq: number;
      partial_offset: number;
      applied_changes: number;
    };
    expect(first.peers[0]?.state).toBe("waiting");
    expect(partial.seq).toBe(0);
    expect(partial.partial_offset).toBeGreaterThan(0);
    expect(partial.applied_changes).toBeGreaterThan(0);
    expect(partial.applied_changes).toBeLessThan(1200);
    const second = await bob.synchronize();
    expect(second.failed).toBe(false);
    const done = bobDb.prepare("SELECT seq, partial_offset, applied_changes FROM sfs_peers").get();
    expect(done).toEqual({ seq: 1, partial_offset: 0, applied_changes: 1200 });
    expect(canonicalDump(bobDb, mediaConfig())).toEqual(canonicalDump(a.db, mediaConfig()));
  });
});

describe("status", () => {
  it("names this client, the folder, pending local changes and each peer's state", async () => {
    const dir = tempDir();
    const a = await client(dir, "alice");
    const b = await client(dir, "bob");
    a.app.createMedia("m1", { title: "Intro" });
    expect((await a.sync.status()).pendingLocalChanges).toBe(1);
    await a.sync.synchronize();
    b.app.createKeyword("k1", "python");
    await b.sync.synchronize();
    const s = await a.sync.status();
    expect(s.clientId).toBe("alice");
    expect(s.folder).toBe(path.join(dir, "shared"));
    expect(s.pendingLocalChanges).toBe(0);
    expect(s.publishedFiles).toBe(1);
    await a.sync.synchronize();
    const s2 = await a.sync.status();
    expect(s2.peers).toMatchObject([{ client: "bob", seq: 1, appliedChanges: 1, state: "up-to-date" }]);
  });
});

describe("watch", () => {
  it("two watching databases converge on edits their apps make through their own connections", async () => {
    const dir = tempDir();
    const a = await client(dir, "alice", { localPollMs: 50, rescanIntervalMs: 500 });
    const b = await client(dir, "bob", { localPollMs: 50, rescanIntervalMs: 500 });
    const events: string[] = [];
    b.sync.on("applied", (e) => events.push(`applied ${e.client} ${e.seq}`));
    await a.sync.watch();
    await b.sync.watch();
    a.app.createMedia("m1", { title: "From alice" });
    b.app.createKeyword("k1", "from bob");
    const same = () =>
      JSON.stringify(canonicalDump(a.db, mediaConfig())) ===
        JSON.stringify(canonicalDump(b.db, mediaConfig())) &&
      (a.db.prepare("SELECT count(*) AS n FROM Keywords").get() as { n: number }).n === 1 &&
      (b.db.prepare("SELECT count(*) AS n FROM Media").get() as { n: number }).n === 1;
    await eventually(same);
    expect(events).toContain("applied alice 1");
  });
});

describe("inspect", () => {
  it("says which peer files are ready or waiting without applying anything", async () => {
    const dir = tempDir();
    const a = await client(dir, "alice");
    const b = await client(dir, "bob");
    a.app.createMedia("m1", { title: "Intro" });
    await a.sync.synchronize();
    const before = JSON.stringify(canonicalDump(b.db, mediaConfig()));
    const report = await b.sync.inspect();
    expect(report.peers).toMatchObject([
      { client: "alice", state: "up-to-date", ready: 1, appliedChanges: 0 },
    ]);
    expect(JSON.stringify(canonicalDump(b.db, mediaConfig()))).toBe(before);
    const status = await b.sync.status(report);
    expect(status.peers).toMatchObject([{ client: "alice", state: "up-to-date", ready: 1, behind: 1 }]);
    expect((await b.sync.synchronize()).applied).toBe(1);
  });
});
