// Fault injection for tests: what sync services, sticks and filesystems do to a shared folder
// (/work/shared/research/folder-pitfalls.md), as small reusable functions.
//
//   bytes        cutAt, randomCut, flipBytes, randomFlips, forgeVariant (another valid file under one name)
//   names        junkNames / randomJunkName (conflict copies, temp and partial files, placeholders, OS junk)
//   in memory    over a MemoryTransport view (one replica's copy of the folder): deliverCut, deliverFlipped,
//                deliverPlaceholder, deliverInOrder (reorder, duplicate), sneakernet (a subset copied in random
//                order, the copy interrupted), dropJunk, unplug (the marker removed until replugged),
//                cloneDatabase / forkMember (a copied database: same client id on two databases), skewClock
//   transports   FaultyTransport: a SyncTransport wrapper whose watch() fails with EMFILE/ENOSPC (watcherError),
//                whose publish fails before or after the rename, whose reads fail
//   real folders tempFolder, mkfifo / placeholderFifo (a FIFO stands in for a cloud placeholder: its read would
//                block forever), copySubset (cp of a subset, the last copy cut), cutCopy, flipFile,
//                removeMarkerFile (an unmounted stick), putJunkFile
//   processes    killing the syncing process is test/crash's job (SIGKILL of test/helpers/crash-worker.ts):
//                killSyncAt runs that worker with --kill-at; setupReplicas/startWorker/appWrite are re-exported.
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { encodeChangeset } from "../../src/changeset/encode.js";
import type { ChangeLine, HeaderLine } from "../../src/changeset/format.js";
import { MEDIA_CONFIG } from "../../src/config/media-preset.js";
import type { Database } from "../../src/db.js";
import { TransportError } from "../../src/sync/errors.js";
import { SyncManager } from "../../src/sync/sync-manager.js";
import { MemoryTransport } from "../../src/transport/memory-transport.js";
import { CHANGES_DIR, MARKER_FILE, parseChangeFileName } from "../../src/transport/names.js";
import type {
  ChangeFileEntry,
  FolderMarker,
  Listing,
  SyncTransport,
  Unsubscribe,
  WatchHandlers,
} from "../../src/transport/transport.js";
import { prng, startWorker } from "../crash/harness.js";
import { CLUSTER_MARKER, type Cluster, type Member } from "./cluster.js";
import { MediaApp } from "./media-app.js";

export { appWrite, prng, setupReplicas, startWorker } from "../crash/harness.js";

// ---------------------------------------------------------------------------------------------------------
// Seeded randomness

export interface Rng {
  /** In [0, 1). */
  next(): number;
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
  /** A shuffled copy. */
  shuffle<T>(xs: readonly T[]): T[];
}

