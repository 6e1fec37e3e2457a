// A stand-in for an app that owns a media-preset database: it writes its tables with its own connection and
// its triggers fill sync_log, exactly as a real app would. Timestamps come from the caller.
import BetterSqlite3 from "better-sqlite3";
import { MEDIA_SCHEMA_SQL, mediaConfig } from "../../src/config/media-preset.js";
import { installTriggers } from "../../src/config/triggers.js";
import type { Database } from "../../src/db.js";

export function createMediaDb(path = ":memory:"): Database {
  const db = new BetterSqlite3(path) as unknown as Database;
  if (path !== ":memory:") {
    db.pragma("journal_mode = WAL");
    db.pragma("busy_timeout = 10000");
  }
  db.exec(MEDIA_SCHEMA_SQL);
  installTriggers(db, mediaConfig());
  return db;
}

export class MediaApp {
  constructor(
    readonly db: Database,
    readonly clientId: string,
    /** Timestamp text for the next write. */
    public stamp: () => string = () => new Date().toISOString(),
  ) {}

  private get(table: string, uuid: string): { id: number; version: number; deleted: number } | undefined {
    return this.db.prepare(`SELECT id, version, deleted FROM ${table} WHERE uuid = ?`).get(uuid) as
      | { id: number; version: number; deleted: number }
      | undefined;
  }

  has(table: string, uuid: string): boolean {
    return this.get(table, uuid) !== undefined;
  }

  createMedia(
    uuid: string,
    fields: { title: string; url?: string; content_hash?: string; version?: number },
  ): void {
    this.db
      .prepare(
        `INSERT INTO Media (uuid, url, title, type, content, content_hash, last_modified, version, client_id, deleted)
         VALUES (?, ?, ?, 'video', 'text', ?, ?, ?, ?, 0)`,
      )
      .run(
        uuid,
        fields.url ?? `https://example.com/${uuid}`,
        fields.title,
        fields.content_hash ?? `hash-${uuid}`,
        this.stamp(),
        fields.version ?? 1,
        this.clientId,
      );
  }

  createKeyword(uuid: string, keyword: string): void {
    this.db
      .prepare(
        "INSERT INTO Keywords (uuid, keyword, last_modified, version, client_id, deleted) VALUES (?, ?, ?, 1, ?, 0)",
      )
      .run(uuid, keyword, this.stamp(), this.clientId);
  }

  createTranscript(uuid: string, mediaUuid: string, text: string): boolean {
    const m = this.get("Media", mediaUuid);
    if (!m) return false;
    this.db
      .prepare(
        `INSERT INTO Transcripts (uuid, media_id, whisper_model, transcription, created_at, last_modified, version, client_id, deleted)
         VALUES (?, ?, 'base', ?, '2026-01-01', ?, 1, ?, 0)`,
      )
      .run(uuid, m.id, text, this.stamp(), this.clientId);
    return true;
  }

  /** Updates a synced column; `bump` false keeps the version (two writes with the same version). */
  update(table: string, uuid: string, column: string, value: string, bump = true): boolean {
    const r = this.get(table, uuid);
    if (!r) return false;
    // A careful app bumps version only for a real change (DESIGN section 2).
    const current = this.db.prepare(`SELECT ${column} AS v FROM ${table} WHERE id = ?`).get(r.id) as {
      v: unknown;
    };
    if (current.v === value) return false;
    this.db
      .prepare(
        `UPDATE ${table} SET ${column} = ?, version = version + ?, last_modified = ?, client_id = ? WHERE id = ?`,
      )
      .run(value, bump ? 1 : 0, this.stamp(), this.clientId, r.id);
    return true;
  }

  setDeleted(table: string, uuid: string, deleted: boolean): boolean {
    const r = this.get(table, uuid);
    if (!r || r.deleted === (deleted ? 1 : 0)) return false;
    this.db
      .prepare(
        `UPDATE ${table} SET deleted = ?, version = version + 1, last_modified = ?, client_id = ? WHERE id = ?`,
      )
      .run(deleted ? 1 : 0, this.stamp(), this.clientId, r.id);
    return true;
  }

  link(mediaUuid: string, keywordUuid: string): boolean {
    const m = this.get("Media", mediaUuid);
    const k = this.get("Keywords", keywordUuid);
    if (!m || !k) return false;
    const r = this.db
      .prepare(
        `INSERT INTO MediaKeywords (media_id, keyword_id) SELECT ?, ? WHERE NOT EXISTS
         (SELECT 1 FROM MediaKeywords WHERE media_id = ? AND keyword_id = ?)`,
      )
      .run(m.id, k.id, m.id, k.id);
    return r.changes > 0;
  }

  unlink(mediaUuid: string, keywordUuid: string): boolean {
    const m = this.get("Media", mediaUuid);
    const k = this.get("Keywords", keywordUuid);
    if (!m || !k) return false;
    return (
      this.db.prepare("DELETE FROM MediaKeywords WHERE media_id = ? AND keyword_id = ?").run(m.id, k.id)
        .changes > 0
    );
  }

  setEmbedding(uuid: string, bytes: Buffer): boolean {
    return (
      this.db.prepare("UPDATE Media SET vector_embedding = ? WHERE uuid = ?").run(bytes, uuid).changes > 0
    );
  }

  syncLogCount(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM sync_log").get() as { n: number }).n;
  }
}
