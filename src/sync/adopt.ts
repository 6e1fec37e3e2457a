// Making an existing database syncable (DESIGN section 2): init writes one sync_log row per existing row
// (create, or delete when deleted = 1, with its last_modified and version) and per existing link, after the
// capture cursor, so the first export publishes them like any local change. And `init --force` adopts a
// client id's files already in the folder as this database's own.
import { scanChangeset } from "../changeset/decode.js";
import { sha256Hex } from "../changeset/hash.js";
import { q, type ResolvedConfig } from "../config/schema.js";
import type { Database } from "../db.js";
import type { SyncTransport } from "../transport/transport.js";
import { SyncError } from "./errors.js";

const NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

/** Logs every existing row and link as a local change; returns how many. Call in init's transaction. */
export function adoptExistingRows(db: Database, config: ResolvedConfig): number {
  const log = q(config.syncLogTable);
  let count = 0;
  for (const e of config.rowEntities) {
    const t = q(e.name);
    const missing = (
      db.prepare(`SELECT count(*) AS n FROM ${t} WHERE uuid IS NULL OR uuid = ''`).get() as { n: number }
    ).n;
    if (missing > 0)
      throw new SyncError(
        "SCHEMA_MISMATCH",
        `${missing} row(s) of ${e.name} have no uuid, so they cannot sync. Give each one, e.g. UPDATE ${e.name} SET uuid = lower(hex(randomblob(16))) WHERE uuid IS NULL OR uuid = ''; then run init again.`,
      );
    const payload = [
      "'uuid', r.uuid",
      ...e.columns.map((c) => `'${c}', r.${q(c)}`),
      ...e.parents.map((p) => `'${p.wireKey}', (SELECT uuid FROM ${q(p.table)} WHERE id = r.${q(p.column)})`),
      "'last_modified', r.last_modified",
      "'version', r.version",
      "'client_id', r.client_id",
      "'deleted', r.deleted",
    ].join(", ");
    count += db
      .prepare(
        `INSERT INTO ${log} (entity, entity_uuid, operation, timestamp, client_id, version, payload)
         SELECT '${e.name}', r.uuid, CASE WHEN r.deleted = 1 THEN 'delete' ELSE 'create' END,
           coalesce(r.last_modified, ${NOW}), coalesce(r.client_id, ''), coalesce(r.version, 1), json_object(${payload})
         FROM ${t} AS r ORDER BY r.id`,
      )
      .run().changes;
  }
  for (const e of config.linkEntities) {
    count += db
      .prepare(
        `INSERT INTO ${log} (entity, entity_uuid, operation, timestamp, client_id, version, payload)
         SELECT '${e.name}', l.uuid || '_' || r.uuid, 'link', ${NOW}, coalesce(l.client_id, ''), 0,
           json_object('${e.left.wireKey}', l.uuid, '${e.right.wireKey}', r.uuid)
         FROM ${q(e.name)} AS k
         JOIN ${q(e.left.table)} AS l ON l.id = k.${q(e.left.column)}
         JOIN ${q(e.right.table)} AS r ON r.id = k.${q(e.right.column)}
         ORDER BY k.rowid`,
      )
      .run().changes;
  }
  return count;
}

export interface AdoptedFile {
  readonly seq: number;
  readonly first: number;
  readonly last: number;
  readonly created: string;
  readonly prev: string | null;
  readonly size: number;
  readonly sha256: string;
}

/** Reads this client id's complete files in the folder, in seq order, stopping at the first gap or bad one. */
export async function readOwnFiles(transport: SyncTransport, clientId: string): Promise<AdoptedFile[]> {
  const listing = await transport.list();
  const own = listing.files.filter((f) => f.client === clientId && f.regular).sort((a, b) => a.seq - b.seq);
  const out: AdoptedFile[] = [];
  for (const f of own) {
    if (f.seq !== out.length + 1) break;
    const bytes = await transport.read(f.name);
    const scan = await scanChangeset(bytes, { client: clientId, seq: f.seq });
    if (!scan.ok || scan.header.prev !== (out.at(-1)?.sha256 ?? null)) break;
    out.push({
      seq: f.seq,
      first: scan.header.changes[0],
      last: scan.header.changes[1],
      created: scan.header.created,
      prev: scan.header.prev,
      size: bytes.length,
      sha256: sha256Hex(bytes),
    });
  }
  return out;
}

/**
 * Records adopted files as published by this database, so its next file continues their seq and chain. The
 * export cursor is left alone: it counts this database's captured changes, none of which those files hold.
 */
export function recordAdoptedFiles(db: Database, files: readonly AdoptedFile[]): void {
  const insert = db.prepare(
    `INSERT OR REPLACE INTO sfs_published (seq, first_change, last_change, created, prev, size, sha256, state)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'published')`,
  );
  for (const f of files) insert.run(f.seq, f.first, f.last, f.created, f.prev, f.size, f.sha256);
}
