// Shows registers in the app's tables: a row register becomes a row (inserted or updated in place, never
// INSERT OR REPLACE), a link register a present or absent link row. A register whose parent is not present
// is kept pending and shown as soon as the parent arrives (never dropped, never retried a fixed number of
// times). What the app's tables show is a function of the registers alone.
import type { Payload } from "../changeset/format.js";
import { type LinkEntity, q, type ResolvedConfig, type RowEntity } from "../config/schema.js";
import type { Database, Statement } from "../db.js";
import type { RegisterStore } from "./registers.js";

interface RowStatements {
  readonly idByUuid: Statement;
  readonly insert: Statement;
  readonly update: Statement;
  readonly columns: readonly string[];
}

interface LinkStatements {
  readonly insert: Statement;
  readonly remove: Statement;
}

export class Materializer {
  private readonly rows = new Map<string, RowStatements>();
  private readonly links = new Map<string, LinkStatements>();
  private readonly pendingFor: Statement;
  private readonly pendingClear: Statement;
  private readonly pendingAdd: Statement;
  /** Rows shown for the first time during the current apply; counted for reports. */
  newlyShown = 0;

  constructor(
    private readonly db: Database,
    private readonly config: ResolvedConfig,
    private readonly registers: RegisterStore,
  ) {
    this.pendingFor = db.prepare(
      "SELECT entity, uuid FROM sfs_pending WHERE parent_entity = ? AND parent_uuid = ?",
    );
    this.pendingClear = db.prepare("DELETE FROM sfs_pending WHERE entity = ? AND uuid = ?");
    this.pendingAdd = db.prepare(
      "INSERT OR IGNORE INTO sfs_pending (entity, uuid, parent_entity, parent_uuid) VALUES (?, ?, ?, ?)",
    );
  }

  private rowStatements(e: RowEntity): RowStatements {
    let s = this.rows.get(e.name);
    if (!s) {
      const columns = [
        "uuid",
        ...e.columns,
        ...e.parents.map((p) => p.column),
        "last_modified",
        "version",
        "client_id",
        "deleted",
      ];
      const t = q(e.name);
      s = {
        columns,
        idByUuid: this.db.prepare(`SELECT id FROM ${t} WHERE uuid = ?`),
        insert: this.db.prepare(
          `INSERT INTO ${t} (${columns.map(q).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
        ),
        update: this.db.prepare(
          `UPDATE ${t} SET ${columns.map((c) => `${q(c)} = ?`).join(", ")} WHERE id = ?`,
        ),
      };
      this.rows.set(e.name, s);
    }
    return s;
  }

  private linkStatements(e: LinkEntity): LinkStatements {
    let s = this.links.get(e.name);
    if (!s) {
      const t = q(e.name);
      const l = q(e.left.column);
      const r = q(e.right.column);
      s = {
        insert: this.db.prepare(
          `INSERT INTO ${t} (${l}, ${r}) SELECT @l, @r WHERE NOT EXISTS (SELECT 1 FROM ${t} WHERE ${l} = @l AND ${r} = @r)`,
        ),
        remove: this.db.prepare(`DELETE FROM ${t} WHERE ${l} = ? AND ${r} = ?`),
      };
      this.links.set(e.name, s);
    }
    return s;
  }

  /** Local id of a present row (deleted or not), by uuid. */
  localId(table: string, uuid: string): number | undefined {
    const e = this.config.entities.get(table);
    if (e?.kind !== "rows") return undefined;
    const r = this.rowStatements(e).idByUuid.get(uuid) as { id: number } | undefined;
    return r?.id;
  }

  /** Shows the register (entity, uuid) and then everything that was waiting for it. */
  materialize(entity: string, uuid: string): void {
    if (this.materializeOne(entity, uuid)) this.resolveDependents(entity, uuid);
  }

  /** A local write made (entity, uuid) the app's state: it waits for nothing, and its dependents may show. */
  localWrite(entity: string, uuid: string): void {
    this.pendingClear.run(entity, uuid);
    if (this.config.entities.get(entity)?.kind === "rows" && this.localId(entity, uuid) !== undefined)
      this.resolveDependents(entity, uuid);
  }

  private resolveDependents(entity: string, uuid: string): void {
    const queue: Array<[string, string]> = [[entity, uuid]];
    while (queue.length > 0) {
      const [e, u] = queue.shift()!;
      const waiting = this.pendingFor.all(e, u) as Array<{ entity: string; uuid: string }>;
      for (const w of waiting) {
        this.pendingClear.run(w.entity, w.uuid);
        if (this.materializeOne(w.entity, w.uuid)) queue.push([w.entity, w.uuid]);
      }
    }
  }

  /** Returns true when a row became present for the first time (its dependents may now show). */
  private materializeOne(entityName: string, uuid: string): boolean {
    const entity = this.config.entities.get(entityName);
    const reg = this.registers.get(entityName, uuid);
    if (!entity || !reg) return false;
    const payload = JSON.parse(reg.payload) as Payload;
    this.pendingClear.run(entityName, uuid);
    if (entity.kind === "link") {
      const lu = payload[entity.left.wireKey] as string;
      const ru = payload[entity.right.wireKey] as string;
      const lid = this.localId(entity.left.table, lu);
      const rid = this.localId(entity.right.table, ru);
      if (lid === undefined || rid === undefined) {
        if (lid === undefined) this.pendingAdd.run(entityName, uuid, entity.left.table, lu);
        if (rid === undefined) this.pendingAdd.run(entityName, uuid, entity.right.table, ru);
        return false;
      }
      const s = this.linkStatements(entity);
      if (reg.key.flag === 1) s.insert.run({ l: lid, r: rid });
      else s.remove.run(lid, rid);
      return false;
    }
    const parentIds: Array<number | null> = [];
    let missing = false;
    for (const p of entity.parents) {
      const pu = payload[p.wireKey];
      if (pu === null || pu === undefined) {
        parentIds.push(null);
        continue;
      }
      const pid = this.localId(p.table, String(pu));
      if (pid === undefined) {
        this.pendingAdd.run(entityName, uuid, p.table, String(pu));
        missing = true;
      }
      parentIds.push(pid ?? null);
    }
    if (missing) return false;
    const s = this.rowStatements(entity);
    const values = [
      uuid,
      ...entity.columns.map((c) => payload[c] ?? null),
      ...parentIds,
      payload.last_modified ?? null,
      payload.version ?? reg.key.version,
      payload.client_id ?? reg.key.client,
      reg.key.flag,
    ];
    const existing = s.idByUuid.get(uuid) as { id: number } | undefined;
    if (existing) {
      s.update.run(...values, existing.id);
      return false;
    }
    s.insert.run(...values);
    this.newlyShown++;
    return true;
  }

  pendingCount(): number {
    return (
      this.db.prepare("SELECT count(DISTINCT entity || char(0) || uuid) AS n FROM sfs_pending").get() as {
        n: number;
      }
    ).n;
  }
}
