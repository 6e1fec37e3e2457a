// The media preset: a ready config and schema modelled on the origin's media database
// (DESIGN section 2). Used by `init --preset media`, the demo and the tests.
import { type ResolvedConfig, resolveConfig, type SyncConfigInput } from "./schema.js";

const SYNC_COLUMNS_SQL = `uuid TEXT UNIQUE NOT NULL,
  last_modified TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  client_id TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0`;

/** The app tables of the media preset (what an app using it would create). */
export const MEDIA_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS Media (
  id INTEGER PRIMARY KEY,
  url TEXT UNIQUE,
  title TEXT NOT NULL,
  type TEXT NOT NULL,
  content TEXT,
  author TEXT,
  ingestion_date TEXT,
  transcription_model TEXT,
  is_trash INTEGER DEFAULT 0,
  trash_date TEXT,
  content_hash TEXT UNIQUE NOT NULL,
  ${SYNC_COLUMNS_SQL},
  vector_embedding BLOB,
  chunking_status TEXT,
  vector_processing INTEGER DEFAULT 0
);
CREATE TABLE IF NOT EXISTS Keywords (
  id INTEGER PRIMARY KEY,
  keyword TEXT NOT NULL UNIQUE COLLATE NOCASE,
  ${SYNC_COLUMNS_SQL}
);
CREATE TABLE IF NOT EXISTS MediaKeywords (
  id INTEGER PRIMARY KEY,
  media_id INTEGER NOT NULL REFERENCES Media(id),
  keyword_id INTEGER NOT NULL REFERENCES Keywords(id),
  UNIQUE (media_id, keyword_id)
);
CREATE TABLE IF NOT EXISTS Transcripts (
  id INTEGER PRIMARY KEY,
  media_id INTEGER NOT NULL REFERENCES Media(id),
  whisper_model TEXT,
  transcription TEXT,
  created_at TEXT,
  ${SYNC_COLUMNS_SQL}
);
CREATE TABLE IF NOT EXISTS MediaChunks (
  id INTEGER PRIMARY KEY,
  media_id INTEGER NOT NULL REFERENCES Media(id),
  chunk_text TEXT,
  start_index INTEGER,
  end_index INTEGER,
  chunk_id TEXT,
  ${SYNC_COLUMNS_SQL},
  chunking_status TEXT
);
CREATE TABLE IF NOT EXISTS DocumentVersions (
  id INTEGER PRIMARY KEY,
  media_id INTEGER NOT NULL REFERENCES Media(id),
  version_number INTEGER,
  prompt TEXT,
  analysis_content TEXT,
  content TEXT,
  created_at TEXT,
  ${SYNC_COLUMNS_SQL}
);
CREATE INDEX IF NOT EXISTS idx_mediakeywords_keyword ON MediaKeywords(keyword_id);
CREATE INDEX IF NOT EXISTS idx_transcripts_media ON Transcripts(media_id);
CREATE INDEX IF NOT EXISTS idx_mediachunks_media ON MediaChunks(media_id);
CREATE INDEX IF NOT EXISTS idx_documentversions_media ON DocumentVersions(media_id);
`;

const mediaParent = [{ column: "media_id", table: "Media" }];

export const MEDIA_CONFIG: SyncConfigInput = {
  tables: [
    {
      kind: "rows",
      name: "Media",
      columns: [
        "url",
        "title",
        "type",
        "content",
        "author",
        "ingestion_date",
        "transcription_model",
        "is_trash",
        "trash_date",
        "content_hash",
      ],
      localColumns: ["vector_embedding", "chunking_status", "vector_processing"],
      unique: ["url", "content_hash"],
    },
    { kind: "rows", name: "Keywords", columns: ["keyword"], unique: ["keyword"] },
    {
      kind: "link",
      name: "MediaKeywords",
      left: { column: "media_id", table: "Media", wireKey: "media_uuid" },
      right: { column: "keyword_id", table: "Keywords", wireKey: "keyword_uuid" },
    },
    {
      kind: "rows",
      name: "Transcripts",
      columns: ["whisper_model", "transcription", "created_at"],
      parents: mediaParent,
    },
    {
      kind: "rows",
      name: "MediaChunks",
      columns: ["chunk_text", "start_index", "end_index", "chunk_id"],
      parents: mediaParent,
      localColumns: ["chunking_status"],
    },
    {
      kind: "rows",
      name: "DocumentVersions",
      columns: ["version_number", "prompt", "analysis_content", "content", "created_at"],
      parents: mediaParent,
    },
  ],
};

let resolved: ResolvedConfig | undefined;
export function mediaConfig(): ResolvedConfig {
  resolved ??= resolveConfig(MEDIA_CONFIG);
  return resolved;
}
