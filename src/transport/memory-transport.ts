// An in-memory shared folder with the folder transport's semantics, for tests: plus fault injection (junk, bad and
// non-regular files, stuck reads, failed publishes) and copying files between folders (sneakernet).

import { TransportError } from "../sync/errors.js";
import { classifyJunk, isOwnTempFile, parseChangeFileName, parseMarker } from "./names.js";
import type {
  ChangeFileEntry,
  FolderMarker,
  JunkEntry,
  Listing,
  SyncTransport,
  Unsubscribe,
  WatchHandlers,
} from "./transport.js";

export interface MemoryTransportOptions {
  /** Shown in messages. Default `memory://<n>`. */
  readonly location?: string;
  /** Size of the chunks `stream` yields. Default 64 KiB. */
  readonly chunkSize?: number;
  /** How long a read of a stuck file (setStuck) waits before it fails, in ms. Default 30000. */
  readonly readTimeoutMs?: number;
}

interface Entry {
  readonly bytes: Uint8Array;
  readonly regular: boolean;
  readonly mtimeMs: number;
}

let instances = 0;

function fail(message: string): TransportError {
  return new TransportError("TRANSPORT_FAILED", message);
}

const byName = (a: { name: string }, b: { name: string }): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/**
 * @example
 * const a = new MemoryTransport(); const b = new MemoryTransport();
 * await b.ensureMarker((await a.readMarker())!); b.copyFrom(a, ["alice-000000000001.ndjson"]);
 */
export class MemoryTransport implements SyncTransport {
  readonly location: string;
  readonly #chunkSize: number;
  readonly #readTimeoutMs: number;
  readonly #entries = new Map<string, Entry>();
  readonly #stuck = new Set<string>();
  readonly #watchers = new Set<WatchHandlers>();
  #marker: string | undefined;
  #publishFailures = 0;
  #clock = 0;

