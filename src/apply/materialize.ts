// Shows registers in the app's tables (DESIGN section 5). What the app's tables hold is a function of the
// registers alone:
// - a row is shown when its parents are present, unless one of its UNIQUE values is held by a row that comes
//   before it (live rows in uuid byte order, then deleted ones): then it is shadowed (sfs_shadow) and its links
//   and children are shown on its shadower;
// - a link pair is shown when the greatest key among the link registers that map to it is a link;
// - a register whose parent is missing is pending (sfs_pending) and shown as soon as the parent arrives.
// Rows are written in place (UPDATE, or INSERT), never with INSERT OR REPLACE.
import type { Payload } from "../changeset/format.js";
import type { LinkEntity, ResolvedConfig, RowEntity } from "../config/schema.js";
import type { Database, Statement } from "../db.js";
import type { ConflictLog } from "./conflicts.js";
import { LinkWriter } from "./links.js";
import { compareUtf8 } from "./order-key.js";
import type { Register, RegisterStore } from "./registers.js";
import { RowWriter } from "./row-writer.js";
import { UniqueIndex, type UniqueKey } from "./unique-index.js";

export type Resolved =
  | { readonly kind: "shown"; readonly id: number; readonly uuid: string }
  | { readonly kind: "hidden" }
  | { readonly kind: "missing" };

interface Candidate {
  readonly uuid: string;
  readonly reg: Register;
  readonly payload: Payload;
  readonly parentIds: Array<number | null>;
  readonly keys: UniqueKey[];
}

type Target =
  | { readonly shown: true }
  | { readonly shown: false; readonly by: string; readonly key: UniqueKey };

export class Materializer {
  readonly unique: UniqueIndex;
  private readonly rows: RowWriter;
  private readonly links: LinkWriter;
  private readonly stmt: Record<string, Statement>;

  constructor(
    db: Database,
    private readonly config: ResolvedConfig,
    private readonly registers: RegisterStore,
    private readonly conflicts: ConflictLog,
  ) {
    this.unique = new UniqueIndex(db, config);
    this.rows = new RowWriter(db, config);
    this.links = new LinkWriter(db, config, registers, this);
    this.stmt = {
      pendingClear: db.prepare("DELETE FROM sfs_pending WHERE entity = ? AND uuid = ?"),
      pendingAdd: db.prepare(
        "INSERT OR IGNORE INTO sfs_pending (entity, uuid, parent_entity, parent_uuid) VALUES (?, ?, ?, ?)",
      ),
      pendingCount: db.prepare("SELECT count(*) AS n FROM (SELECT DISTINCT entity, uuid FROM sfs_pending)"),
      refsClear: db.prepare("DELETE FROM sfs_refs WHERE entity = ? AND uuid = ?"),
      refsAdd: db.prepare(
        "INSERT OR IGNORE INTO sfs_refs (entity, uuid, parent_entity, parent_uuid) VALUES (?, ?, ?, ?)",
      ),
      dependents: db.prepare("SELECT entity, uuid FROM sfs_refs WHERE parent_entity = ? AND parent_uuid = ?"),
      shadowGet: db.prepare("SELECT shadower FROM sfs_shadow WHERE entity = ? AND uuid = ?"),
      shadowSet: db.prepare(
        "INSERT INTO sfs_shadow (entity, uuid, shadower) VALUES (?, ?, ?) ON CONFLICT(entity, uuid) DO UPDATE SET shadower = excluded.shadower",
      ),
      shadowClear: db.prepare("DELETE FROM sfs_shadow WHERE entity = ? AND uuid = ?"),
      shadowedBy: db.prepare("SELECT uuid FROM sfs_shadow WHERE entity = ? AND shadower = ?"),
      waitedFor: db.prepare("SELECT 1 FROM sfs_pending WHERE parent_entity = ? AND parent_uuid = ? LIMIT 1"),
    };
  }

