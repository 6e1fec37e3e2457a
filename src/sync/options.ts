// The options of SyncManager.open and SyncManager.init, and opening a database path the library owns.
import BetterSqlite3 from "better-sqlite3";
import type { ConflictResolver } from "../apply/resolver.js";
import type { SyncConfigInput } from "../config/schema.js";
import type { Database } from "../db.js";
import type { SyncTransport } from "../transport/transport.js";

export interface OpenOptions {
  /** A database path, or an open better-sqlite3 connection owned by the caller (then no file lock is taken). */
  readonly database: string | Database;
  /** Default: a FolderTransport on the folder recorded by init. */
  readonly transport?: SyncTransport;
  /** Wall clock in ms (tests pass their own). */
  readonly now?: () => number;
  readonly resolver?: ConflictResolver;
  /** Periodic rescan while watching, in ms (network folders send no events). Default 30000. */
  readonly rescanIntervalMs?: number;
  /** How often watch() looks for local changes (PRAGMA data_version), in ms. Default 500. */
  readonly localPollMs?: number;
  /** Poll the folder instead of native watch events. */
  readonly usePolling?: boolean;
  /** File size limits for export (tests use small ones). */
  readonly maxFileChanges?: number;
  readonly maxFileBytes?: number;
  /** Files larger than this are streamed and applied in batches (default 8 MiB; tests use small ones). */
  readonly wholeFileLimit?: number;
  /** Changes per apply transaction for streamed files (default 5000). */
  readonly batchSize?: number;
}

export interface InitOptions extends OpenOptions {
  readonly folder: string;
  readonly clientId: string;
  readonly config: SyncConfigInput;
  /** Create sync_log and the change triggers for the configured tables. */
  readonly installTriggers?: boolean;
  /** Accept a client id that already has files in the folder, or a database set up for another folder. */
  readonly force?: boolean;
}

export function openDatabase(database: string | Database): { db: Database; path?: string; owned: boolean } {
  if (typeof database !== "string") return { db: database, owned: false };
  const db = new BetterSqlite3(database) as unknown as Database;
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 10000");
  return { db, path: database, owned: true };
}
