// The fault-injection harness (test/helpers/faults.ts) against the engine: each fault does to a replica what it
// should (a cut file waits, a corrupted one stops its stream until it is replaced, a placeholder waits, junk is
// never ingested, a missing marker stops the pass and writes nothing, a copied database is detected, a failed
// watcher falls back to rescans), in memory and on real folders (FIFOs, cp of a subset, a cut copy).
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { scanChangeset } from "../../src/changeset/decode.js";
import { MEDIA_CONFIG } from "../../src/config/media-preset.js";
import type { SyncReport } from "../../src/sync/report.js";
import { SyncManager } from "../../src/sync/sync-manager.js";
import { FolderTransport } from "../../src/transport/folder-transport.js";
import { parseChangeFileName } from "../../src/transport/names.js";
import { Cluster } from "../helpers/cluster.js";
import {
  appWrite,
  changesDir,
  cloneDatabase,
  copySubset,
  cutAt,
  cutCopy,
  deliverCut,
  deliverFlipped,
  deliverInOrder,
  deliverPlaceholder,
  dropJunk,
  FaultyTransport,
  flipFile,
  forgeVariant,
  forkMember,
  junkNames,
  killSyncAt,
  placeholderFifo,
  putJunkFile,
  randomFlips,
  readChanges,
  removeMarkerFile,
  rng,
  setupReplicas,
  skewClock,
  sneakernet,
  tempFolder,
  unplug,
  watcherError,
} from "../helpers/faults.js";
import { createMediaDb, MediaApp } from "../helpers/media-app.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function twoWithFiles(files = 3): Promise<Cluster> {
  const cluster = await Cluster.create(["alice", "bob"], [], {
    wrapTransport: (t) => new FaultyTransport(t),
    readTimeoutMs: 5,
  });
  cleanups.push(() => cluster.close());
  for (let i = 1; i <= files; i++) {
    cluster.write(0, (app) => app.createMedia(`m${i}`, { title: `title ${i}` }));
    await cluster.sync(0);
  }
  return cluster;
}

const peer = (report: SyncReport, client = "alice") => report.peers.find((p) => p.client === client)!;
const A1 = "alice-000000000001.ndjson";
const A2 = "alice-000000000002.ndjson";
const A3 = "alice-000000000003.ndjson";