  /** Where a reference to (table, uuid) points in the app's tables. */
  resolve(table: string, uuid: string): Resolved {
    // The shadow table first: a row just shadowed may still sit in its table until its dependents have moved.
    const shadow = this.stmt.shadowGet!.get(table, uuid) as { shadower: string } | undefined;
    if (!shadow) {
      const id = this.rows.idOf(table, uuid);
      return id === undefined ? { kind: "missing" } : { kind: "shown", id, uuid };
    }
    if (this.registers.get(table, uuid)?.key.flag !== 0) return { kind: "hidden" };
    const sid = this.rows.idOf(table, shadow.shadower);
    return sid === undefined ? { kind: "missing" } : { kind: "shown", id: sid, uuid: shadow.shadower };
  }

  /** The shown row's uuid and the uuids of the live rows it shadows (their links and children show on it). */
  twins(table: string, shownUuid: string): string[] {
    const out = [shownUuid];
    for (const r of this.stmt.shadowedBy!.all(table, shownUuid) as Array<{ uuid: string }>)
      if (this.registers.get(table, r.uuid)?.key.flag === 0) out.push(r.uuid);
    return out;
  }

  /** A register changed (a peer's winner or a local write): show what it means now. */
  materialize(entityName: string, uuid: string): void {
    this.materializeMany([[entityName, uuid]]);
  }

  /**
   * Several registers changed together (a capture of local writes): every index is brought up to date first,
   * so that each natural-key component is evaluated against the final state of all of them.
   */
  materializeMany(changed: Iterable<readonly [string, string]>): void {
    const seeds = new Map<string, Set<string>>();
    const links: Array<[LinkEntity, string, Payload]> = [];
    for (const [entityName, uuid] of changed) {
      const entity = this.config.entities.get(entityName);
      const reg = this.registers.get(entityName, uuid);
      if (!entity || !reg) continue;
      const payload = JSON.parse(reg.payload) as Payload;
      this.stmt.refsClear!.run(entityName, uuid);
      if (entity.kind === "link") {
        this.stmt.refsAdd!.run(entityName, uuid, entity.left.table, payload[entity.left.wireKey]);
        this.stmt.refsAdd!.run(entityName, uuid, entity.right.table, payload[entity.right.wireKey]);
        links.push([entity, uuid, payload]);
        continue;
      }
      for (const p of entity.parents) {
        const pu = payload[p.wireKey];
        if (typeof pu === "string") this.stmt.refsAdd!.run(entityName, uuid, p.table, pu);
      }
      const set = seeds.get(entityName) ?? new Set<string>();
      seeds.set(entityName, set);
      set.add(uuid);
      if (this.unique.hasUnique(entityName)) {
        for (const old of this.unique.stored(entityName, uuid))
          for (const holder of this.unique.holders(entityName, old)) set.add(holder);
        this.unique.replace(entityName, uuid, this.unique.keysOf(entity, payload));
      }
    }
    // Parents before children, in config order, so a child finds its parent already shown.
    for (const entity of this.config.rowEntities) {
      const set = seeds.get(entity.name);
      if (!set) continue;
      this.evaluate(
        entity,
        this.unique.hasUnique(entity.name) ? this.unique.component(entity.name, set) : [...set],
      );
    }
    for (const [entity, uuid, payload] of links) this.materializeLink(entity, uuid, payload);
  }

  private materializeLink(entity: LinkEntity, uuid: string, payload: Payload): void {
    this.stmt.pendingClear!.run(entity.name, uuid);
    const l = this.resolve(entity.left.table, String(payload[entity.left.wireKey]));
    const r = this.resolve(entity.right.table, String(payload[entity.right.wireKey]));
    if (l.kind === "missing")
      this.stmt.pendingAdd!.run(entity.name, uuid, entity.left.table, payload[entity.left.wireKey]);
    if (r.kind === "missing")
      this.stmt.pendingAdd!.run(entity.name, uuid, entity.right.table, payload[entity.right.wireKey]);
    if (l.kind === "shown" && r.kind === "shown") this.links.syncRow(entity, "left", l.id, l.uuid);
  }

  /** Marks a register pending on a missing parent (links.ts reports them). */
  addPending(entity: string, uuid: string, parentTable: string, parentUuid: string): void {
    this.stmt.pendingAdd!.run(entity, uuid, parentTable, parentUuid);
  }