  constructor(options: MemoryTransportOptions = {}) {
    const chunkSize = options.chunkSize ?? 64 * 1024;
    const timeout = options.readTimeoutMs ?? 30_000;
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
      throw new TypeError(`MemoryTransport: chunkSize must be a positive integer, got ${chunkSize}.`);
    }
    if (!Number.isFinite(timeout) || timeout <= 0) {
      throw new TypeError(`MemoryTransport: readTimeoutMs must be a positive number of ms, got ${timeout}.`);
    }
    this.location = options.location ?? `memory://${++instances}`;
    this.#chunkSize = chunkSize;
    this.#readTimeoutMs = timeout;
  }

  async readMarker(): Promise<FolderMarker | undefined> {
    return this.#marker === undefined
      ? undefined
      : parseMarker(this.#marker, `${this.location}/folder-sync.json`);
  }

  async ensureMarker(fresh: FolderMarker): Promise<FolderMarker> {
    const existing = await this.readMarker();
    if (existing !== undefined) return existing;
    this.#marker = JSON.stringify({ format: fresh.format, id: fresh.id });
    this.#notify();
    return { format: fresh.format, id: fresh.id };
  }

  async list(): Promise<Listing> {
    const files: ChangeFileEntry[] = [];
    const junk: JunkEntry[] = [];
    for (const [name, entry] of this.#entries) {
      const parsed = parseChangeFileName(name);
      if (parsed !== undefined) {
        const size = entry.regular ? entry.bytes.length : 0;
        files.push({ name, ...parsed, regular: entry.regular, size, mtimeMs: entry.mtimeMs });
      } else {
        const kind = classifyJunk(name);
        junk.push({ name, kind: kind === "unknown" && !entry.regular ? "not-regular" : kind });
      }
    }
    return { files: files.sort(byName), junk: junk.sort(byName) };
  }

  async read(name: string): Promise<Uint8Array> {
    const bytes = await this.#readable(name);
    return bytes.slice();
  }

  async *stream(name: string, start = 0): AsyncIterable<Uint8Array> {
    if (!Number.isSafeInteger(start) || start < 0)
      throw new RangeError(`stream start must be >= 0, got ${start}.`);
    const bytes = await this.#readable(name);
    for (let offset = start; offset < bytes.length; offset += this.#chunkSize) {
      yield bytes.slice(offset, offset + this.#chunkSize);
      // Let other work interleave, as real I/O would.
      await Promise.resolve();
    }
  }

  async publish(name: string, bytes: Uint8Array): Promise<void> {
    if (parseChangeFileName(name) === undefined)
      throw fail(`Refusing to publish "${name}": not a changeset file name.`);
    if (this.#publishFailures > 0) {
      this.#publishFailures--;
      throw fail(`Could not publish ${this.location}/changes/${name}: injected failure.`);
    }
    this.#put(name, bytes.slice(), true);
  }

  async unpublish(name: string): Promise<void> {
    this.remove(name);
  }

  async checkWritable(): Promise<void> {
    if (this.#publishFailures > 0)
      throw new TransportError(
        "FOLDER_UNWRITABLE",
        `Cannot write in ${this.location}: publishes are failing.`,
      );
  }

  async removeOwnTempFiles(client: string): Promise<number> {
    let removed = 0;
    for (const name of [...this.#entries.keys()]) {
      if (isOwnTempFile(name, client)) {
        this.#entries.delete(name);
        removed++;
      }
    }
    if (removed > 0) this.#notify();
    return removed;
  }

  async watch(handlers: WatchHandlers): Promise<Unsubscribe> {
    // A distinct object per subscription, so subscribing the same handlers twice gives two subscriptions.
    const subscription: WatchHandlers = { onChange: handlers.onChange, onError: handlers.onError };
    this.#watchers.add(subscription);
    return async () => {
      this.#watchers.delete(subscription);
    };
  }

  // ---- test and fault-injection helpers ----

  /** Puts any name with any content into `changes/` (junk, bad or partial files), as a peer or a service would. */
  putRaw(name: string, bytes: Uint8Array | string): void {
    this.#put(name, typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes.slice(), true);
  }

  /** Removes a name from `changes/` (a deleted or evicted file); returns whether it was there. */
  remove(name: string): boolean {
    const had = this.#entries.delete(name);
    this.#stuck.delete(name);
    if (had) this.#notify();
    return had;
  }

  /** Removes the marker, as when the stick is unplugged or the wrong folder is mounted. */
  removeMarker(): void {
    this.#marker = undefined;
    this.#notify();
  }

  /** Sets the marker file's raw text (e.g. unparseable, or another folder's id). */
  setMarkerRaw(text: string): void {
    this.#marker = text;
    this.#notify();
  }

  /** Makes a name present but not a regular file (a directory, a FIFO) or turns it back; creates it if missing. */
  setNonRegular(name: string, on: boolean): void {
    const entry = this.#entries.get(name);
    this.#put(name, entry?.bytes ?? new Uint8Array(0), !on);
  }

  /** Makes reads of `name` hang until the read timeout, like an online-only file that never downloads. */
  setStuck(name: string, on: boolean): void {
    if (on) this.#stuck.add(name);
    else this.#stuck.delete(name);
  }

  /** Makes the next `count` publishes fail without writing anything. */
  failNextPublishes(count = 1): void {
    this.#publishFailures = count;
  }

  /** Every regular file in `changes/` (changeset files and junk), by name; the bytes are copies. */
  snapshot(): Map<string, Uint8Array> {
    const copy = new Map<string, Uint8Array>();
    for (const [name, entry] of [...this.#entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (entry.regular) copy.set(name, entry.bytes.slice());
    }
    return copy;
  }

  /** A folder holding `files` (e.g. another folder's snapshot) and, if given, that marker. */
  static fromSnapshot(
    files: ReadonlyMap<string, Uint8Array>,
    options: MemoryTransportOptions & { readonly marker?: FolderMarker } = {},
  ): MemoryTransport {
    const transport = new MemoryTransport(options);
    if (options.marker !== undefined) transport.#marker = JSON.stringify(options.marker);
    for (const [name, bytes] of files) transport.#put(name, bytes.slice(), true);
    return transport;
  }

  /**
   * Copies entries of `other`'s `changes/` here (all when `names` is omitted), overwriting, as a sync service or a
   * USB stick delivers them; the marker is not copied. Returns the names copied.
   */
  copyFrom(other: MemoryTransport, names?: Iterable<string>): string[] {
    const copied: string[] = [];
    for (const name of names ?? [...other.#entries.keys()]) {
      const entry = other.#entries.get(name);
      if (entry === undefined) continue;
      this.#entries.set(name, { bytes: entry.bytes.slice(), regular: entry.regular, mtimeMs: this.#now() });
      copied.push(name);
    }
    if (copied.length > 0) this.#notify();
    return copied;
  }

  #put(name: string, bytes: Uint8Array, regular: boolean): void {
    if (name.length === 0 || name.includes("/") || name === "." || name === "..") {
      throw new TypeError(`MemoryTransport: "${name}" is not a file name.`);
    }
    this.#entries.set(name, { bytes, regular, mtimeMs: this.#now() });
    this.#notify();
  }

  // Strictly increasing, so a rewritten file always looks changed.
  #now(): number {
    this.#clock = Math.max(this.#clock + 1, Date.now());
    return this.#clock;
  }

  async #readable(name: string): Promise<Uint8Array> {
    const where = `${this.location}/changes/${name}`;
    if (parseChangeFileName(name) === undefined) throw fail(`"${name}" is not a changeset file name.`);
    const entry = this.#entries.get(name);
    if (entry === undefined) throw fail(`Cannot read ${where}: no such file.`);
    if (!entry.regular) throw fail(`${where} is not a regular file; "${name}" counts as missing.`);
    if (this.#stuck.has(name)) {
      await new Promise((resolve) => setTimeout(resolve, this.#readTimeoutMs));
      throw fail(
        `Reading ${where} took longer than ${this.#readTimeoutMs} ms; it will be retried on the next pass.`,
      );
    }
    return entry.bytes;
  }

  #notify(): void {
    for (const handlers of [...this.#watchers]) {
      // Asynchronously, like a real watcher: a handler never runs inside the call that changed the folder.
      setImmediate(() => {
        if (!this.#watchers.has(handlers)) return;
        try {
          handlers.onChange();
        } catch (error) {
          handlers.onError(error instanceof Error ? error : new Error(String(error)));
        }
      });
    }
  }
}
