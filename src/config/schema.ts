// The sync config: which tables sync, which of their columns, and how they reference each other.
// Options in, one frozen resolved config out; every identifier used in SQL comes from here, never from a file.
import { z } from "zod";
import { SyncError } from "../sync/errors.js";

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ident = z.string().regex(IDENT, "must be a plain SQL identifier (letters, digits, underscore)");
const scalar = z.union([z.string(), z.number(), z.null()]);

/** Columns every row table has and the library manages. */
export const BOOKKEEPING_COLUMNS = ["uuid", "last_modified", "version", "client_id", "deleted"] as const;

const parentRefSchema = z.strictObject({
  /** Local integer FK column, e.g. `media_id`. */
  column: ident,
  /** Parent row table, e.g. `Media`. */
  table: ident,
  /** Key on the wire; default `<table lowercase>_uuid`. */
  wireKey: ident.optional(),
});

const rowTableSchema = z.strictObject({
  kind: z.literal("rows"),
  name: ident,
  /** Synced data columns (not the bookkeeping ones, not parent FK columns). */
  columns: z.array(ident),
  parents: z.array(parentRefSchema).default([]),
  /** Columns that never sync; listed so triggers and checks know them. */
  localColumns: z.array(ident).default([]),
  /** UNIQUE columns (natural keys) in priority order. */
  unique: z.array(ident).default([]),
  /** Defaults for synced columns added later: used when a payload lacks the column. */
  defaults: z.record(ident, scalar).default({}),
});

const linkSideSchema = z.strictObject({ column: ident, table: ident, wireKey: ident });

const linkTableSchema = z.strictObject({
  kind: z.literal("link"),
  name: ident,
  left: linkSideSchema,
  right: linkSideSchema,
});

export const syncConfigSchema = z.strictObject({
  tables: z.array(z.discriminatedUnion("kind", [rowTableSchema, linkTableSchema])).min(1),
  /** The app's change log table. */
  syncLogTable: ident.default("sync_log"),
});

export type SyncConfigInput = z.input<typeof syncConfigSchema>;

export interface ResolvedParent {
  readonly column: string;
  readonly table: string;
  readonly wireKey: string;
}

export interface RowEntity {
  readonly kind: "rows";
  readonly name: string;
  readonly columns: readonly string[];
  readonly parents: readonly ResolvedParent[];
  readonly localColumns: readonly string[];
  readonly unique: readonly string[];
  readonly defaults: Readonly<Record<string, string | number | null>>;
  /** Every key of a wire payload, in a fixed order: uuid, data columns, parent wire keys, bookkeeping. */
  readonly payloadKeys: readonly string[];
}

export interface LinkEntity {
  readonly kind: "link";
  readonly name: string;
  readonly left: ResolvedParent;
  readonly right: ResolvedParent;
}

export type Entity = RowEntity | LinkEntity;

export interface ResolvedConfig {
  readonly entities: ReadonlyMap<string, Entity>;
  readonly rowEntities: readonly RowEntity[];
  readonly linkEntities: readonly LinkEntity[];
  readonly syncLogTable: string;
}

/** Validates a config and resolves defaults; throws SyncError CONFIG_INVALID naming the problem. */
export function resolveConfig(input: unknown): ResolvedConfig {
  const parsed = syncConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new SyncError("CONFIG_INVALID", `Invalid sync config: ${issues}`);
  }
  const entities = new Map<string, Entity>();
  const rowEntities: RowEntity[] = [];
  const linkEntities: LinkEntity[] = [];
  for (const t of parsed.data.tables) {
    if (entities.has(t.name)) throw new SyncError("CONFIG_INVALID", `Table ${t.name} is configured twice.`);
    if (t.kind === "rows") {
      const parents = t.parents.map((p) => ({ ...p, wireKey: p.wireKey ?? `${p.table.toLowerCase()}_uuid` }));
      const seen = new Set<string>();
      const all = [
        ...BOOKKEEPING_COLUMNS,
        ...t.columns,
        ...parents.map((p) => p.column),
        ...parents.map((p) => p.wireKey),
        ...t.localColumns,
      ];
      for (const c of all) {
        if (seen.has(c))
          throw new SyncError(
            "CONFIG_INVALID",
            `Table ${t.name}: column ${c} is listed twice or is reserved.`,
          );
        seen.add(c);
      }
      for (const u of t.unique)
        if (!t.columns.includes(u))
          throw new SyncError(
            "CONFIG_INVALID",
            `Table ${t.name}: unique column ${u} is not a synced column.`,
          );
      for (const d of Object.keys(t.defaults))
        if (!t.columns.includes(d))
          throw new SyncError(
            "CONFIG_INVALID",
            `Table ${t.name}: default given for ${d}, not a synced column.`,
          );
      const e: RowEntity = Object.freeze({
        kind: "rows",
        name: t.name,
        columns: Object.freeze([...t.columns]),
        parents: Object.freeze(parents.map((p) => Object.freeze(p))),
        localColumns: Object.freeze([...t.localColumns]),
        unique: Object.freeze([...t.unique]),
        defaults: Object.freeze({ ...t.defaults }),
        payloadKeys: Object.freeze([
          "uuid",
          ...t.columns,
          ...parents.map((p) => p.wireKey),
          "last_modified",
          "version",
          "client_id",
          "deleted",
        ]),
      });
      entities.set(t.name, e);
      rowEntities.push(e);
    } else {
      const e: LinkEntity = Object.freeze({
        kind: "link",
        name: t.name,
        left: Object.freeze({ ...t.left }),
        right: Object.freeze({ ...t.right }),
      });
      entities.set(t.name, e);
      linkEntities.push(e);
    }
  }
  for (const e of entities.values()) {
    const refs = e.kind === "rows" ? e.parents : [e.left, e.right];
    for (const r of refs) {
      const target = entities.get(r.table);
      if (target?.kind !== "rows")
        throw new SyncError(
          "CONFIG_INVALID",
          `Table ${e.name} references ${r.table}, which is not a row table.`,
        );
    }
  }
  return Object.freeze({
    entities,
    rowEntities: Object.freeze(rowEntities),
    linkEntities: Object.freeze(linkEntities),
    syncLogTable: parsed.data.syncLogTable,
  });
}

/** Quotes a config identifier for SQL (identifiers are validated above; quoting is belt and braces). */
export function q(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
