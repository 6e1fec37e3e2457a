// The sync settings recorded inside the database by init (client id, folder, folder id, config), so later
// commands need only the database.
import { createLibraryTables, getMeta, hasLibraryTables, setMeta } from "../apply/library-tables.js";
import { type ResolvedConfig, resolveConfig, type SyncConfigInput } from "../config/schema.js";
import type { Database } from "../db.js";
import { SyncError } from "./errors.js";

export interface Settings {
  readonly clientId: string;
  readonly folder: string;
  readonly folderId: string;
  readonly configInput: SyncConfigInput;
  readonly config: ResolvedConfig;
}

export function readSettings(db: Database, dbLabel: string): Settings {
  const clientId = hasLibraryTables(db) ? getMeta(db, "client_id") : undefined;
  if (!clientId)
    throw new SyncError(
      "NOT_INITIALIZED",
      `${dbLabel} is not set up for sync. Run \`folder-sync init --db ${dbLabel} --folder DIR\` first.`,
    );
  const configInput = JSON.parse(getMeta(db, "config") ?? "null") as SyncConfigInput;
  return {
    clientId,
    folder: getMeta(db, "folder") ?? "",
    folderId: getMeta(db, "folder_id") ?? "",
    configInput,
    config: resolveConfig(configInput),
  };
}

export function writeSettings(
  db: Database,
  s: { clientId: string; folder: string; folderId: string; configInput: SyncConfigInput },
): void {
  createLibraryTables(db);
  setMeta(db, "client_id", s.clientId);
  setMeta(db, "folder", s.folder);
  setMeta(db, "folder_id", s.folderId);
  setMeta(db, "config", JSON.stringify(s.configInput));
  setMeta(db, "schema_version", 1);
}