/** A seeded random source (mulberry32, test/crash/harness.ts prng) with the usual helpers. */
export function rng(seed: number): Rng {
  const next = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  return {
    next,
    int,
    pick: <T>(xs: readonly T[]): T => {
      if (xs.length === 0) throw new RangeError("rng.pick of an empty list");
      return xs[int(0, xs.length - 1)]!;
    },
    chance: (p) => next() < p,
    shuffle: <T>(xs: readonly T[]): T[] => {
      const out = [...xs];
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(0, i);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Bytes

/** The first `at` bytes (a copy): what an unplugged stick or an interrupted transfer leaves. */
export function cutAt(bytes: Uint8Array, at: number): Uint8Array {
  if (!Number.isSafeInteger(at) || at < 0 || at > bytes.length)
    throw new RangeError(`cutAt: ${at} is not in [0, ${bytes.length}]`);
  return bytes.slice(0, at);
}

/** Cut at a random byte in [0, length - 1]: always shorter than the file. */
export function randomCut(bytes: Uint8Array, r: Rng): { bytes: Uint8Array; at: number } {
  const at = r.int(0, Math.max(0, bytes.length - 1));
  return { bytes: cutAt(bytes, at), at };
}

export interface Flip {
  readonly at: number;
  /** XORed into the byte; non-zero. */
  readonly mask: number;
}

/** A copy with the given bytes XORed (bit rot, a bad transfer). */
export function flipBytes(bytes: Uint8Array, flips: readonly Flip[]): Uint8Array {
  const out = bytes.slice();
  for (const f of flips) {
    if (f.at < 0 || f.at >= out.length) throw new RangeError(`flipBytes: ${f.at} is outside the file`);
    if ((f.mask & 0xff) === 0) throw new RangeError("flipBytes: a mask of 0 changes nothing");
    out[f.at] = out[f.at]! ^ (f.mask & 0xff);
  }
  return out;
}

/** 1 to `max` random flips at distinct offsets (the result always differs from the input). */
export function randomFlips(bytes: Uint8Array, r: Rng, max = 3): { bytes: Uint8Array; flips: Flip[] } {
  if (bytes.length === 0) throw new RangeError("randomFlips: an empty file has no byte to flip");
  const flips: Flip[] = [];
  const used = new Set<number>();
  for (let n = r.int(1, max); n > 0 && used.size < bytes.length; n--) {
    let at = r.int(0, bytes.length - 1);
    while (used.has(at)) at = (at + 1) % bytes.length;
    used.add(at);
    flips.push({ at, mask: r.int(1, 255) });
  }
  return { bytes: flipBytes(bytes, flips), flips };
}

function parseLines(bytes: Uint8Array): { header: HeaderLine; changes: ChangeLine[] } {
  const lines = new TextDecoder().decode(bytes).trimEnd().split("\n");
  return {
    header: JSON.parse(lines[0]!) as HeaderLine,
    changes: lines.slice(1, -1).map((l) => JSON.parse(l) as ChangeLine),
  };
}

/**
 * Another complete, valid file under the same name (same header, prev and change range, a valid trailer) whose
 * first change differs: what a second database writing as the same client id, or Google Drive's two files of one
 * name, puts in the folder. Only the checksum and the chain can tell the two apart.
 */
export function forgeVariant(bytes: Uint8Array, tag = "forged"): Uint8Array {
  const { header, changes } = parseLines(bytes);
  const lines = changes.map((c) => ({ ...c, payload: { ...c.payload } }));
  const first = lines[0];
  if (first !== undefined) {
    if (first.op === "link" || first.op === "unlink") first.op = first.op === "link" ? "unlink" : "link";
    else {
      const key = Object.keys(first.payload).find(
        (k) =>
          typeof first.payload[k] === "string" &&
          !["uuid", "last_modified", "client_id"].includes(k) &&
          !k.endsWith("_uuid"),
      );
      if (key !== undefined) first.payload[key] = `${String(first.payload[key])} (${tag})`;
      else first.version += 1000;
    }
  }
  // With no change line to alter, the header's creation time differs instead.
  const created =
    lines.length === 0 ? new Date(Date.parse(header.created) + 1).toISOString() : header.created;
  return encodeChangeset(
    { client: header.client, seq: header.seq, prev: header.prev, changes: header.changes, created },
    lines,
  ).bytes;
}

// ---------------------------------------------------------------------------------------------------------
// Names that are not changeset files

/**
 * What services and tools name copies, partial downloads and placeholders of the changeset file `name`
 * (Syncthing, Dropbox in English, Portuguese and Korean, Google Drive, OneDrive, iCloud, Nextcloud, rclone, rsync,
 * another folder-sync's temp file, macOS, a case-folding tool). None of them may ever be ingested.
 */
export function junkNames(name: string): string[] {
  const parsed = parseChangeFileName(name);
  if (!parsed) throw new RangeError(`junkNames: ${name} is not a changeset file name`);
  const base = name.slice(0, -".ndjson".length);
  return [
    `${base}.sync-conflict-20261125-143012-ABCDEF7.ndjson`,
    `.syncthing.${name}.tmp`,
    `~syncthing~${name}.tmp`,
    `${base} (bob's conflicted copy 2026-11-25).ndjson`,
    `${base} (Cópia em conflito de pc-saito 2014-08-14).ndjson`,
    `${base} (충돌된 사본 2026-11-25).ndjson`,
    `${base} (Case Conflict).ndjson`,
    `${base} (1).ndjson`,
    `${base} (a1b2c3d4).ndjson`,
    `${base}-DESKTOP-AB12CD3.ndjson`,
    `${base}-laptop-2.ndjson`,
    // A OneDrive "-<host>" copy whose host is 12 digits: parses as a valid name unless client ids may not end
    // in "-<12 digits>".
    `${base}-123456789012.ndjson`,
    `${base} 2.ndjson`,
    `.${name}.icloud`,
    `${base} (conflicted copy 2026-11-25 143012).ndjson`,
    `${base}_conflict-20261125-143012.ndjson`,
    `.${name}.~1a2b3c4d`,
    `${name}.partial`,
    `${name}.1a2b3c4d.partial`,
    `${name}.part`,
    `${name}.filepart`,
    `${name}.crdownload`,
    `.${name}.Xy12Ab`,
    `.${base}.0123456789abcdef.tmp`,
    `._${name}`,
    `${name}~20261125-143012`,
    name.toUpperCase(),
    `${base}.NDJSON`,
    `${base}.ndjson.ndjson`,
    ` ${name}`,
    `${name} `,
  ];
}

export function randomJunkName(name: string, r: Rng): string {
  return r.pick(junkNames(name));
}

// ---------------------------------------------------------------------------------------------------------
// In memory: one replica's view of the folder (a MemoryTransport)

/** Puts a cut copy of `bytes` under the valid name (an unplugged stick, an interrupted download, rsync --inplace). */
export function deliverCut(view: MemoryTransport, name: string, bytes: Uint8Array, at: number): void {
  view.putRaw(name, cutAt(bytes, at));
}

/** Puts a corrupted copy under the valid name. */
export function deliverFlipped(view: MemoryTransport, name: string, bytes: Uint8Array, flips: Flip[]): void {
  view.putRaw(name, flipBytes(bytes, flips));
}

/**
 * Puts a placeholder under the valid name: present, not a regular file (an online-only file not downloaded).
 * Deliver the real bytes later with putRaw (Cluster.deliver does).
 */
export function deliverPlaceholder(view: MemoryTransport, name: string): void {
  view.setNonRegular(name, true);
}

/**
 * Delivers `files` in the given order (default: as given), `duplicate` of them twice: out-of-seq arrival and
 * duplicate delivery. Returns the names in delivery order.
 */
export function deliverInOrder(
  view: MemoryTransport,
  files: ReadonlyArray<readonly [string, Uint8Array]>,
  options: { order?: "given" | "reverse" | Rng; duplicate?: number } = {},
): string[] {
  const order = options.order ?? "given";
  const list =
    order === "given" ? [...files] : order === "reverse" ? [...files].reverse() : order.shuffle(files);
  const names: string[] = [];
  for (const [name, bytes] of list) {
    view.putRaw(name, bytes);
    names.push(name);
  }
  for (const [name, bytes] of list.slice(0, options.duplicate ?? 0)) {
    view.putRaw(name, bytes);
    names.push(name);
  }
  return names;
}

export interface SneakernetResult {
  /** Names copied whole, in copy order. */
  readonly copied: string[];
  /** The copy that was interrupted: its name and how many bytes arrived. */
  readonly cut?: { readonly name: string; readonly at: number };
}

/**
 * Sneakernet: copies a random subset (each regular file with probability `fraction`, default 0.6) of `from`'s
 * folder into `to`'s, in random order, overwriting, as a user with a stick and a file manager does; junk names go
 * along unless `changesOnly`. With `interrupt`, the last copy is cut at a random byte (the stick pulled mid-copy).
 */
export function sneakernet(
  from: MemoryTransport,
  to: MemoryTransport,
  r: Rng,
  options: { fraction?: number; interrupt?: boolean; changesOnly?: boolean } = {},
): SneakernetResult {
  const fraction = options.fraction ?? 0.6;
  const files = [...from.snapshot()].filter(
    ([name]) => !options.changesOnly || parseChangeFileName(name) !== undefined,
  );
  const chosen = r.shuffle(files.filter(() => r.chance(fraction)));
  const copied: string[] = [];
  for (const [i, [name, bytes]] of chosen.entries()) {
    if (options.interrupt && i === chosen.length - 1 && bytes.length > 0) {
      const { bytes: cut, at } = randomCut(bytes, r);
      to.putRaw(name, cut);
      return { copied, cut: { name, at } };
    }
    to.putRaw(name, bytes);
    copied.push(name);
  }
  return { copied };
}

/** Puts `bytes` under a junk name made from `name` (a conflict copy, a temp file ...); returns that name. */
export function dropJunk(view: MemoryTransport, name: string, bytes: Uint8Array, r: Rng): string {
  const junk = randomJunkName(name, r);
  view.putRaw(junk, bytes);
  return junk;
}

/**
 * Removes the folder marker (the stick is unplugged, the share is down); the returned function puts it back.
 * With `wrongId`, the marker is replaced by another folder's (the wrong stick) instead.
 */
export function unplug(
  view: MemoryTransport,
  marker: FolderMarker = CLUSTER_MARKER,
  wrongId?: string,
): () => void {
  if (wrongId === undefined) view.removeMarker();
  else view.setMarkerRaw(JSON.stringify({ format: marker.format, id: wrongId }));
  return () => view.setMarkerRaw(JSON.stringify({ format: marker.format, id: marker.id }));
}

/** Moves a replica's clock by `ms` from the cluster's time (ahead when positive); takes effect at once. */
export function skewClock(member: Member, ms: number): void {
  member.skewMs = ms;
}

/** A byte-for-byte copy of a database (a copied database file, a restored backup): same client id and state. */
export function cloneDatabase(db: Database): Database {
  return new BetterSqlite3((db as unknown as BetterSqlite3.Database).serialize()) as unknown as Database;
}

/** A copy of a cluster member: its database cloned, a view of its own, a SyncManager as the same client id. */
export interface Fork {
  readonly id: string;
  readonly db: Database;
  readonly app: MediaApp;
  readonly view: MemoryTransport;
  sync: SyncManager;
  readonly now: () => number;
  /** Local changes this fork's app made (since the fork). */
  localChanges: number;
  write(fn: (app: MediaApp) => unknown): void;
  close(): Promise<void>;
}

/** The documented way out of a copied database, on a fork: it takes a new client id (`init --force`). */
export async function giveNewClientId(
  fork: Fork,
  clientId: string,
  options: { maxFileChanges?: number } = {},
): Promise<void> {
  await fork.sync.close();
  fork.sync = await SyncManager.init({
    database: fork.db,
    transport: fork.view,
    folder: `memory:${clientId}`,
    clientId,
    config: MEDIA_CONFIG,
    force: true,
    now: fork.now,
    ...options,
  });
}

/**
 * Copies member i's database and folder view (its copy of the folder with every cloud file it lacks or holds
 * damaged replaced by the published bytes, unless `asIs`) and opens it as the same client id: the copied database
 * of DESIGN section 4, or a scratch copy of a replica to try something on.
 */
export async function forkMember(
  cluster: Cluster,
  i: number,
  options: { asIs?: boolean } = {},
): Promise<Fork> {
  const m = cluster.members[i]!;
  const db = cloneDatabase(m.db);
  const files = m.transport.snapshot();
  if (!options.asIs) for (const [name, bytes] of cluster.cloud) files.set(name, bytes);
  const view = MemoryTransport.fromSnapshot(files, { marker: CLUSTER_MARKER, chunkSize: 4096 });
  const now = m.now;
  const app = new MediaApp(db, m.id, () => new Date(now()).toISOString());
  const sync = await SyncManager.open({ database: db, transport: view, now, maxFileChanges: 7 });
  const fork: Fork = {
    id: m.id,
    db,
    app,
    view,
    sync,
    now,
    localChanges: 0,
    write(fn) {
      const before = app.syncLogCount();
      fn(app);
      fork.localChanges += app.syncLogCount() - before;
    },
    async close() {
      await fork.sync.close();
      db.close();
    },
  };
  return fork;
}

// ---------------------------------------------------------------------------------------------------------
// A transport wrapper with switchable faults

/** An error shaped like Node's for a failed watch: EMFILE (too many open files) or ENOSPC (no inotify watches). */
export function watcherError(code: "EMFILE" | "ENOSPC"): NodeJS.ErrnoException {
  const message =
    code === "EMFILE"
      ? "EMFILE: too many open files, watch"
      : "ENOSPC: System limit for number of file watchers reached, watch";
  return Object.assign(new Error(message), {
    code,
    errno: code === "EMFILE" ? -24 : -28,
    syscall: "watch",
  });
}

export type WatchFailure = {
  readonly code: "EMFILE" | "ENOSPC";
  /** "error": watch() resolves, then onError fires and no event ever comes; "throw": watch() rejects. */
  readonly mode: "error" | "throw";
};

/**
 * Wraps a transport (a MemoryTransport view, a FolderTransport) and injects faults on demand:
 *   failWatch      watch() fails (EMFILE / ENOSPC): onError fires and no event ever comes, or watch() rejects
 *   failPublishes  the next publishes throw before writing anything (a full disk, a crash before the rename)
 *   failAfterPublish the next publishes write the file, then throw (a crash after the rename, before the
 *                  database records it)
 *   failReads      the next reads (and streams) throw (EIO, a network share hiccup)
 *   heal           clears every pending fault
 */
export class FaultyTransport implements SyncTransport {
  readonly location: string;
  watchFailure: WatchFailure | undefined;
  #failPublishes = 0;
  #failAfterPublish = 0;
  #failReads = 0;
  /** Faults that fired, by kind. */
  readonly fired = new Map<string, number>();

  constructor(readonly inner: SyncTransport) {
    this.location = inner.location;
  }

  failWatch(code: "EMFILE" | "ENOSPC", mode: WatchFailure["mode"] = "error"): this {
    this.watchFailure = { code, mode };
    return this;
  }

  failPublishes(count = 1): this {
    this.#failPublishes = count;
    return this;
  }

  failAfterPublish(count = 1): this {
    this.#failAfterPublish = count;
    return this;
  }

  failReads(count = 1): this {
    this.#failReads = count;
    return this;
  }

  /** Whether an injected publish or read failure is still waiting to fire. */
  get armed(): boolean {
    return this.#failPublishes + this.#failAfterPublish + this.#failReads > 0;
  }

  heal(): void {
    this.watchFailure = undefined;
    this.#failPublishes = 0;
    this.#failAfterPublish = 0;
    this.#failReads = 0;
  }

  #fire(kind: string): void {
    this.fired.set(kind, (this.fired.get(kind) ?? 0) + 1);
  }

  readMarker(): Promise<FolderMarker | undefined> {
    return this.inner.readMarker();
  }

  ensureMarker(fresh: FolderMarker): Promise<FolderMarker> {
    return this.inner.ensureMarker(fresh);
  }

  list(): Promise<Listing> {
    return this.inner.list();
  }

  #readFault(name: string): TransportError | undefined {
    if (this.#failReads <= 0) return undefined;
    this.#failReads--;
    this.#fire("read");
    return new TransportError(
      "TRANSPORT_FAILED",
      `Cannot read ${this.location}/changes/${name}: EIO: i/o error, read (injected).`,
      { cause: Object.assign(new Error("EIO: i/o error, read"), { code: "EIO" }) },
    );
  }

  async read(name: string): Promise<Uint8Array> {
    const fault = this.#readFault(name);
    if (fault) throw fault;
    return this.inner.read(name);
  }

  async *stream(name: string, start?: number): AsyncIterable<Uint8Array> {
    const fault = this.#readFault(name);
    if (fault) throw fault;
    yield* this.inner.stream(name, start);
  }

  async publish(name: string, bytes: Uint8Array): Promise<void> {
    if (this.#failPublishes > 0) {
      this.#failPublishes--;
      this.#fire("publish-before-rename");
      throw new TransportError(
        "TRANSPORT_FAILED",
        `Could not publish ${this.location}/changes/${name}: ENOSPC: no space left on device (injected).`,
      );
    }
    await this.inner.publish(name, bytes);
    if (this.#failAfterPublish > 0) {
      this.#failAfterPublish--;
      this.#fire("publish-after-rename");
      throw new TransportError(
        "TRANSPORT_FAILED",
        `Published ${this.location}/changes/${name}, then failed before recording it (injected).`,
      );
    }
  }

  checkWritable(): Promise<void> {
    return this.inner.checkWritable();
  }

  unpublish(name: string): Promise<void> {
    return this.inner.unpublish(name);
  }

  removeOwnTempFiles(client: string): Promise<number> {
    return this.inner.removeOwnTempFiles(client);
  }

  async watch(handlers: WatchHandlers): Promise<Unsubscribe> {
    const failure = this.watchFailure;
    if (failure === undefined) return this.inner.watch(handlers);
    this.#fire("watch");
    if (failure.mode === "throw")
      throw new TransportError(
        "TRANSPORT_FAILED",
        `Cannot watch ${this.location}: ${watcherError(failure.code).message}`,
        {
          cause: watcherError(failure.code),
        },
      );
    // Like chokidar: the watcher starts, then reports the error; no change event ever follows.
    setImmediate(() => handlers.onError(watcherError(failure.code)));
    return async () => undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Real folders (FolderTransport)

/** A temp directory (removed by dispose). */
export function tempFolder(prefix = "sfs-faults-"): { dir: string; dispose: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export function changesDir(folder: string): string {
  return path.join(folder, CHANGES_DIR);
}

/** Makes a FIFO at `file` (mkfifo(1)): a name whose read would block forever without O_NONBLOCK. */
export function mkfifo(file: string): void {
  execFileSync("mkfifo", [file]);
}

/**
 * Turns `changes/<name>` into a cloud placeholder not yet downloaded: the real file is moved aside and a FIFO
 * takes its name. The returned function "downloads" it (the real file replaces the FIFO).
 */
export function placeholderFifo(folder: string, name: string): () => void {
  const file = path.join(changesDir(folder), name);
  const aside = path.join(folder, `.placeholder-${name}`);
  renameSync(file, aside);
  mkfifo(file);
  return () => {
    rmSync(file, { force: true });
    renameSync(aside, file);
  };
}

/** Copies `src` to `dst` cut after `at` bytes (cp interrupted by an unplugged stick). */
export function cutCopy(src: string, dst: string, at: number): void {
  writeFileSync(dst, cutAt(readFileSync(src), at));
}

/** Corrupts a file in place. */
export function flipFile(file: string, flips: readonly Flip[]): void {
  writeFileSync(file, flipBytes(readFileSync(file), flips));
}

/**
 * cp of a random subset of `from/changes` into `to/changes` (made if missing), in random order, overwriting;
 * with `interrupt`, the last copy is cut at a random byte. `filter` picks which names may be copied.
 */
export function copySubset(
  from: string,
  to: string,
  r: Rng,
  options: { fraction?: number; interrupt?: boolean; filter?: (name: string) => boolean } = {},
): SneakernetResult {
  const src = changesDir(from);
  const dst = changesDir(to);
  mkdirSync(dst, { recursive: true });
  const fraction = options.fraction ?? 0.6;
  const names = readdirSync(src)
    .sort()
    .filter((n) => (options.filter ?? (() => true))(n));
  const chosen = r.shuffle(names.filter(() => r.chance(fraction)));
  const copied: string[] = [];
  for (const [i, name] of chosen.entries()) {
    const size = readFileSync(path.join(src, name)).length;
    if (options.interrupt && i === chosen.length - 1 && size > 0) {
      const at = r.int(0, size - 1);
      cutCopy(path.join(src, name), path.join(dst, name), at);
      return { copied, cut: { name, at } };
    }
    copyFileSync(path.join(src, name), path.join(dst, name));
    copied.push(name);
  }
  return { copied };
}

/** Removes `folder/folder-sync.json` (the stick is unmounted); the returned function puts the same bytes back. */
export function removeMarkerFile(folder: string): () => void {
  const file = path.join(folder, MARKER_FILE);
  const bytes = readFileSync(file);
  rmSync(file);
  return () => writeFileSync(file, bytes);
}

export function putJunkFile(folder: string, name: string, bytes: Uint8Array | string): void {
  mkdirSync(changesDir(folder), { recursive: true });
  writeFileSync(path.join(changesDir(folder), name), bytes);
}

/** The changeset files of a real folder, by name (regular files only). */
export function readChanges(folder: string): Map<string, Uint8Array> {
  const dir = changesDir(folder);
  const out = new Map<string, Uint8Array>();
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort())
    if (parseChangeFileName(name)) {
      try {
        out.set(name, readFileSync(path.join(dir, name)));
      } catch {
        // a FIFO or a directory: not a file yet
      }
    }
  return out;
}

/** Entries of a listing by name (for assertions). */
export function byName(files: readonly ChangeFileEntry[]): Map<string, ChangeFileEntry> {
  return new Map(files.map((f) => [f.name, f]));
}

// ---------------------------------------------------------------------------------------------------------
// Killing the syncing process: test/crash's worker

export type KillPoint = "read" | "applied" | "publish-temp" | "publish-renamed" | "exported";

/**
 * Runs one sync worker process (test/helpers/crash-worker.ts) on a file database and has it SIGKILL itself at the
 * k-th occurrence of `point` (see that file). Resolves when it is gone: killed, or done when the point never came.
 */
export async function killSyncAt(
  dbPath: string,
  point: KillPoint,
  k = 1,
  extraArgs: readonly string[] = [],
): Promise<{ killed: boolean; lines: string[]; stderr: string }> {
  const run = startWorker(dbPath, ["3", "--kill-at", `${point}:${k}`, ...extraArgs]);
  const { signal } = await run.exited;
  return { killed: signal === "SIGKILL", lines: run.lines, stderr: run.stderr() };
}
