// Installs sync_log and change-logging triggers for a configured schema, for apps that have none.
// The triggers only insert into sync_log; an update is logged only when a synced column other than the
// bookkeeping ones changed, so a write of local-only columns (an embedding) is not a change.
// Link triggers log the left parent's client_id, as the origin's media database does.
import type { Database } from "../db.js";
import { type LinkEntity, q, type ResolvedConfig, type RowEntity } from "./schema.js";

const NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

export function syncLogDdl(table = "sync_log"): string {
  return `CREATE TABLE IF NOT EXISTS ${q(table)} (
  change_id INTEGER PRIMARY KEY AUTOINCREMENT,
  entity TEXT NOT NULL,
  entity_uuid TEXT NOT NULL,
  operation TEXT NOT NULL CHECK (operation IN ('create','update','delete','link','unlink')),
  timestamp TEXT NOT NULL,
  client_id TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 0,
  payload TEXT
);`;
}

function rowPayload(config: ResolvedConfig, e: RowEntity, ref: "NEW" | "OLD"): string {
  const parts: string[] = [`'uuid', ${ref}.uuid`];
  for (const c of e.columns) parts.push(`'${c}', ${ref}.${q(c)}`);
  for (const p of e.parents) {
    void config;
    parts.push(`'${p.wireKey}', (SELECT uuid FROM ${q(p.table)} WHERE id = ${ref}.${q(p.column)})`);
  }
  parts.push(
    `'last_modified', ${ref}.last_modified`,
    `'version', ${ref}.version`,
    `'client_id', ${ref}.client_id`,
    `'deleted', ${ref}.deleted`,
  );
  return `json_object(${parts.join(", ")})`;
}

function rowTriggers(config: ResolvedConfig, e: RowEntity): string[] {
  const log = q(config.syncLogTable);
  const t = q(e.name);
  const name = (op: string) => q(`fs_${e.name}_${op}`);
  const insert = (op: string) =>
    `INSERT INTO ${log} (entity, entity_uuid, operation, timestamp, client_id, version, payload)
     VALUES ('${e.name}', NEW.uuid, ${op}, NEW.last_modified, NEW.client_id, NEW.version, ${rowPayload(config, e, "NEW")});`;
  const changed = [...e.columns, ...e.parents.map((p) => p.column), "uuid"]
    .map((c) => `OLD.${q(c)} IS NOT NEW.${q(c)} COLLATE BINARY`)
    .join(" OR ");
  return [
    `CREATE TRIGGER IF NOT EXISTS ${name("create")} AFTER INSERT ON ${t} BEGIN
     ${insert("CASE WHEN NEW.deleted = 1 THEN 'delete' ELSE 'create' END")} END;`,
    `CREATE TRIGGER IF NOT EXISTS ${name("update")} AFTER UPDATE ON ${t}
     WHEN OLD.deleted IS NEW.deleted AND (${changed}) BEGIN ${insert("'update'")} END;`,
    `CREATE TRIGGER IF NOT EXISTS ${name("delete")} AFTER UPDATE ON ${t}
     WHEN OLD.deleted = 0 AND NEW.deleted = 1 BEGIN ${insert("'delete'")} END;`,
    `CREATE TRIGGER IF NOT EXISTS ${name("undelete")} AFTER UPDATE ON ${t}
     WHEN OLD.deleted = 1 AND NEW.deleted = 0 BEGIN ${insert("'update'")} END;`,
  ];
}

function linkTriggers(config: ResolvedConfig, e: LinkEntity): string[] {
  const log = q(config.syncLogTable);
  const t = q(e.name);
  const uuidOf = (side: LinkEntity["left"], ref: string) =>
    `(SELECT uuid FROM ${q(side.table)} WHERE id = ${ref}.${q(side.column)})`;
  const trigger = (op: "link" | "unlink", ref: "NEW" | "OLD", when: string) => {
    const l = uuidOf(e.left, ref);
    const r = uuidOf(e.right, ref);
    return `CREATE TRIGGER IF NOT EXISTS ${q(`fs_${e.name}_${op}`)} AFTER ${when} ON ${t} BEGIN
      INSERT INTO ${log} (entity, entity_uuid, operation, timestamp, client_id, version, payload)
      VALUES ('${e.name}', ${l} || '_' || ${r}, '${op}', ${NOW},
        COALESCE((SELECT client_id FROM ${q(e.left.table)} WHERE id = ${ref}.${q(e.left.column)}), ''), 0,
        json_object('${e.left.wireKey}', ${l}, '${e.right.wireKey}', ${r}));
    END;`;
  };
  return [trigger("link", "NEW", "INSERT"), trigger("unlink", "OLD", "DELETE")];
}

/** SQL that creates sync_log (if missing) and the change triggers of every configured table. */
export function triggersSql(config: ResolvedConfig): string {
  const parts = [syncLogDdl(config.syncLogTable)];
  for (const e of config.rowEntities) parts.push(...rowTriggers(config, e));
  for (const e of config.linkEntities) parts.push(...linkTriggers(config, e));
  return parts.join("\n");
}

/** Creates sync_log and the triggers; idempotent. */
export function installTriggers(db: Database, config: ResolvedConfig): void {
  db.exec(triggersSql(config));
}
