import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MEDIA_CONFIG, mediaConfig } from "../../src/config/media-preset.js";
import { canonicalDump } from "../../src/sync/dump.js";
import { SyncManager } from "../../src/sync/sync-manager.js";
import { createMediaDb, MediaApp } from "../helpers/media-app.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(n: number) {
  const dir = mkdtempSync(path.join(tmpdir(), "sfs-two-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const folder = path.join(dir, "shared");
  mkdirSync(folder);
  const clients = [];
  for (let i = 0; i < n; i++) {
    const id = ["alice", "bob", "carol"][i]!;
    const dbPath = path.join(dir, `${id}.db`);
    const db = createMediaDb(dbPath);
    const app = new MediaApp(db, id);
    const sync = await SyncManager.init({ database: dbPath, folder, clientId: id, config: MEDIA_CONFIG });
    cleanups.push(async () => {
      await sync.close();
      db.close();
    });
    clients.push({ id, db, app, sync });
  }
  return { folder, clients };
}

describe("two clients through a folder", () => {
  it("converge, with a conflict and a link whose keyword arrives later", async () => {
    const { folder, clients } = await setup(2);
    const [a, b] = clients as [(typeof clients)[0], (typeof clients)[0]];
    a.app.stamp = () => "2026-01-01T10:00:00.000Z";
    a.app.createMedia("m1", { title: "Intro" });
    await a.sync.synchronize();
    const rb = await b.sync.synchronize();
    expect(rb.applied).toBe(1);
    // Concurrent edits of one row: equal timestamps and versions; the higher client id (bob) wins.
    a.app.stamp = () => "2026-01-01T11:00:00.000Z";
    b.app.stamp = () => "2026-01-01T11:00:00.000Z";
    a.app.update("Media", "m1", "title", "Alice's title");
    b.app.update("Media", "m1", "title", "Bob's title");
    // Bob tags the video with a keyword created in the same pass.
    b.app.createKeyword("k1", "python");
    b.app.link("m1", "k1");
    await a.sync.synchronize();
    await b.sync.synchronize();
    const ra = await a.sync.synchronize();
    expect(ra.applied).toBeGreaterThan(0);
    await b.sync.synchronize();
    expect(canonicalDump(a.db, mediaConfig())).toEqual(canonicalDump(b.db, mediaConfig()));
    const title = (a.db.prepare("SELECT title FROM Media WHERE uuid='m1'").get() as { title: string }).title;
    expect(title).toBe("Bob's title");
    expect(a.sync.conflicts().length + b.sync.conflicts().length).toBeGreaterThan(0);
    const links = a.db.prepare("SELECT count(*) AS n FROM MediaKeywords").get() as { n: number };
    expect(links.n).toBe(1);
    expect(readdirSync(path.join(folder, "changes")).sort()).toEqual([
      "alice-000000000001.ndjson",
      "alice-000000000002.ndjson",
      "bob-000000000001.ndjson",
    ]);
  });
});
