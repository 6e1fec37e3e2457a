// The SyncTransport over a real directory (DESIGN section 3): the marker, `changes/` listing, guarded reads with a
// timeout, atomic publish (temp, fsync, rename, directory fsync) and a chokidar watch used only as a hint.

import { randomBytes } from "node:crypto";
import { constants, type Stats } from "node:fs";
import { type FileHandle, link, lstat, mkdir, open, readdir, rename, unlink } from "node:fs/promises";
import path from "node:path";
import { watch as chokidarWatch } from "chokidar";
import { TransportError } from "../sync/errors.js";
import {
  CHANGES_DIR,
  classifyJunk,
  isOwnTempFile,
  MARKER_FILE,
  parseChangeFileName,
  parseMarker,
  tempFileName,
} from "./names.js";
import type {
  ChangeFileEntry,
  FolderMarker,
  JunkEntry,
  Listing,
  SyncTransport,
  Unsubscribe,
  WatchHandlers,
} from "./transport.js";

export interface FolderTransportOptions {
  /** Poll instead of native events (network shares, FUSE mounts). Default false. */
  readonly usePolling?: boolean;
  /** How long one read (or one streamed chunk) may take before it fails, in ms. Default 30000. */
  readonly readTimeoutMs?: number;
}

const STAT_CONCURRENCY = 64;
// Opening a FIFO read-only blocks until a writer appears; O_NONBLOCK makes the open return at once, and it changes
// nothing for regular files. O_NOFOLLOW refuses a symlink swapped in after the lstat. Both absent on Windows.
const OPEN_READ = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0);

function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function fail(message: string, cause?: unknown): TransportError {
  return new TransportError("TRANSPORT_FAILED", message, cause === undefined ? undefined : { cause });
}

const byName = (a: { name: string }, b: { name: string }): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return "a directory";
  if (stats.isSymbolicLink()) return "a symbolic link";
  if (stats.isFIFO()) return "a FIFO";
  return "not a regular file";
}

async function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** fsync a directory so a rename in it survives a crash; some filesystems cannot, and that is accepted. */
async function fsyncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (error) {
    if (!["EISDIR", "EPERM", "EINVAL", "ENOTSUP", "EBADF", "EACCES"].includes(errnoCode(error) ?? ""))
      throw error;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

// Windows virus scanners and indexers briefly hold new files open, which makes rename fail with EPERM/EBUSY.
async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, to);
      return;
    } catch (error) {
      const transient = ["EPERM", "EACCES", "EBUSY"].includes(errnoCode(error) ?? "");
      if (process.platform !== "win32" || !transient || attempt >= 8) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
    }
  }
}

/**
 * A shared folder on disk.
 * @example
 * const transport = new FolderTransport("/mnt/stick/photos-sync", { usePolling: true });
 * const marker = await transport.readMarker();
 */
export class FolderTransport implements SyncTransport {
  readonly location: string;
  readonly #changesDir: string;
  readonly #markerPath: string;
  readonly #usePolling: boolean;
  readonly #readTimeoutMs: number;

  constructor(folder: string, options: FolderTransportOptions = {}) {
    const timeout = options.readTimeoutMs ?? 30_000;
    if (!Number.isFinite(timeout) || timeout <= 0) {
      throw new TypeError(`FolderTransport: readTimeoutMs must be a positive number of ms, got ${timeout}.`);
    }
    this.location = path.resolve(folder);
    this.#changesDir = path.join(this.location, CHANGES_DIR);
    this.#markerPath = path.join(this.location, MARKER_FILE);
    this.#usePolling = options.usePolling ?? false;
    this.#readTimeoutMs = timeout;
  }

