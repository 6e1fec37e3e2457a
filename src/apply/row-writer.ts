// Writes rows of the app's row tables by local id: insert, update in place (optionally as a twin taking over
// another row's id, with local-only columns reset), park UNIQUE values, remove. Statements are prepared once.
import type { Payload } from "../changeset/format.js";
import { q, type ResolvedConfig, type RowEntity } from "../config/schema.js";
import type { Database, Statement } from "../db.js";
import type { Register } from "./registers.js";

interface Prepared {
  readonly idByUuid: Statement;
  readonly insert: Statement;
  readonly update: Statement;
  readonly takeover: Statement;
  readonly park: Statement | undefined;
  readonly remove: Statement;
}

export class RowWriter {
  private readonly prepared = new Map<string, Prepared>();

  constructor(
    private readonly db: Database,
    private readonly config: ResolvedConfig,
  ) {}

  private statements(e: RowEntity): Prepared {
    const existing = this.prepared.get(e.name);
    if (existing) return existing;
    const t = q(e.name);
    const cols = [
      "uuid",
      ...e.columns,
      ...e.parents.map((p) => p.column),
      "last_modified",
      "version",
      "client_id",
      "deleted",
    ];
    const synced = new Set(["id", ...cols]);
    // Local-only columns go back to their declared default when a twin takes a row over.
    const info = this.db.prepare(`PRAGMA table_info(${t})`).all() as Array<{
      name: string;
      dflt_value: string | null;
    }>;
    const resets = info
      .filter((c) => !synced.has(c.name))
      .map((c) => `${q(c.name)} = ${c.dflt_value === null ? "NULL" : `(${c.dflt_value})`}`);
    const set = cols.map((c) => `${q(c)} = ?`).join(", ");
    const p: Prepared = {
      idByUuid: this.db.prepare(`SELECT id FROM ${t} WHERE uuid = ?`),
      insert: this.db.prepare(
        `INSERT INTO ${t} (${cols.map(q).join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`,
      ),
      update: this.db.prepare(`UPDATE ${t} SET ${set} WHERE id = ?`),
      takeover: this.db.prepare(`UPDATE ${t} SET ${[set, ...resets].join(", ")} WHERE id = ?`),
      park:
        e.unique.length === 0
          ? undefined
          : this.db.prepare(
              `UPDATE ${t} SET ${e.unique.map((c) => `${q(c)} = char(1) || 'sfs-parked:' || ? || ':${c}'`).join(", ")} WHERE id = ?`,
            ),
      remove: this.db.prepare(`DELETE FROM ${t} WHERE id = ?`),
    };
    this.prepared.set(e.name, p);
    return p;
  }

  private entity(table: string): RowEntity {
    const e = this.config.entities.get(table);
    if (e?.kind !== "rows") throw new Error(`${table} is not a row table`);
    return e;
  }

  idOf(table: string, uuid: string): number | undefined {
    const e = this.config.entities.get(table);
    if (e?.kind !== "rows") return undefined;
    return (this.statements(e).idByUuid.get(uuid) as { id: number } | undefined)?.id;
  }

  private values(
    e: RowEntity,
    uuid: string,
    reg: Register,
    payload: Payload,
    parentIds: Array<number | null>,
  ) {
    return [
      uuid,
      ...e.columns.map((c) => payload[c] ?? null),
      ...parentIds,
      payload.last_modified ?? null,
      payload.version ?? reg.key.version,
      payload.client_id ?? reg.key.client,
      reg.key.flag,
    ];
  }

  insert(
    e: RowEntity,
    uuid: string,
    reg: Register,
    payload: Payload,
    parentIds: Array<number | null>,
  ): number {
    const r = this.statements(e).insert.run(...this.values(e, uuid, reg, payload, parentIds));
    return Number(r.lastInsertRowid);
  }

  update(
    e: RowEntity,
    id: number,
    uuid: string,
    reg: Register,
    payload: Payload,
    parentIds: Array<number | null>,
    takeover: boolean,
  ): void {
    const s = this.statements(e);
    (takeover ? s.takeover : s.update).run(...this.values(e, uuid, reg, payload, parentIds), id);
  }

  /** Gives the row's UNIQUE columns placeholder values no real row holds, so values can move between rows. */
  park(e: RowEntity, id: number, uuid: string): void {
    this.statements(e).park?.run(...e.unique.map(() => uuid), id);
  }

  /** Rows of child tables whose parent reference is this local id, as [table, uuid]. */
  childrenOf(table: string, id: number): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const e of this.config.rowEntities)
      for (const p of e.parents)
        if (p.table === table) {
          const rows = this.db
            .prepare(`SELECT uuid FROM ${q(e.name)} WHERE ${q(p.column)} = ?`)
            .all(id) as Array<{
            uuid: string;
          }>;
          for (const r of rows) out.push([e.name, r.uuid]);
        }
    return out;
  }

  remove(table: string, id: number): void {
    this.statements(this.entity(table)).remove.run(id);
  }
}