  clearPending(entity: string, uuid: string): void {
    this.stmt.pendingClear!.run(entity, uuid);
  }

  /** Re-evaluates a set of rows of one table (a natural-key component, or a single row) and reconciles. */
  private evaluate(entity: RowEntity, uuids: readonly string[]): void {
    const name = entity.name;
    const candidates: Candidate[] = [];
    const absent = new Set<string>();
    for (const u of uuids) {
      const reg = this.registers.get(name, u);
      if (!reg) continue;
      const payload = JSON.parse(reg.payload) as Payload;
      this.stmt.pendingClear!.run(name, u);
      const parentIds: Array<number | null> = [];
      let state: "ok" | "missing" | "hidden" = "ok";
      for (const p of entity.parents) {
        const pu = payload[p.wireKey];
        if (pu === null || pu === undefined) {
          parentIds.push(null);
          continue;
        }
        const r = this.resolve(p.table, String(pu));
        if (r.kind === "shown") parentIds.push(r.id);
        else {
          parentIds.push(null);
          if (r.kind === "missing") this.stmt.pendingAdd!.run(name, u, p.table, String(pu));
          if (state === "ok" || r.kind === "missing") state = r.kind;
        }
      }
      // A row whose parent is missing keeps whatever it shows until the parent arrives.
      if (state === "missing" && this.rows.idOf(name, u) !== undefined) continue;
      if (state !== "ok") {
        absent.add(u);
        continue;
      }
      candidates.push({ uuid: u, reg, payload, parentIds, keys: this.unique.keysOf(entity, payload) });
    }
    candidates.sort((a, b) => a.reg.key.flag - b.reg.key.flag || compareUtf8(a.uuid, b.uuid));
    const held = new Map<string, string>();
    const target = new Map<string, Target>();
    for (const c of candidates) {
      const hit = c.keys.find((k) => held.has(`${k.col}\u0000${k.vkey}`));
      if (hit) {
        target.set(c.uuid, { shown: false, by: held.get(`${hit.col}\u0000${hit.vkey}`)!, key: hit });
        continue;
      }
      target.set(c.uuid, { shown: true });
      for (const k of c.keys) held.set(`${k.col}\u0000${k.vkey}`, c.uuid);
    }
    this.reconcile(entity, candidates, target, absent);
  }