async function eventually(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("bytes and names", () => {
  it("cuts, flips and forges", async () => {
    const cluster = await twoWithFiles(1);
    const bytes = cluster.cloud.get(A1)!;
    expect(cutAt(bytes, 10)).toEqual(bytes.subarray(0, 10));
    const r = rng(7);
    const { bytes: flipped, flips } = randomFlips(bytes, r);
    expect(flips.length).toBeGreaterThan(0);
    expect(Buffer.from(flipped).equals(Buffer.from(bytes))).toBe(false);
    const forged = forgeVariant(bytes);
    const [a, b] = await Promise.all([
      scanChangeset(bytes, { client: "alice", seq: 1 }),
      scanChangeset(forged, { client: "alice", seq: 1 }),
    ]);
    expect(a.ok && b.ok).toBe(true);
    if (a.ok && b.ok) {
      expect(b.header.prev).toBe(a.header.prev);
      expect(b.sha256).not.toBe(a.sha256);
    }
    // The same seed gives the same faults.
    expect(randomFlips(bytes, rng(7)).flips).toEqual(flips);
  });

  it("no junk name parses as a changeset file, and junk with valid content is never ingested", async () => {
    const cluster = await twoWithFiles(2);
    const names = junkNames(A1);
    expect(names.filter((n) => parseChangeFileName(n) !== undefined)).toEqual([]);
    const bob = cluster.members[1]!;
    for (const name of names) bob.transport.putRaw(name, forgeVariant(cluster.cloud.get(A1)!, name));
    dropJunk(bob.transport, A2, cluster.cloud.get(A2)!, rng(1));
    const report = await bob.sync.synchronize();
    expect(report.failed).toBe(false);
    expect(peer(report)).toBeUndefined();
    expect(report.junk.length).toBeGreaterThanOrEqual(names.length);
    expect(bob.app.has("Media", "m1")).toBe(false);
  });
});

describe("in memory", () => {
  it("a cut delivery waits (incomplete) until the whole file arrives", async () => {
    const cluster = await twoWithFiles(2);
    const bob = cluster.members[1]!;
    const bytes = cluster.cloud.get(A1)!;
    for (const at of [0, 1, bytes.length - 1, Math.floor(bytes.length / 2)]) {
      deliverCut(bob.transport, A1, bytes, at);
      const report = await bob.sync.synchronize();
      expect(peer(report).state).toBe("waiting");
      expect(peer(report).waiting?.reason).toBe("incomplete");
    }
    cluster.deliver(1, [0, 0]);
    expect(peer(await bob.sync.synchronize())).toMatchObject({ state: "up-to-date", seq: 2 });
  });

  it("a corrupted copy stops the stream until the service replaces it; a reorder waits on the gap", async () => {
    const cluster = await twoWithFiles(3);
    const bob = cluster.members[1]!;
    deliverInOrder(bob.transport, [[A3, cluster.cloud.get(A3)!]]);
    expect(peer(await bob.sync.synchronize()).waiting?.reason).toBe("gap");
    deliverFlipped(bob.transport, A1, cluster.cloud.get(A1)!, [{ at: 30, mask: 0x04 }]);
    const stopped = await bob.sync.synchronize();
    expect(stopped.failed).toBe(true);
    expect(["corrupt", "bad"]).toContain(peer(stopped).stopped?.reason);
    deliverInOrder(
      bob.transport,
      [
        [A1, cluster.cloud.get(A1)!],
        [A2, cluster.cloud.get(A2)!],
      ],
      { order: "reverse", duplicate: 2 },
    );
    expect(peer(await bob.sync.synchronize())).toMatchObject({ state: "up-to-date", seq: 3 });
  });

  it("a placeholder waits (not-regular), a stuck read waits (unreadable), and both recover", async () => {
    const cluster = await twoWithFiles(2);
    const bob = cluster.members[1]!;
    deliverPlaceholder(bob.transport, A1);
    expect(peer(await bob.sync.synchronize()).waiting?.reason).toBe("not-regular");
    bob.transport.putRaw(A1, cluster.cloud.get(A1)!);
    bob.transport.setStuck(A1, true);
    expect(peer(await bob.sync.synchronize()).waiting?.reason).toBe("unreadable");
    bob.transport.setStuck(A1, false);
    cluster.deliver(1, [0]);
    expect(peer(await bob.sync.synchronize())).toMatchObject({ state: "up-to-date", seq: 2 });
  });

  it("sneakernet copies a subset in random order; an interrupted copy waits until copied again", async () => {
    const cluster = await twoWithFiles(4);
    const [alice, bob] = cluster.members as [(typeof cluster.members)[0], (typeof cluster.members)[0]];
    const r = rng(3);
    let res = sneakernet(alice.transport, bob.transport, r, { interrupt: true, fraction: 1 });
    while (res.cut === undefined) res = sneakernet(alice.transport, bob.transport, r, { interrupt: true });
    const report = await bob.sync.synchronize();
    expect(report.failed).toBe(false);
    sneakernet(alice.transport, bob.transport, r, { fraction: 1 });
    expect(peer(await bob.sync.synchronize())).toMatchObject({ state: "up-to-date", seq: 4 });
  });

  it("an unplugged folder stops the pass and nothing is written; the wrong folder too", async () => {
    const cluster = await twoWithFiles(1);
    const bob = cluster.members[1]!;
    cluster.deliver(1, [0]);
    cluster.write(1, (app) => app.createKeyword("k1", "python"));
    const replug = unplug(bob.transport);
    await expect(bob.sync.synchronize()).rejects.toMatchObject({ code: "FOLDER_MARKER_MISSING" });
    expect(bob.app.has("Media", "m1")).toBe(false);
    expect(bob.transport.snapshot().has("bob-000000000001.ndjson")).toBe(false);
    replug();
    const wrong = unplug(bob.transport, undefined, "some-other-folder");
    await expect(bob.sync.synchronize()).rejects.toMatchObject({ code: "FOLDER_MARKER_MISMATCH" });
    wrong();
    await cluster.sync(1);
    expect(bob.app.has("Media", "m1")).toBe(true);
  });

  it("a skewed clock moves the replica's stamps", async () => {
    const cluster = await twoWithFiles(1);
    const bob = cluster.members[1]!;
    skewClock(bob, 3_600_000);
    expect(bob.now() - cluster.time).toBe(3_600_000);
    cluster.write(1, (app) => app.createKeyword("k1", "python"));
    expect(bob.db.prepare("SELECT last_modified FROM Keywords").get()).toEqual({
      last_modified: new Date(cluster.time + 3_600_000).toISOString(),
    });
  });

  it("a cloned database writes under the same name; the original stops with COPIED_DATABASE", async () => {
    const cluster = await twoWithFiles(1);
    const copy = await forkMember(cluster, 0);
    cleanups.push(() => copy.close());
    expect(copy.id).toBe("alice");
    copy.write((app) => app.createKeyword("k-copy", "on the copy"));
    await copy.sync.synchronize();
    cluster.write(0, (app) => app.createKeyword("k-orig", "on the original"));
    await cluster.sync(0);
    expect(copy.view.snapshot().get(A2)).not.toEqual(cluster.cloud.get(A2));
    const alice = cluster.members[0]!;
    alice.transport.putRaw(A2, copy.view.snapshot().get(A2)!);
    const report = await alice.sync.synchronize();
    expect(report.export.stopped?.code).toBe("COPIED_DATABASE");
    const db = cloneDatabase(alice.db);
    cleanups.push(() => {
      db.close();
    });
    expect(db.prepare("SELECT value FROM sfs_meta WHERE key = 'client_id'").get()).toEqual({
      value: "alice",
    });
  });

  it("publishes that fail before or after the rename, and reads that fail, lose nothing", async () => {
    const cluster = await twoWithFiles(1);
    const alice = cluster.members[0]!;
    const faulty = alice.view as FaultyTransport;
    cluster.write(0, (app) => app.createKeyword("k1", "python"));
    faulty.failPublishes(1);
    await expect(alice.sync.synchronize()).rejects.toMatchObject({ code: "TRANSPORT_FAILED" });
    expect(alice.transport.snapshot().has(A2)).toBe(false);
    cluster.write(0, (app) => app.createKeyword("k2", "rust"));
    faulty.failAfterPublish(1);
    await expect(alice.sync.synchronize()).rejects.toMatchObject({ code: "TRANSPORT_FAILED" });
    expect(alice.transport.snapshot().has(A2)).toBe(true);
    const next = await alice.sync.synchronize();
    expect(next.export.fastForwarded).toEqual([A2]);
    expect(faulty.fired.get("publish-before-rename")).toBe(1);
    expect(faulty.fired.get("publish-after-rename")).toBe(1);
    const bob = cluster.members[1]!;
    cluster.collect(0);
    cluster.deliver(1, [0, 0]);
    (bob.view as FaultyTransport).failReads(1);
    expect(peer(await bob.sync.synchronize()).waiting?.reason).toBe("unreadable");
    await cluster.settle();
    cluster.checkNoLocalChangeLost();
  });
});

describe("watch", () => {
  it("a watcher failing with ENOSPC falls back to the rescan (memory)", async () => {
    const cluster = await twoWithFiles(1);
    const bob = cluster.members[1]!;
    const failing = new FaultyTransport(bob.transport).failWatch("ENOSPC");
    const sync = await SyncManager.open({
      database: bob.db,
      transport: failing,
      now: bob.now,
      rescanIntervalMs: 30,
    });
    cleanups.push(() => sync.close());
    const errors: Error[] = [];
    sync.on("error", (e) => errors.push(e));
    await sync.watch();
    await eventually(() => errors.length > 0);
    expect((errors[0]!.cause as NodeJS.ErrnoException).code).toBe("ENOSPC");
    expect((await sync.status()).watcher).toBe("rescan-only");
    cluster.deliver(1, [0]);
    await eventually(() => bob.app.has("Media", "m1"));
  });

  it("a watcher that cannot start (EMFILE) still leaves the rescan", async () => {
    const cluster = await twoWithFiles(1);
    const bob = cluster.members[1]!;
    const failing = new FaultyTransport(bob.transport).failWatch("EMFILE", "throw");
    const sync = await SyncManager.open({
      database: bob.db,
      transport: failing,
      now: bob.now,
      rescanIntervalMs: 30,
    });
    cleanups.push(() => sync.close());
    await sync.watch();
    expect((await sync.status()).watcherProblem).toContain("EMFILE");
    cluster.deliver(1, [0]);
    await eventually(() => bob.app.has("Media", "m1"));
    expect(watcherError("EMFILE")).toMatchObject({ code: "EMFILE", syscall: "watch" });
  });
});

describe("real folders", () => {
  async function folderPair() {
    const { dir, dispose } = tempFolder();
    cleanups.push(dispose);
    const make = async (id: string, folder: string) => {
      const file = path.join(dir, `${id}.db`);
      const db = createMediaDb(file);
      cleanups.push(() => {
        db.close();
      });
      const sync = await SyncManager.init({
        database: file,
        folder,
        clientId: id,
        config: MEDIA_CONFIG,
        transport: new FolderTransport(folder, { readTimeoutMs: 500 }),
      });
      cleanups.push(() => sync.close());
      return { db, app: new MediaApp(db, id), sync, folder };
    };
    const shared = path.join(dir, "shared");
    mkdirSync(shared);
    const alice = await make("alice", shared);
    return { dir, shared, alice, make };
  }

  it("a FIFO placeholder waits without blocking, then downloads", async () => {
    const { dir, shared, alice, make } = await folderPair();
    const bob = await make("bob", shared);
    for (let i = 1; i <= 2; i++) {
      alice.app.createMedia(`m${i}`, { title: `t${i}` });
      await alice.sync.synchronize();
    }
    const download = placeholderFifo(shared, A1);
    const started = Date.now();
    const report = await bob.sync.synchronize();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(peer(report).waiting?.reason).toBe("not-regular");
    download();
    expect(peer(await bob.sync.synchronize())).toMatchObject({ state: "up-to-date", seq: 2 });
    expect(existsSync(path.join(dir, `.placeholder-${A1}`))).toBe(false);
  });

  it("a stick: cp of a subset (the last copy cut), corrupted and junk files, the marker removed mid-watch", async () => {
    const { dir, shared, alice, make } = await folderPair();
    for (let i = 1; i <= 4; i++) {
      alice.app.createMedia(`m${i}`, { title: `t${i}` });
      await alice.sync.synchronize();
    }
    // Bob's machine has its own copy of the folder (the stick), filled by cp.
    const stick = path.join(dir, "stick");
    copySubset(shared, stick, rng(1), { fraction: 0 });
    copyFileSync(path.join(shared, "folder-sync.json"), path.join(stick, "folder-sync.json"));
    const bob = await make("bob", stick);
    await bob.sync.close();
    const sync = await SyncManager.open({
      database: path.join(dir, "bob.db"),
      transport: new FolderTransport(stick, { readTimeoutMs: 500 }),
      rescanIntervalMs: 50,
    });
    cleanups.push(() => sync.close());
    const res = copySubset(shared, stick, rng(5), { fraction: 1, interrupt: true });
    expect(res.cut).toBeDefined();
    putJunkFile(stick, junkNames(A1)[0]!, readChanges(shared).get(A1)!);
    flipFile(path.join(changesDir(stick), res.copied[0] ?? res.cut!.name), [{ at: 5, mask: 1 }]);
    const first = await sync.synchronize();
    expect(first.junk.length).toBe(1);
    // Everything copied again, whole; then watch and pull the stick.
    copySubset(shared, stick, rng(6), { fraction: 1, filter: (n) => parseChangeFileName(n) !== undefined });
    const seen: string[] = [];
    for (const e of ["paused", "resumed", "pass"] as const) sync.on(e, () => seen.push(e));
    sync.on("error", (e) => seen.push(`error ${e.message}`));
    await sync.watch();
    await eventually(() => seen.includes("pass"));
    expect(bob.app.has("Media", "m4")).toBe(true);
    const replug = removeMarkerFile(stick);
    await eventually(() => seen.includes("paused"));
    replug();
    await eventually(() => seen.includes("resumed"));
    expect(seen.filter((s) => s.startsWith("error"))).toEqual([]);
  });

  it("a cut copy of a file waits; the watcher of a real folder can be made to fail", async () => {
    const { dir, shared, alice, make } = await folderPair();
    alice.app.createMedia("m1", { title: "t1" });
    await alice.sync.synchronize();
    const bob = await make("bob", shared);
    const file = path.join(changesDir(shared), A1);
    const whole = readChanges(shared).get(A1)!;
    const aside = path.join(dir, "whole");
    cutCopy(file, aside, whole.length);
    cutCopy(aside, file, whole.length - 1);
    expect(peer(await bob.sync.synchronize()).waiting?.reason).toBe("incomplete");
    cutCopy(aside, file, whole.length);
    const failing = new FaultyTransport(new FolderTransport(shared)).failWatch("EMFILE");
    const watched = await SyncManager.open({ database: bob.db, transport: failing, rescanIntervalMs: 50 });
    cleanups.push(() => watched.close());
    const errors: Error[] = [];
    watched.on("error", (e) => errors.push(e));
    await bob.sync.close();
    await watched.watch();
    await eventually(() => errors.length > 0 && bob.app.has("Media", "m1"));
    expect((await watched.status()).watcher).toBe("rescan-only");
  });
});

describe("killing the syncing process (test/crash's worker)", () => {
  it("a kill after the rename, before the export records it, fast-forwards on restart", async () => {
    const setup = await setupReplicas(["alice", "bob"]);
    cleanups.push(() => setup.dispose());
    const [alice] = setup.replicas;
    appWrite(alice!, (app) => app.createMedia("m1", { title: "t1" }));
    const run = await killSyncAt(alice!.dbPath, "publish-renamed");
    expect(run.killed).toBe(true);
    const sync = await SyncManager.open({ database: alice!.dbPath });
    cleanups.push(() => sync.close());
    const report = await sync.synchronize();
    expect(report.export.fastForwarded).toEqual([A1]);
    expect([...readChanges(setup.folder).keys()]).toEqual([A1]);
  }, 30_000);
});
