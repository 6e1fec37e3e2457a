// A valid name that cannot be read yet (a cloud placeholder; here a FIFO, whose read would block forever)
// delays only its own peer: the pass finishes, the other peers' files apply, and the peer waits with a reason.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MEDIA_CONFIG } from "../../src/config/media-preset.js";
import { SyncManager } from "../../src/sync/sync-manager.js";
import { createMediaDb, MediaApp } from "../helpers/media-app.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function client(dir: string, id: string) {
  const file = path.join(dir, `${id}.db`);
  const db = createMediaDb(file);
  cleanups.push(() => {
    db.close();
  });
  const sync = await SyncManager.init({
    database: file,
    folder: path.join(dir, "shared"),
    clientId: id,
    config: MEDIA_CONFIG,
  });
  cleanups.push(() => sync.close());
  return { db, app: new MediaApp(db, id), sync };
}

describe("a file that cannot be read yet", () => {
  it("delays only its own peer; the pass completes and other peers apply", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sfs-fifo-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(path.join(dir, "shared"));
    const alice = await client(dir, "alice");
    const bob = await client(dir, "bob");
    const carol = await client(dir, "carol");
    alice.app.createMedia("m1", { title: "From alice" });
    await alice.sync.synchronize();
    bob.app.createKeyword("k1", "from bob");
    await bob.sync.synchronize();
    // Bob's file is not downloaded yet on carol's machine: a FIFO stands in for the placeholder.
    const changes = path.join(dir, "shared", "changes");
    const bobFile = path.join(changes, "bob-000000000001.ndjson");
    renameSync(bobFile, path.join(dir, "bob-file"));
    execFileSync("mkfifo", [bobFile]);
    const started = Date.now();
    const report = await carol.sync.synchronize();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(report.failed).toBe(false);
    expect(report.peers.find((p) => p.client === "alice")).toMatchObject({
      state: "up-to-date",
      appliedChanges: 1,
    });
    expect(report.peers.find((p) => p.client === "bob")).toMatchObject({
      state: "waiting",
      waiting: { seq: 1, reason: "not-regular" },
    });
    // The download completes: the real file replaces the placeholder.
    rmSync(bobFile);
    renameSync(path.join(dir, "bob-file"), bobFile);
    const later = await carol.sync.synchronize();
    expect(later.peers.find((p) => p.client === "bob")).toMatchObject({
      state: "up-to-date",
      appliedChanges: 1,
    });
  });
});
