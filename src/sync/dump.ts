// A canonical dump of a database's synced content: the registers and the app's synced tables with local ids
// replaced by uuids, sorted. Replicas that hold the same data give identical dumps (and content hashes).
import { sha256Hex } from "../changeset/hash.js";
import { q, type ResolvedConfig } from "../config/schema.js";
import type { Database } from "../db.js";

export interface CanonicalDump {
  readonly registers: readonly unknown[];
  /** Rows not shown because a natural-key twin holds one of their UNIQUE values. */
  readonly shadows: readonly unknown[];
  readonly tables: Readonly<Record<string, readonly unknown[]>>;
}

export function canonicalDump(db: Database, config: ResolvedConfig): CanonicalDump {
  const registers = db
    .prepare(
      "SELECT entity, uuid, ts, version, flag, client, payload FROM sfs_registers ORDER BY entity, uuid",
    )
    .all();
  const tables: Record<string, unknown[]> = {};
  for (const e of config.rowEntities) {
    const cols = [
      "t.uuid",
      ...e.columns.map((c) => `t.${q(c)}`),
      ...e.parents.map(
        (p) => `(SELECT uuid FROM ${q(p.table)} WHERE id = t.${q(p.column)}) AS ${q(p.wireKey)}`,
      ),
      "t.last_modified",
      "t.version",
      "t.client_id",
      "t.deleted",
    ];
    tables[e.name] = db.prepare(`SELECT ${cols.join(", ")} FROM ${q(e.name)} AS t ORDER BY t.uuid`).all();
  }
  for (const e of config.linkEntities) {
    tables[e.name] = db
      .prepare(
        `SELECT l.uuid AS ${q(e.left.wireKey)}, r.uuid AS ${q(e.right.wireKey)} FROM ${q(e.name)} AS t
         JOIN ${q(e.left.table)} AS l ON l.id = t.${q(e.left.column)}
         JOIN ${q(e.right.table)} AS r ON r.id = t.${q(e.right.column)}
         ORDER BY 1, 2`,
      )
      .all();
  }
  const shadows = db.prepare("SELECT entity, uuid, shadower FROM sfs_shadow ORDER BY entity, uuid").all();
  return { registers, shadows, tables };
}

/** sha256 of the canonical dump's JSON: equal on replicas holding the same synced content. */
export function contentHash(db: Database, config: ResolvedConfig): string {
  return sha256Hex(JSON.stringify(canonicalDump(db, config)));
}
