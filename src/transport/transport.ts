// The SyncTransport interface: what the engine needs from the shared folder, and nothing more.
// Implementations: folder-transport.ts (a real directory) and memory-transport.ts (tests, fault injection).

/** The folder's marker (`folder-sync.json`). */
export interface FolderMarker {
  readonly format: number;
  readonly id: string;
}

/** One entry of `changes/` whose name matches the changeset file pattern exactly. */
export interface ChangeFileEntry {
  /** File name inside `changes/`, e.g. `alice-000000000001.ndjson`. */
  readonly name: string;
  readonly client: string;
  readonly seq: number;
  /** false for a directory, FIFO, symlink or anything not a regular file: counts as missing. */
  readonly regular: boolean;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Names in `changes/` that are not changeset files (conflict copies, temp files, OS junk). */
export interface JunkEntry {
  readonly name: string;
  /** A short classification for reports, e.g. "syncthing-conflict", "dropbox-conflict", "temp", "os". */
  readonly kind: string;
}

export interface Listing {
  readonly files: readonly ChangeFileEntry[];
  readonly junk: readonly JunkEntry[];
}

export type Unsubscribe = () => Promise<void>;

export interface WatchHandlers {
  /** Something in the folder may have changed: re-list. Called for any event; may be spurious. */
  readonly onChange: () => void;
  /** The watcher failed (EMFILE, ENOSPC, ...): the caller falls back to its periodic rescan. */
  readonly onError: (error: Error) => void;
}

export interface SyncTransport {
  /** A human-readable location for messages, e.g. the folder path. */
  readonly location: string;
  /** Reads the marker; undefined when there is none (an empty mount point, the wrong folder). */
  readMarker(): Promise<FolderMarker | undefined>;
  /** Writes the marker if none exists and returns the one in force. */
  ensureMarker(fresh: FolderMarker): Promise<FolderMarker>;
  /** Lists `changes/` non-recursively (creating nothing). */
  list(): Promise<Listing>;
  /** Reads a whole changeset file; rejects for a non-regular file or a missing one. */
  read(name: string): Promise<Uint8Array>;
  /** Streams a changeset file in chunks, from `start` (bytes). */
  stream(name: string, start?: number): AsyncIterable<Uint8Array>;
  /**
   * Publishes `bytes` under `name` atomically: temp file in the same directory, fsync, rename, dir fsync.
   * Never leaves a partial file under `name`.
   */
  publish(name: string, bytes: Uint8Array): Promise<void>;
  /** Removes one of this client's own published files (only when it takes a new client id). */
  unpublish(name: string): Promise<void>;
  /** Throws TransportError FOLDER_UNWRITABLE, saying why, when files cannot be published here. */
  checkWritable(): Promise<void>;
  /** Removes this client's own stale temporary files (`.<client>-<seq>.<random>.tmp`). */
  removeOwnTempFiles(client: string): Promise<number>;
  /** Starts watching; events only hint that a re-list is due. */
  watch(handlers: WatchHandlers): Promise<Unsubscribe>;
}
