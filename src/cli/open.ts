// Opening the database named by --db. Commands that sync (sync, watch) take the cross-process lock through
// SyncManager.open. Commands that only read (status, doctor, conflicts) open their own query_only connection
// and pass it in, so they take no lock: they work while `folder-sync watch` runs on the same database, and
// SQLite itself refuses any write they might attempt.
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import type { Database } from "../db.js";
import { SyncError } from "../sync/errors.js";
import { type OpenOptions, SyncManager } from "../sync/sync-manager.js";
import { type FlagValues, requireFlag } from "./args.js";

/** The --db path, absolute; it must be an existing file for every command but init. */
export function databasePath(command: string, values: FlagValues, mustExist = true): string {
  const file = path.resolve(requireFlag(command, values, "db", "FILE"));
  if (mustExist && !existsSync(file))
    throw new SyncError(
      "NOT_INITIALIZED",
      `${file} does not exist. Set it up with \`folder-sync init --db ${file} --folder DIR --preset media\` (or --config FILE) first.`,
    );
  if (existsSync(file) && statSync(file).isDirectory())
    throw new SyncError("NOT_INITIALIZED", `${file} is a directory, not a database file.`);
  return file;
}

/** Errors from opening the database, reworded to name the file (SQLite's own messages do not). */
export function explainOpenError(error: unknown, file: string): unknown {
  if (error instanceof SyncError && error.code === "NOT_INITIALIZED")
    return new SyncError(
      "NOT_INITIALIZED",
      `${file} is not set up for sync. Run \`folder-sync init --db ${file} --folder DIR\` first.`,
    );
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "SQLITE_NOTADB") return new Error(`${file} is not a SQLite database.`, { cause: error });
  if (typeof code === "string" && code.startsWith("SQLITE_"))
    return new Error(`${file}: ${(error as Error).message}`, { cause: error });
  return error;
}

export async function openLocked(file: string, options: Omit<OpenOptions, "database"> = {}) {
  try {
    return await SyncManager.open({ ...options, database: file });
  } catch (error) {
    throw explainOpenError(error, file);
  }
}

export interface ReadOnlySync {
  readonly sync: SyncManager;
  close(): Promise<void>;
}

export async function openReadOnly(file: string): Promise<ReadOnlySync> {
  let db: Database;
  try {
    db = new BetterSqlite3(file, { fileMustExist: true }) as unknown as Database;
  } catch (error) {
    throw explainOpenError(error, file);
  }
  try {
    db.pragma("busy_timeout = 10000");
    db.pragma("query_only = ON");
    const sync = await SyncManager.open({ database: db });
    return {
      sync,
      close: async () => {
        await sync.close();
        db.close();
      },
    };
  } catch (error) {
    db.close();
    throw explainOpenError(error, file);
  }
}
