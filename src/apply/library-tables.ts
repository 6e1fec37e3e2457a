// The library's own tables inside the synced database: registers, pending entries, captured changes,
// cursors, published files, conflicts and settings. They live beside the app's data so that every
// cursor advances in the same transaction as the rows it describes.
import type { Database } from "../db.js";

export const LIBRARY_SCHEMA_VERSION = 1;

export const LIBRARY_DDL = `
CREATE TABLE IF NOT EXISTS sfs_meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sfs_registers (
  entity TEXT NOT NULL, uuid TEXT NOT NULL,
  ts INTEGER NOT NULL, version INTEGER NOT NULL, flag INTEGER NOT NULL, client TEXT NOT NULL,
  payload TEXT NOT NULL,
  PRIMARY KEY (entity, uuid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sfs_pending (
  entity TEXT NOT NULL, uuid TEXT NOT NULL, parent_entity TEXT NOT NULL, parent_uuid TEXT NOT NULL,
  PRIMARY KEY (entity, uuid, parent_entity, parent_uuid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sfs_pending_parent ON sfs_pending (parent_entity, parent_uuid);
CREATE TABLE IF NOT EXISTS sfs_unique (
  entity TEXT NOT NULL, col TEXT NOT NULL, vkey TEXT NOT NULL, uuid TEXT NOT NULL,
  PRIMARY KEY (entity, col, vkey, uuid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sfs_unique_uuid ON sfs_unique (entity, uuid);
CREATE TABLE IF NOT EXISTS sfs_shadow (
  entity TEXT NOT NULL, uuid TEXT NOT NULL, shadower TEXT NOT NULL,
  PRIMARY KEY (entity, uuid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sfs_shadow_by ON sfs_shadow (entity, shadower);
CREATE TABLE IF NOT EXISTS sfs_refs (
  entity TEXT NOT NULL, uuid TEXT NOT NULL, parent_entity TEXT NOT NULL, parent_uuid TEXT NOT NULL,
  PRIMARY KEY (entity, uuid, parent_entity, parent_uuid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sfs_refs_parent ON sfs_refs (parent_entity, parent_uuid);
CREATE TABLE IF NOT EXISTS sfs_captured (change_id INTEGER PRIMARY KEY, line TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sfs_peers (
  client TEXT PRIMARY KEY,
  seq INTEGER NOT NULL DEFAULT 0,
  hash TEXT,
  partial_offset INTEGER NOT NULL DEFAULT 0,
  partial_hash TEXT,
  applied_changes INTEGER NOT NULL DEFAULT 0,
  last_applied_at TEXT,
  max_ts INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sfs_peer_files (
  client TEXT NOT NULL, seq INTEGER NOT NULL, sha256 TEXT NOT NULL,
  PRIMARY KEY (client, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sfs_published (
  seq INTEGER PRIMARY KEY,
  first_change INTEGER NOT NULL, last_change INTEGER NOT NULL,
  created TEXT NOT NULL, prev TEXT,
  size INTEGER NOT NULL, sha256 TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('intended','published')),
  mtime_ms REAL
);
CREATE TABLE IF NOT EXISTS sfs_conflicts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  recorded_at TEXT NOT NULL,
  kind TEXT NOT NULL,
  entity TEXT NOT NULL, uuid TEXT NOT NULL,
  loser_key TEXT NOT NULL, loser_payload TEXT,
  winner_key TEXT NOT NULL,
  source TEXT
);
`;

export function createLibraryTables(db: Database): void {
  db.exec(LIBRARY_DDL);
}

export function hasLibraryTables(db: Database): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='sfs_meta'").get() !== undefined;
}

export function getMeta(db: Database, key: string): string | undefined {
  const row = db.prepare("SELECT value FROM sfs_meta WHERE key = ?").get(key) as
    | { value: string }
    | undefined;
  return row?.value;
}

export function setMeta(db: Database, key: string, value: string | number): void {
  db.prepare(
    "INSERT INTO sfs_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
  ).run(key, String(value));
}

export function getMetaNumber(db: Database, key: string): number {
  const v = getMeta(db, key);
  return v === undefined ? 0 : Number(v);
}