  private reconcile(
    entity: RowEntity,
    candidates: readonly Candidate[],
    target: ReadonlyMap<string, Target>,
    absent: ReadonlySet<string>,
  ): void {
    const name = entity.name;
    const all = [...candidates.map((c) => c.uuid), ...absent];
    const before = new Map<string, { id: number | undefined; shadow: string | undefined }>();
    for (const u of all)
      before.set(u, {
        id: this.rows.idOf(name, u),
        shadow: (this.stmt.shadowGet!.get(name, u) as { shadower: string } | undefined)?.shadower,
      });
    const inTable = all.filter((u) => before.get(u)!.id !== undefined);
    const freed = inTable.filter((u) => target.get(u)?.shown !== true);
    const moving = candidates.some((c) => {
      const t = target.get(c.uuid)!;
      const b = before.get(c.uuid)!;
      return t.shown ? b.id === undefined || b.shadow !== undefined : b.shadow !== t.by || b.id !== undefined;
    });
    // Park the UNIQUE values of every row about to change so no write collides on the way.
    if (inTable.length > 1 || (moving && inTable.length > 0) || freed.length > 0)
      for (const u of inTable) this.rows.park(entity, before.get(u)!.id!, u);

    const taken = new Set<string>();
    const fresh = new Set<string>();
    const after = new Map<string, number>();
    for (const c of candidates) {
      const t = target.get(c.uuid)!;
      if (!t.shown) continue;
      const id = before.get(c.uuid)!.id;
      if (id !== undefined) {
        this.rows.update(entity, id, c.uuid, c.reg, c.payload, c.parentIds, false);
        after.set(c.uuid, id);
        continue;
      }
      // A twin replaced by this row hands over its local id (children and the app's references stay valid).
      const heir = freed.find(
        (u) => !taken.has(u) && (target.get(u) as { by?: string } | undefined)?.by === c.uuid,
      );
      if (heir !== undefined) {
        taken.add(heir);
        const hid = before.get(heir)!.id!;
        this.rows.update(entity, hid, c.uuid, c.reg, c.payload, c.parentIds, true);
        after.set(c.uuid, hid);
        continue;
      }
      after.set(c.uuid, this.rows.insert(entity, c.uuid, c.reg, c.payload, c.parentIds));
      fresh.add(c.uuid);
    }
    for (const c of candidates) {
      const t = target.get(c.uuid)!;
      if (t.shown) this.stmt.shadowClear!.run(name, c.uuid);
      else this.stmt.shadowSet!.run(name, c.uuid, t.by);
    }
    for (const u of absent) this.stmt.shadowClear!.run(name, u);
    // Rows no longer shown and not replaced in place: their dependents move first, then the row goes.
    for (const u of freed) {
      if (taken.has(u)) continue;
      const id = before.get(u)!.id!;
      this.links.removeRowLinks(name, id);
      this.refreshDependents(name, [u], true);
      // Rows pointing at this local id through an earlier takeover reference another uuid: move them too.
      for (const [child, uuid] of this.rows.childrenOf(name, id)) this.materialize(child, uuid);
      this.rows.remove(name, id);
    }
    const changed = new Set<string>();
    for (const u of all) {
      const b = before.get(u)!;
      const t = target.get(u);
      const nowShadow = t && !t.shown ? t.by : undefined;
      // A row shown anew, moved or shadowed, or one that pending registers wait for: its dependents follow.
      const waited = after.has(u) && this.stmt.waitedFor!.get(name, u) !== undefined;
      if (waited) changed.add(u);
      // Whether a shadowed row's links and children show depends on it being live: always re-check them.
      if (nowShadow) changed.add(u).add(nowShadow);
      if (b.id !== after.get(u) || b.shadow !== nowShadow) {
        changed.add(u);
        if (b.shadow) changed.add(b.shadow);
        if (nowShadow) changed.add(nowShadow);
      }
      if (t && !t.shown && b.shadow !== t.by) {
        const c = candidates.find((x) => x.uuid === u)!;
        const winner = this.registers.get(name, t.by)!;
        this.conflicts.record(
          "shadowed",
          name,
          u,
          { key: c.reg.key, payload: c.reg.payload },
          winner.key,
          `natural key ${t.key.col} = ${JSON.stringify(c.payload[t.key.col])} is held by ${t.by}`,
        );
      }
    }
    if (changed.size > 0) this.refreshDependents(name, [...changed], false, fresh);
  }

  /** Re-shows the children and links that reference these rows (their place may have changed). */
  refreshDependents(
    table: string,
    uuids: readonly string[],
    childrenOnly: boolean,
    fresh: ReadonlySet<string> = new Set(),
  ): void {
    for (const u of uuids) {
      const dependents = this.stmt.dependents!.all(table, u) as Array<{ entity: string; uuid: string }>;
      for (const d of dependents) {
        const e = this.config.entities.get(d.entity);
        if (e?.kind === "rows") this.materialize(d.entity, d.uuid);
      }
      if (childrenOnly) continue;
      // A row just inserted under a new id has no link rows yet; with no register referencing it or a twin,
      // it has none to show either (the common case of a plain create: no queries wasted on it).
      if (fresh.has(u) && dependents.length === 0 && this.stmt.shadowedBy!.get(table, u) === undefined)
        continue;
      const r = this.resolve(table, u);
      if (r.kind !== "shown") continue;
      for (const l of this.config.linkEntities) {
        if (l.left.table === table) this.links.syncRow(l, "left", r.id, r.uuid);
        if (l.right.table === table) this.links.syncRow(l, "right", r.id, r.uuid);
      }
    }
  }

  /** The newest key ts among the link registers shown on the same pair as this payload (for stamping). */
  pairMaxTs(entity: LinkEntity, payload: Payload): number | undefined {
    return this.links.pairMaxTs(entity, payload);
  }

  pendingCount(): number {
    return (this.stmt.pendingCount!.get() as { n: number }).n;
  }
}
