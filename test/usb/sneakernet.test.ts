// A real USB stick without hardware (test/helpers/usb.ts): FAT32 and exFAT images mounted through FUSE.
// Those filesystems fold case, refuse ':' and keep whole-second (FAT: 2 s) mtimes. The tool must carry changeset
// files between two laptops' folders on them (sneakernet), work with the stick as the sync folder itself, leave
// nothing applied half way when the stick is pulled in the middle of a copy, and refuse to sync into the empty
// mount point of a stick that is not there.
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MEDIA_CONFIG, mediaConfig } from "../../src/config/media-preset.js";
import type { Database } from "../../src/db.js";
import { canonicalDump } from "../../src/sync/dump.js";
import type { SyncReport } from "../../src/sync/report.js";
import { SyncManager } from "../../src/sync/sync-manager.js";
import { FolderTransport } from "../../src/transport/folder-transport.js";
import { createMediaDb, MediaApp } from "../helpers/media-app.js";
import {
  cleanupSticks,
  copyChangeFiles,
  mountStick,
  requireStick,
  type Stick,
  type StickKind,
} from "../helpers/usb.js";

const KINDS: readonly StickKind[] = ["exfat", "vfat"];
const CHANGE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?-\d{12}\.ndjson$/;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  const errors: unknown[] = [];
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch (error) {
      errors.push(error);
    }
  }
  // Sticks last: the managers above are closed by now.
  await cleanupSticks();
  if (errors.length > 0) throw errors[0];
});

