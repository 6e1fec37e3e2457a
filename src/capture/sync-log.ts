// Reads the app's sync_log after the capture cursor, and a row's current synced state (for payloads the
// app's triggers left incomplete, such as a delete that logged only the uuid).
import type { PayloadValue } from "../changeset/format.js";
import { q, type ResolvedConfig, type RowEntity } from "../config/schema.js";
import type { Database, Statement } from "../db.js";

export interface SyncLogEntry {
  readonly change_id: number;
  readonly entity: string;
  readonly entity_uuid: string;
  readonly operation: string;
  readonly timestamp: string;
  readonly client_id: string;
  readonly version: number;
  readonly payload: string | null;
}

export class SyncLogReader {
  private readonly after: Statement;
  private readonly maxId: Statement;
  private readonly rowReaders = new Map<string, Statement>();

  constructor(
    private readonly db: Database,
    config: ResolvedConfig,
  ) {
    const log = q(config.syncLogTable);
    this.after = db.prepare(
      `SELECT change_id, entity, entity_uuid, operation, timestamp, client_id, version, payload
       FROM ${log} WHERE change_id > ? ORDER BY change_id LIMIT ?`,
    );
    this.maxId = db.prepare(`SELECT max(change_id) AS m FROM ${log}`);
  }

  entriesAfter(changeId: number, limit: number): SyncLogEntry[] {
    return this.after.all(changeId, limit) as SyncLogEntry[];
  }

  maxChangeId(): number {
    return (this.maxId.get() as { m: number | null }).m ?? 0;
  }

  /** The row's synced columns as a wire payload (parent references as uuids), or undefined if absent. */
  currentPayload(entity: RowEntity, uuid: string): Record<string, PayloadValue> | undefined {
    let stmt = this.rowReaders.get(entity.name);
    if (!stmt) {
      const cols = [
        "uuid",
        ...entity.columns.map(q),
        ...entity.parents.map(
          (p) => `(SELECT uuid FROM ${q(p.table)} WHERE id = t.${q(p.column)}) AS ${q(p.wireKey)}`,
        ),
        "last_modified",
        "version",
        "client_id",
        "deleted",
      ];
      stmt = this.db.prepare(`SELECT ${cols.join(", ")} FROM ${q(entity.name)} AS t WHERE uuid = ?`);
      this.rowReaders.set(entity.name, stmt);
    }
    return stmt.get(uuid) as Record<string, PayloadValue> | undefined;
  }
}
