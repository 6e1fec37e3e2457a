// Natural keys (DESIGN section 5, "Natural-key collisions"): the UNIQUE values every register of a row table
// holds, folded by the column's collation, so that the rows connected through shared values (transitively,
// across columns) can be found and re-evaluated together.
import type { Payload } from "../changeset/format.js";
import { q, type ResolvedConfig, type RowEntity } from "../config/schema.js";
import type { Database, Statement } from "../db.js";

export type Collation = "BINARY" | "NOCASE" | "RTRIM";

/** Folds a value the way SQLite's collation compares it; NOCASE folds ASCII letters only, as SQLite does. */
export function foldValue(value: string | number, collation: Collation): string {
  const text = String(value);
  if (collation === "NOCASE") return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
  if (collation === "RTRIM") return text.replace(/ +$/, "");
  return text;
}

/** The collation declared on a column in the table's CREATE statement (BINARY when none). */
export function columnCollation(db: Database, table: string, column: string): Collation {
  const row = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) as
    | { sql: string | null }
    | undefined;
  const sql = row?.sql ?? "";
  const body = sql.slice(sql.indexOf("(") + 1, sql.lastIndexOf(")"));
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (ch === "," && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  const name = column.toLowerCase();
  for (const part of parts) {
    const m = /^\s*["`[]?([A-Za-z_][A-Za-z0-9_]*)["`\]]?\s/.exec(part);
    if (m?.[1]?.toLowerCase() !== name) continue;
    const c = /\bCOLLATE\s+["'`]?(\w+)/i.exec(part)?.[1]?.toUpperCase();
    return c === "NOCASE" || c === "RTRIM" ? c : "BINARY";
  }
  return "BINARY";
}

export interface UniqueKey {
  readonly col: string;
  readonly vkey: string;
}

export class UniqueIndex {
  private readonly collations = new Map<string, ReadonlyMap<string, Collation>>();
  private readonly keysStmt: Statement;
  private readonly clearStmt: Statement;
  private readonly addStmt: Statement;
  private readonly holdersStmt: Statement;

  constructor(db: Database, config: ResolvedConfig) {
    for (const e of config.rowEntities) {
      if (e.unique.length === 0) continue;
      this.collations.set(e.name, new Map(e.unique.map((c) => [c, columnCollation(db, e.name, c)])));
    }
    this.keysStmt = db.prepare("SELECT col, vkey FROM sfs_unique WHERE entity = ? AND uuid = ?");
    this.clearStmt = db.prepare("DELETE FROM sfs_unique WHERE entity = ? AND uuid = ?");
    this.addStmt = db.prepare(
      "INSERT OR IGNORE INTO sfs_unique (entity, col, vkey, uuid) VALUES (?, ?, ?, ?)",
    );
    this.holdersStmt = db.prepare("SELECT uuid FROM sfs_unique WHERE entity = ? AND col = ? AND vkey = ?");
    void q;
  }

  hasUnique(entity: string): boolean {
    return this.collations.has(entity);
  }

  /** The folded UNIQUE values of a payload, in the config's column order (NULLs never collide). */
  keysOf(entity: RowEntity, payload: Payload): UniqueKey[] {
    const collations = this.collations.get(entity.name);
    if (!collations) return [];
    const keys: UniqueKey[] = [];
    for (const col of entity.unique) {
      const v = payload[col];
      if (v === null || v === undefined) continue;
      keys.push({ col, vkey: foldValue(v, collations.get(col) ?? "BINARY") });
    }
    return keys;
  }

  stored(entity: string, uuid: string): UniqueKey[] {
    return this.keysStmt.all(entity, uuid) as UniqueKey[];
  }

  replace(entity: string, uuid: string, keys: readonly UniqueKey[]): void {
    this.clearStmt.run(entity, uuid);
    for (const k of keys) this.addStmt.run(entity, k.col, k.vkey, uuid);
  }

  holders(entity: string, key: UniqueKey): string[] {
    return (this.holdersStmt.all(entity, key.col, key.vkey) as Array<{ uuid: string }>).map((r) => r.uuid);
  }

  /** Every register connected to `seeds` through shared UNIQUE values, transitively. */
  component(entity: string, seeds: Iterable<string>): string[] {
    const seen = new Set<string>(seeds);
    const queue = [...seen];
    while (queue.length > 0) {
      const u = queue.pop()!;
      for (const key of this.stored(entity, u))
        for (const other of this.holders(entity, key))
          if (!seen.has(other)) {
            seen.add(other);
            queue.push(other);
          }
    }
    return [...seen];
  }
}