// The copy order is random, as a person picks files; the seed is printed when a test fails.
const SEED = Number(process.env.SFS_USB_SEED ?? Math.floor(Math.random() * 2 ** 31));
let random = mulberry32(SEED);
beforeEach(({ onTestFailed }) => {
  random = mulberry32(SEED);
  onTestFailed(() => {
    console.error(`copy order seed: SFS_USB_SEED=${SEED}`);
  });
});

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled(names: string[]): string[] {
  const out = [...names];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

interface Laptop {
  readonly id: string;
  /** The sync folder: a plain local directory, or the stick. */
  readonly folder: string;
  readonly db: Database;
  readonly app: MediaApp;
  readonly sync: SyncManager;
}

async function laptop(
  id: string,
  folder?: string,
  extra: Partial<Parameters<typeof SyncManager.init>[0]> = {},
): Promise<Laptop> {
  const home = mkdtempSync(path.join(tmpdir(), `sfs-usb-${id}-`));
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  const syncFolder = folder ?? path.join(home, "sync");
  if (folder === undefined) mkdirSync(syncFolder);
  const dbPath = path.join(home, `${id}.db`);
  const db = createMediaDb(dbPath);
  cleanups.push(() => {
    db.close();
  });
  const sync = await SyncManager.init({
    database: dbPath,
    folder: syncFolder,
    clientId: id,
    config: MEDIA_CONFIG,
    ...extra,
  });
  cleanups.push(() => sync.close());
  return { id, folder: syncFolder, db, app: new MediaApp(db, id), sync };
}

const dump = (db: Database) => canonicalDump(db, mediaConfig());
const count = (db: Database, table: string) =>
  (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
const title = (db: Database, uuid: string) =>
  (db.prepare("SELECT title FROM Media WHERE uuid = ?").get(uuid) as { title: string } | undefined)?.title;

/** A pass that neither failed nor republished nor stopped export. */
async function cleanSync(l: Laptop): Promise<SyncReport> {
  const report = await l.sync.synchronize();
  expect(report.failed, JSON.stringify(report)).toBe(false);
  expect(report.export.stopped).toBeUndefined();
  expect(report.export.republished).toEqual([]);
  return report;
}

/** Carry the stick to the other laptop: eject, then plug in again. */
async function carry(stick: Stick): Promise<void> {
  await stick.unmount();
  expect(readdirSync(stick.dir)).toEqual([]);
  await stick.remount();
}

const changesOf = (folder: string) => readdirSync(path.join(folder, "changes")).sort();

describe.each(KINDS)("a %s stick", (kind) => {
  beforeAll(() => {
    // Fails (never skips) with the missing package named when the machine cannot mount one.
    requireStick(kind);
  });

  it("carries changeset files between two laptops' own folders, both ways, with a conflict", {
    timeout: 120_000,
  }, async () => {
    const stick = await mountStick(kind, 64);
    const alice = await laptop("alice");
    const bob = await laptop("bob");

    alice.app.createMedia("m1", { title: "Intro" });
    alice.app.createMedia("m2", { title: "Second" });
    alice.app.createKeyword("k1", "python");
    alice.app.link("m1", "k1");
    alice.app.createTranscript("t1", "m1", "hello there");
    expect((await cleanSync(alice)).export.files).toEqual(["alice-000000000001.ndjson"]);
    alice.app.update("Media", "m2", "title", "Second take");
    expect((await cleanSync(alice)).export.files).toEqual(["alice-000000000002.ndjson"]);

    // Alice copies her files onto the stick, in whatever order, and hands it to bob.
    copyChangeFiles(alice.folder, stick.dir, shuffled);
    await carry(stick);
    expect(changesOf(stick.dir)).toEqual(["alice-000000000001.ndjson", "alice-000000000002.ndjson"]);
    copyChangeFiles(stick.dir, bob.folder, shuffled);
    const got = await cleanSync(bob);
    expect(got.applied).toBe(6);
    expect(got.peers).toMatchObject([{ client: "alice", state: "up-to-date", seq: 2 }]);
    expect(dump(bob.db)).toEqual(dump(alice.db));

    // Both edit m1 before they meet again: a conflict. Alice's edit stays on her laptop for now.
    alice.app.update("Media", "m1", "title", "Intro (alice)");
    expect((await cleanSync(alice)).export.files).toEqual(["alice-000000000003.ndjson"]);
    bob.app.update("Media", "m1", "title", "Intro (bob)");
    bob.app.createKeyword("k2", "rust");
    bob.app.link("m2", "k2");
    bob.app.setDeleted("Transcripts", "t1", true);
    expect((await cleanSync(bob)).export.files).toEqual(["bob-000000000001.ndjson"]);

    // Bob copies his whole changes/ (alice's files too) onto the stick; alice copies all of it back, her own
    // files included (same bytes, new mtimes), then puts her new file on the stick for bob.
    copyChangeFiles(bob.folder, stick.dir, shuffled);
    await carry(stick);
    copyChangeFiles(stick.dir, alice.folder, shuffled);
    const a = await cleanSync(alice);
    expect(a.peers).toMatchObject([{ client: "bob", state: "up-to-date", seq: 1 }]);
    expect(a.export.files).toEqual([]);
    copyChangeFiles(alice.folder, stick.dir, shuffled);
    await carry(stick);
    expect(changesOf(stick.dir)).toEqual([
      "alice-000000000001.ndjson",
      "alice-000000000002.ndjson",
      "alice-000000000003.ndjson",
      "bob-000000000001.ndjson",
    ]);
    copyChangeFiles(stick.dir, bob.folder, shuffled);
    const b = await cleanSync(bob);
    expect(b.peers).toMatchObject([{ client: "alice", state: "up-to-date", seq: 3 }]);
    expect(b.export.files).toEqual([]);

    expect(dump(bob.db)).toEqual(dump(alice.db));
    expect(title(alice.db, "m1")).toBe("Intro (bob)"); // the later edit wins on both
    expect(count(alice.db, "MediaKeywords")).toBe(2);
    expect(alice.sync.conflicts().length + bob.sync.conflicts().length).toBeGreaterThan(0);
    // Nothing more to do on either side.
    expect((await cleanSync(alice)).export.files).toEqual([]);
    expect((await cleanSync(bob)).applied).toBe(0);
  });

  it("works as the sync folder itself: exact lowercase names, no temp files, same-second edits", {
    timeout: 120_000,
  }, async () => {
    const stick = await mountStick(kind, 64);
    const alice = await laptop("alice", stick.dir);
    const bob = await laptop("bob", stick.dir);
    // The same keyword as alice's below, in another case, made before bob sees hers: one of the two is shadowed.
    bob.app.createKeyword("k2", "PYTHON");

    /** Edit, sync, edit again at once, sync: until two files share one whole-second mtime (the first try, mostly). */
    const sameSecondEdits = async (l: Laptop, tag: string): Promise<number> => {
      for (let round = 0; round < 5; round++) {
        l.app.createMedia(`${tag}${round}a`, { title: `${tag} ${round} a` });
        const first = await cleanSync(l);
        l.app.update("Media", `${tag}${round}a`, "title", `${tag} ${round} a, again`);
        const second = await cleanSync(l);
        const names = [...first.export.files, ...second.export.files];
        expect(names).toHaveLength(2);
        // Again at once: nothing new, and the file just written is not taken for a stranger's.
        expect((await cleanSync(l)).export.files).toEqual([]);
        const [m1, m2] = names.map((n) => statSync(path.join(stick.dir, "changes", n)).mtimeMs);
        if (Math.floor(m1! / 1000) === Math.floor(m2! / 1000)) return round + 1;
      }
      return 0;
    };

    alice.app.createKeyword("k1", "Python");
    alice.app.createMedia("m1", { title: "Intro" });
    alice.app.link("m1", "k1");
    await cleanSync(alice);
    const aliceRounds = await sameSecondEdits(alice, "a");
    expect(aliceRounds).toBeGreaterThan(0);

    await carry(stick); // to bob's laptop
    const atBob = await cleanSync(bob);
    expect(atBob.peers[0]).toMatchObject({ client: "alice", state: "up-to-date" });
    expect(title(bob.db, "m1")).toBe("Intro");
    expect(count(bob.db, "Media")).toBe(count(alice.db, "Media"));
    bob.app.update("Media", "m1", "title", "Intro, edited by bob");
    await cleanSync(bob);
    const bobRounds = await sameSecondEdits(bob, "b");
    expect(bobRounds).toBeGreaterThan(0);

    await carry(stick); // back to alice
    const atAlice = await cleanSync(alice);
    expect(atAlice.export.files).toEqual([]);
    await carry(stick);
    expect((await cleanSync(bob)).applied).toBe(0);
    expect(dump(bob.db)).toEqual(dump(alice.db));
    expect(title(alice.db, "m1")).toBe("Intro, edited by bob");

    // What is on the stick: the marker, changes/, and only exact lowercase changeset names.
    expect(readdirSync(stick.dir).sort()).toEqual(["changes", "folder-sync.json"]);
    const names = changesOf(stick.dir);
    for (const n of names) expect(n).toMatch(CHANGE_NAME);
    const files = { alice: 1 + 2 * aliceRounds, bob: 2 + 2 * bobRounds };
    expect(names.filter((n) => n.startsWith("alice-"))).toHaveLength(files.alice);
    expect(names.filter((n) => n.startsWith("bob-"))).toHaveLength(files.bob);
    expect(names.every((n) => n.startsWith("alice-") || n.startsWith("bob-"))).toBe(true);
    // The filesystem keeps whole seconds only, and it does fold case.
    for (const n of names) expect(statSync(path.join(stick.dir, "changes", n)).mtimeMs % 1000).toBe(0);
    expect(readFileSync(path.join(stick.dir, "changes", names[0]!.toUpperCase()))).toEqual(
      readFileSync(path.join(stick.dir, "changes", names[0]!)),
    );
    // After all those passes and remounts, nothing is republished and nobody is stopped.
    for (const l of [alice, bob]) {
      const s = await l.sync.status();
      expect(s.exportStopped).toBeUndefined();
      expect(s.publishedFiles).toBe(files[l.id as keyof typeof files]);
    }
  });

  it("a stick pulled in the middle of a copy leaves nothing applied half way", {
    timeout: 120_000,
  }, async () => {
    const stick = await mountStick(kind, 64);
    const alice = await laptop("alice");
    // Bob streams files over 64 KiB and applies them in batches: the strictest path for a cut file.
    const bob = await laptop("bob", undefined, { wholeFileLimit: 64 * 1024, batchSize: 200 });

    alice.app.createMedia("m1", { title: "Intro" });
    alice.app.createKeyword("k1", "python");
    alice.app.link("m1", "k1");
    await cleanSync(alice);
    // A big second file (well over the kernel's read-ahead), so the pull lands inside it.
    alice.db.exec("BEGIN");
    for (let i = 0; i < 1500; i++)
      alice.app.createMedia(`big${String(i).padStart(4, "0")}`, {
        title: `${"a long title ".repeat(60)}${i}`,
      });
    alice.db.exec("COMMIT");
    expect((await cleanSync(alice)).export.files).toEqual(["alice-000000000002.ndjson"]);
    const second = path.join(alice.folder, "changes", "alice-000000000002.ndjson");
    const full = readFileSync(second);
    expect(full.length).toBeGreaterThan(1024 * 1024);

    copyChangeFiles(alice.folder, stick.dir, shuffled);
    await carry(stick);

    // Bob's file manager copies the first file, then the second in 64 KiB pieces; one piece in, the stick is pulled.
    const from = path.join(stick.dir, "changes");
    const to = path.join(bob.folder, "changes");
    mkdirSync(to, { recursive: true });
    copyInPieces(path.join(from, "alice-000000000001.ndjson"), path.join(to, "alice-000000000001.ndjson"));
    let pulled = false;
    const error = await copyInPieces(
      path.join(from, "alice-000000000002.ndjson"),
      path.join(to, "alice-000000000002.ndjson"),
      async () => {
        if (!pulled) {
          pulled = true;
          await stick.pull();
        }
      },
    ).then(
      () => undefined,
      (e: unknown) => e as NodeJS.ErrnoException,
    );
    expect(error?.code).toMatch(/^(ENOTCONN|EIO|ENODEV)$/);
    await stick.unmount(); // the OS notices the stick is gone
    expect(readdirSync(stick.dir)).toEqual([]);
    const cut = readFileSync(path.join(to, "alice-000000000002.ndjson"));
    expect(cut.length).toBeGreaterThan(0);
    expect(cut.length).toBeLessThan(full.length);
    expect(cut).toEqual(full.subarray(0, cut.length));

    // Bob syncs: the first file applies, the cut one waits (not a failure) and none of it is applied.
    for (let pass = 0; pass < 2; pass++) {
      const r = await cleanSync(bob);
      expect(r.peers).toMatchObject([
        { client: "alice", state: "waiting", seq: 1, waiting: { seq: 2, reason: "incomplete" } },
      ]);
      expect(r.applied).toBe(pass === 0 ? 3 : 0);
      expect(count(bob.db, "Media")).toBe(1);
      expect(
        bob.db.prepare("SELECT seq, partial_offset FROM sfs_peers WHERE client = 'alice'").get(),
      ).toEqual({
        seq: 1,
        partial_offset: 0,
      });
      expect((await bob.sync.status()).peers).toMatchObject([{ client: "alice", state: "waiting" }]);
    }

    // The stick comes back; the copy is done again and completes; bob converges.
    await stick.remount();
    copyChangeFiles(stick.dir, bob.folder, shuffled);
    const done = await cleanSync(bob);
    expect(done.peers).toMatchObject([{ client: "alice", state: "up-to-date", seq: 2 }]);
    expect(done.applied).toBe(1500);
    expect(dump(bob.db)).toEqual(dump(alice.db));
  });

  it("pulled while it is the sync folder: the empty mount point is never synced into", {
    timeout: 120_000,
  }, async () => {
    const stick = await mountStick(kind, 64);
    const alice = await laptop("alice", stick.dir);
    alice.app.createMedia("m1", { title: "Intro" });
    expect((await cleanSync(alice)).export.files).toEqual(["alice-000000000001.ndjson"]);

    // Ejected: the mount point is an empty directory.
    alice.app.createMedia("m2", { title: "Made while the stick was out" });
    await stick.unmount();
    await expect(alice.sync.synchronize()).rejects.toMatchObject({ code: "FOLDER_MARKER_MISSING" });
    await expect(alice.sync.synchronize()).rejects.toMatchObject({ code: "FOLDER_MARKER_MISSING" });
    expect(readdirSync(stick.dir)).toEqual([]);
    await stick.remount();
    expect((await cleanSync(alice)).export.files).toEqual(["alice-000000000002.ndjson"]);

    // Yanked without ejecting: the mount is dead (ENOTCONN) until the OS drops it, then empty.
    alice.app.update("Media", "m1", "title", "Intro, edited");
    await cleanSync(alice);
    await stick.pull();
    alice.app.createMedia("m3", { title: "Made while the stick was yanked" });
    await expect(alice.sync.synchronize()).rejects.toMatchObject({
      code: expect.stringMatching(/^(TRANSPORT_FAILED|FOLDER_MARKER_MISSING)$/),
    });
    await stick.unmount();
    await expect(alice.sync.synchronize()).rejects.toMatchObject({ code: "FOLDER_MARKER_MISSING" });
    expect(readdirSync(stick.dir)).toEqual([]);

    // Plugged in again: alice publishes what is missing (a file lost with the unflushed stick is republished)
    // and her new change; a second laptop syncing from the stick gets everything.
    await stick.remount();
    const back = await alice.sync.synchronize();
    expect(back.failed, JSON.stringify(back)).toBe(false);
    expect(back.export.stopped).toBeUndefined();
    expect(back.export.files).toEqual(["alice-000000000004.ndjson"]);
    expect(changesOf(stick.dir)).toEqual([1, 2, 3, 4].map((n) => `alice-00000000000${n}.ndjson`));
    const bob = await laptop("bob", stick.dir);
    const atBob = await cleanSync(bob);
    expect(atBob.peers).toMatchObject([{ client: "alice", state: "up-to-date", seq: 4 }]);
    expect(dump(bob.db)).toEqual(dump(alice.db));
    expect(count(bob.db, "Media")).toBe(3);
  });

  it("pulled at random moments while syncing onto it: never a copied-database error, a peer converges", {
    timeout: 120_000,
  }, async () => {
    const stick = await mountStick(kind, 64);
    const alice = await laptop("alice", stick.dir);
    const outcomes: string[] = [];
    for (let round = 0; round < 6; round++) {
      alice.db.exec("BEGIN");
      for (let i = 0; i < 600; i++)
        alice.app.createMedia(`r${round}-${i}`, { title: `${"a long title ".repeat(50)}${i}` });
      alice.db.exec("COMMIT");
      // Yanked somewhere in the pass: while listing, re-reading its own files, writing the temp file, renaming.
      const delay = Math.floor(random() * 150);
      let pulling: Promise<void> | undefined;
      const timer = setTimeout(() => {
        pulling = stick.pull();
      }, delay);
      const first = await alice.sync.synchronize().then(
        (r) => (r.failed ? "failed" : "ok"),
        (e: { code?: string }) => e.code ?? "no code",
      );
      clearTimeout(timer);
      await (pulling ?? stick.pull());
      // A pull before the marker is read reports the folder as gone (FOLDER_MARKER_MISSING); later, the read
      // that failed is named (TRANSPORT_FAILED). Never a copied-database error or a stopped stream.
      expect(first).toMatch(/^(ok|TRANSPORT_FAILED|FOLDER_MARKER_MISSING)$/);
      await stick.unmount();
      await stick.remount();
      // Plugged in again: the pass republishes what the pull lost and publishes the rest.
      const again = await cleanSyncAllowingRepublish(alice);
      outcomes.push(`${delay} ms: ${first}, then ${JSON.stringify(again.export)}`);
    }
    const bob = await laptop("bob", stick.dir);
    const atBob = await cleanSync(bob);
    expect(atBob.peers, outcomes.join("\n")).toMatchObject([
      { client: "alice", state: "up-to-date", seq: 6 },
    ]);
    expect(count(bob.db, "Media")).toBe(3600);
    expect(dump(bob.db)).toEqual(dump(alice.db));
  });

  // A stick pulled while sync re-reads one of its own files (export's own-file check): the read error must name
  // the file (a TransportError), not surface as a bare "ENOTCONN ... close" from closing the handle.
  it("a pull while reading a file on it rejects with a TransportError naming the file", {
    timeout: 120_000,
  }, async () => {
    const stick = await mountStick(kind, 160);
    const transport = new FolderTransport(stick.dir);
    await transport.ensureMarker({ format: 1, id: "stick" });
    const name = "alice-000000000001.ndjson";
    // Large enough that reading it through FUSE takes far longer than the 20 ms before the pull.
    writeFileSync(path.join(stick.dir, "changes", name), Buffer.alloc(64 * 1024 * 1024, 0x61));
    await carry(stick); // nothing of it in the page cache
    const reading = transport.read(name);
    const timer = setTimeout(() => void stick.pull(), 20);
    const error = await reading.then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    clearTimeout(timer);
    expect(error, "the read finished before the pull: make the file larger").toBeDefined();
    expect({ name: error?.name, code: error?.code }).toEqual({
      name: "TransportError",
      code: "TRANSPORT_FAILED",
    });
    expect(error?.message).toContain(name);
  });

  // A pull during a publish can leave our temp file on the stick; a manager that stays open (watch, an app) must
  // remove it on a later pass, not only on its first.
  it("removes its own temp file left by a pull during a publish on a later pass, not only the first", {
    timeout: 120_000,
  }, async () => {
    const stick = await mountStick(kind, 64);
    const alice = await laptop("alice", stick.dir);
    alice.app.createMedia("m1", { title: "Intro" });
    await cleanSync(alice);
    // What a pull in the middle of publishing file 2 leaves behind: the start of its temp file.
    const stale = path.join(stick.dir, "changes", ".alice-000000000002.0123456789abcdef.tmp");
    writeFileSync(stale, '{"type":"header","format":1,"client":"alice","se');
    await carry(stick);
    alice.app.createMedia("m2", { title: "After the stick came back" });
    const r = await cleanSync(alice);
    expect(r.export.files).toEqual(["alice-000000000002.ndjson"]);
    expect(readdirSync(path.join(stick.dir, "changes")).filter((n) => n.startsWith("."))).toEqual([]);
  });
});

/** Like cleanSync, but a republished file is fine (the pull may have lost one). */
async function cleanSyncAllowingRepublish(l: Laptop): Promise<SyncReport> {
  const report = await l.sync.synchronize();
  expect(report.failed, JSON.stringify(report)).toBe(false);
  expect(report.export.stopped).toBeUndefined();
  return report;
}

/** Copies a file in 64 KiB pieces, as a file manager does; `afterPiece` runs after each piece is written. */
async function copyInPieces(from: string, to: string, afterPiece?: () => Promise<void>): Promise<void> {
  const src = openSync(from, "r");
  const dst = openSync(to, "w");
  try {
    const buffer = Buffer.alloc(64 * 1024);
    for (let position = 0; ; ) {
      const n = readSync(src, buffer, 0, buffer.length, position);
      if (n === 0) return;
      writeSync(dst, buffer, 0, n);
      position += n;
      await afterPiece?.();
    }
  } finally {
    closeSync(dst);
    try {
      closeSync(src);
    } catch {
      // the stick is gone
    }
  }
}
