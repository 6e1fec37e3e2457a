// Shows link registers as link rows. Several link registers can map to one shown pair (links of a shadowed
// row are shown on its shadower): the greatest key among them decides whether the pair is linked.
import type { Payload } from "../changeset/format.js";
import { type LinkEntity, q, type ResolvedConfig } from "../config/schema.js";
import type { Database, Statement } from "../db.js";
import type { Materializer } from "./materialize.js";
import { compareKeys, type OrderKey } from "./order-key.js";
import type { RegisterStore } from "./registers.js";

type Side = "left" | "right";
const other = (s: Side): Side => (s === "left" ? "right" : "left");

interface Prepared {
  readonly insert: Statement;
  readonly remove: Statement;
  readonly on: Record<Side, Statement>;
  readonly removeOn: Record<Side, Statement>;
}

export class LinkWriter {
  private readonly prepared = new Map<string, Prepared>();
  private readonly refsOf: Statement;

  constructor(
    private readonly db: Database,
    private readonly config: ResolvedConfig,
    private readonly registers: RegisterStore,
    private readonly materializer: Materializer,
  ) {
    this.refsOf = db.prepare(
      "SELECT uuid FROM sfs_refs WHERE entity = ? AND parent_entity = ? AND parent_uuid = ?",
    );
  }

  private statements(e: LinkEntity): Prepared {
    const existing = this.prepared.get(e.name);
    if (existing) return existing;
    const t = q(e.name);
    const l = q(e.left.column);
    const r = q(e.right.column);
    const p: Prepared = {
      insert: this.db.prepare(
        `INSERT INTO ${t} (${l}, ${r}) SELECT @l, @r WHERE NOT EXISTS (SELECT 1 FROM ${t} WHERE ${l} = @l AND ${r} = @r)`,
      ),
      remove: this.db.prepare(`DELETE FROM ${t} WHERE ${l} = ? AND ${r} = ?`),
      on: {
        left: this.db.prepare(`SELECT ${r} AS other FROM ${t} WHERE ${l} = ?`),
        right: this.db.prepare(`SELECT ${l} AS other FROM ${t} WHERE ${r} = ?`),
      },
      removeOn: {
        left: this.db.prepare(`DELETE FROM ${t} WHERE ${l} = ?`),
        right: this.db.prepare(`DELETE FROM ${t} WHERE ${r} = ?`),
      },
    };
    this.prepared.set(e.name, p);
    return p;
  }

  /** The link registers whose `side` references any twin of the shown row, with their payloads. */
  private registersOn(e: LinkEntity, side: Side, shownUuid: string) {
    const table = e[side].table;
    const out: Array<{ uuid: string; key: OrderKey; payload: Payload }> = [];
    for (const t of this.materializer.twins(table, shownUuid))
      for (const { uuid } of this.refsOf.all(e.name, table, t) as Array<{ uuid: string }>) {
        const reg = this.registers.get(e.name, uuid);
        if (!reg) continue;
        const payload = JSON.parse(reg.payload) as Payload;
        if (payload[e[side].wireKey] === t) out.push({ uuid, key: reg.key, payload });
      }
    return out;
  }

  /** Makes every link row on one shown row match its registers: the greatest key per shown pair decides. */
  syncRow(e: LinkEntity, side: Side, id: number, shownUuid: string): void {
    const o = other(side);
    const desired = new Map<number, OrderKey>();
    for (const r of this.registersOn(e, side, shownUuid)) {
      const ou = String(r.payload[e[o].wireKey]);
      const res = this.materializer.resolve(e[o].table, ou);
      this.materializer.clearPending(e.name, r.uuid);
      if (res.kind === "missing") {
        this.materializer.addPending(e.name, r.uuid, e[o].table, ou);
        continue;
      }
      if (res.kind !== "shown") continue;
      const cur = desired.get(res.id);
      if (!cur || compareKeys(r.key, cur) > 0) desired.set(res.id, r.key);
    }
    const s = this.statements(e);
    const actual = new Set((s.on[side].all(id) as Array<{ other: number }>).map((r) => r.other));
    const pair = (oid: number) => (side === "left" ? { l: id, r: oid } : { l: oid, r: id });
    for (const [oid, key] of desired) if (key.flag === 1 && !actual.has(oid)) s.insert.run(pair(oid));
    for (const oid of actual)
      if (desired.get(oid)?.flag !== 1) {
        const p = pair(oid);
        s.remove.run(p.l, p.r);
      }
  }

  /** Removes every link row on a row that is about to leave its table (its registers stay). */
  removeRowLinks(table: string, id: number): void {
    for (const e of this.config.linkEntities) {
      const s = this.statements(e);
      if (e.left.table === table) s.removeOn.left.run(id);
      if (e.right.table === table) s.removeOn.right.run(id);
    }
  }

  pairMaxTs(e: LinkEntity, payload: Payload): number | undefined {
    const l = this.materializer.resolve(e.left.table, String(payload[e.left.wireKey]));
    const r = this.materializer.resolve(e.right.table, String(payload[e.right.wireKey]));
    if (l.kind !== "shown" || r.kind !== "shown") return undefined;
    let max: number | undefined;
    for (const reg of this.registersOn(e, "left", l.uuid)) {
      const res = this.materializer.resolve(e.right.table, String(reg.payload[e.right.wireKey]));
      if (res.kind === "shown" && res.id === r.id && (max === undefined || reg.key.ts > max))
        max = reg.key.ts;
    }
    return max;
  }
}