  async readMarker(): Promise<FolderMarker | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await this.#readPath(this.#markerPath, MARKER_FILE);
    } catch (error) {
      if (errnoCode((error as Error).cause) === "ENOENT") return undefined;
      throw error;
    }
    return parseMarker(Buffer.from(bytes).toString("utf8"), this.#markerPath);
  }

  async ensureMarker(fresh: FolderMarker): Promise<FolderMarker> {
    const existing = await this.readMarker();
    if (existing !== undefined) return existing;
    await this.#ensureChangesDir();
    const temp = path.join(this.location, `.${MARKER_FILE}.${randomBytes(8).toString("hex")}.tmp`);
    try {
      await this.#writeSynced(
        temp,
        Buffer.from(`${JSON.stringify({ format: fresh.format, id: fresh.id })}\n`),
      );
      try {
        // link() fails with EEXIST when another client's marker arrived meanwhile, so it is never overwritten.
        await link(temp, this.#markerPath);
      } catch (error) {
        // FAT, exFAT and some network filesystems have no hard links: check, then rename (a narrow race).
        const taken = errnoCode(error) === "EEXIST" || (await this.readMarker()) !== undefined;
        if (!taken) await renameWithRetry(temp, this.#markerPath);
      }
      await fsyncDirectory(this.location);
    } catch (error) {
      if (error instanceof TransportError) throw error;
      throw fail(`Cannot write the marker ${this.#markerPath}: ${(error as Error).message}.`, error);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    const inForce = await this.readMarker();
    if (inForce === undefined)
      throw fail(`The marker ${this.#markerPath} vanished right after it was written.`);
    return inForce;
  }

  async list(): Promise<Listing> {
    let names: string[];
    try {
      names = await readdir(this.#changesDir);
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return { files: [], junk: [] };
      throw fail(
        `Cannot list ${this.#changesDir}: ${(error as Error).message}. Check that the folder is reachable.`,
        error,
      );
    }
    const files: ChangeFileEntry[] = [];
    const junk: JunkEntry[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < names.length) {
        const name = names[next++]!;
        let stats: Stats;
        try {
          stats = await lstat(path.join(this.#changesDir, name));
        } catch (error) {
          if (errnoCode(error) === "ENOENT") continue; // removed since the readdir
          throw fail(`Cannot stat ${path.join(this.#changesDir, name)}: ${(error as Error).message}.`, error);
        }
        const parsed = parseChangeFileName(name);
        if (parsed !== undefined) {
          const regular = stats.isFile();
          files.push({ name, ...parsed, regular, size: regular ? stats.size : 0, mtimeMs: stats.mtimeMs });
        } else {
          let kind = classifyJunk(name);
          if (kind === "unknown" && !stats.isFile()) kind = stats.isDirectory() ? "directory" : "not-regular";
          junk.push({ name, kind });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(STAT_CONCURRENCY, names.length) }, worker));
    return { files: files.sort(byName), junk: junk.sort(byName) };
  }

  async read(name: string): Promise<Uint8Array> {
    return this.#readPath(this.#changePath(name), name);
  }

  async *stream(name: string, start = 0): AsyncIterable<Uint8Array> {
    if (!Number.isSafeInteger(start) || start < 0)
      throw new RangeError(`stream start must be >= 0, got ${start}.`);
    const file = this.#changePath(name);
    const opening = this.#openRegular(file, name);
    // A late open after a timeout must still be closed.
    const handle = await withTimeout(opening, this.#readTimeoutMs, () => {
      opening.then((late) => late.close()).catch(() => undefined);
      return this.#timeoutError(file);
    });
    const chunks = handle.createReadStream({ start, highWaterMark: 1024 * 1024, autoClose: true });
    const iterator = chunks[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    try {
      for (;;) {
        let step: IteratorResult<Buffer>;
        try {
          step = await withTimeout(iterator.next(), this.#readTimeoutMs, () => this.#timeoutError(file));
        } catch (error) {
          if (error instanceof TransportError) throw error;
          throw fail(
            `Cannot read ${file}: ${(error as Error).message}. Is the folder's drive still there?`,
            error,
          );
        }
        if (step.done === true) return;
        yield step.value;
      }
    } finally {
      chunks.destroy();
    }
  }

  async publish(name: string, bytes: Uint8Array): Promise<void> {
    const parsed = parseChangeFileName(name);
    if (parsed === undefined) throw fail(`Refusing to publish "${name}": not a changeset file name.`);
    await this.#ensureChangesDir();
    const temp = path.join(
      this.#changesDir,
      tempFileName(parsed.client, parsed.seq, randomBytes(8).toString("hex")),
    );
    const target = path.join(this.#changesDir, name);
    try {
      await this.#writeSynced(temp, bytes);
      await renameWithRetry(temp, target);
      await fsyncDirectory(this.#changesDir);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw fail(
        `Could not publish ${target}: ${(error as Error).message}. Check that the folder is writable and has space; ` +
          "the next sync retries.",
        error,
      );
    }
  }

  async unpublish(name: string): Promise<void> {
    if (parseChangeFileName(name) === undefined)
      throw fail(`Refusing to remove "${name}": not a changeset file name.`);
    try {
      await unlink(this.#changePath(name));
    } catch (error) {
      if (errnoCode(error) !== "ENOENT")
        throw fail(`Cannot remove ${name}: ${(error as Error).message}.`, error);
    }
  }

  async checkWritable(): Promise<void> {
    const probe = path.join(
      this.location,
      CHANGES_DIR,
      `.folder-sync-write-test.${randomBytes(6).toString("hex")}.tmp`,
    );
    try {
      await this.#ensureChangesDir();
      await this.#writeSynced(probe, Buffer.from("write test\n"));
      await unlink(probe);
    } catch (error) {
      throw new TransportError(
        "FOLDER_UNWRITABLE",
        `Cannot write in ${path.join(this.location, CHANGES_DIR)}: ${(error as Error).message}. Check the folder's permissions and that its drive is mounted read-write.`,
        { cause: error },
      );
    }
  }

  async removeOwnTempFiles(client: string): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.#changesDir);
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return 0;
      throw fail(`Cannot list ${this.#changesDir}: ${(error as Error).message}.`, error);
    }
    let removed = 0;
    for (const name of names) {
      if (!isOwnTempFile(name, client)) continue;
      try {
        await unlink(path.join(this.#changesDir, name));
        removed++;
      } catch (error) {
        if (errnoCode(error) !== "ENOENT") {
          throw fail(`Cannot remove the stale temp file ${path.join(this.#changesDir, name)}.`, error);
        }
      }
    }
    return removed;
  }

  async watch(handlers: WatchHandlers): Promise<Unsubscribe> {
    const changesExists = await lstat(this.#changesDir).then(
      (stats) => stats.isDirectory(),
      () => false,
    );
    const target = changesExists ? this.#changesDir : this.location;
    const watcher = chokidarWatch(target, {
      depth: changesExists ? 0 : 1,
      ignoreInitial: true,
      usePolling: this.#usePolling,
      awaitWriteFinish: false,
      followSymlinks: false,
      // Watch directories only: chokidar would otherwise hold one handle per file (EMFILE on macOS, ENOSPC on
      // Linux with many files). Changes inside a watched directory still arrive as its "raw" events.
      ignored: (_path: string, stats?: Stats) => stats !== undefined && !stats.isDirectory(),
    });
    const changed = (): void => {
      try {
        handlers.onChange();
      } catch (error) {
        handlers.onError(error instanceof Error ? error : new Error(String(error)));
      }
    };
    for (const event of ["raw", "add", "change", "unlink", "addDir", "unlinkDir"] as const)
      watcher.on(event, changed);
    watcher.on("error", (error: unknown) => {
      const cause = error instanceof Error ? error : new Error(String(error));
      handlers.onError(
        fail(`Watching ${target} failed: ${cause.message}. Falling back to periodic rescans.`, cause),
      );
    });
    // Resolve on error too: the caller learns of it through onError and rescans on its timer.
    await new Promise<void>((resolve) => {
      watcher.once("ready", resolve);
      watcher.once("error", () => resolve());
    });
    let closed = false;
    return async () => {
      if (closed) return;
      closed = true;
      await watcher.close();
    };
  }

  #changePath(name: string): string {
    if (parseChangeFileName(name) === undefined) throw fail(`"${name}" is not a changeset file name.`);
    return path.join(this.#changesDir, name);
  }

  async #ensureChangesDir(): Promise<void> {
    try {
      // Not recursive: a missing root (an unmounted stick) must fail, not become a fresh folder.
      await mkdir(this.#changesDir);
    } catch (error) {
      const code = errnoCode(error);
      if (code === "EEXIST") return;
      const hint = code === "ENOENT" ? " The folder does not exist: create or mount it first." : "";
      throw fail(`Cannot create ${this.#changesDir}: ${(error as Error).message}.${hint}`, error);
    }
  }

  async #writeSynced(file: string, bytes: Uint8Array): Promise<void> {
    const handle = await open(file, "wx");
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Opens `file` only if it is a regular file, without ever blocking on a FIFO. */
  async #openRegular(file: string, shown: string): Promise<FileHandle> {
    let stats: Stats;
    try {
      stats = await lstat(file);
    } catch (error) {
      throw fail(`Cannot read ${file}: ${(error as Error).message}.`, error);
    }
    if (!stats.isFile())
      throw fail(`${file} is ${kindOf(stats)}, not a regular file; "${shown}" counts as missing.`);
    let handle: FileHandle;
    try {
      handle = await open(file, OPEN_READ);
    } catch (error) {
      throw fail(`Cannot open ${file}: ${(error as Error).message}.`, error);
    }
    // The name may have been swapped for something else between lstat and open.
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      throw fail(`${file} changed while it was being opened; it will be read again on the next pass.`);
    }
    return handle;
  }

  async #readPath(file: string, shown: string): Promise<Uint8Array> {
    const work = (async () => {
      const handle = await this.#openRegular(file, shown);
      try {
        return await handle.readFile();
      } catch (error) {
        // A drive pulled mid-read (ENOTCONN, EIO): name the file; the close below must not hide this.
        throw fail(
          `Cannot read ${file}: ${(error as Error).message}. Is the folder's drive still there?`,
          error,
        );
      } finally {
        await handle.close().catch(() => undefined);
      }
    })();
    work.catch(() => undefined); // still settles after a timeout; nobody listens then
    return withTimeout(work, this.#readTimeoutMs, () => this.#timeoutError(file));
  }

  #timeoutError(file: string): TransportError {
    return fail(
      `Reading ${file} took longer than ${this.#readTimeoutMs} ms (an online-only file still downloading?). ` +
        "It will be retried on the next pass; make the folder available offline to avoid this.",
    );
  }
}
