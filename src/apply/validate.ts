// Checks a peer's change line against the config before anything of its file is applied
// (DESIGN section 3: unknown entity, bad timestamp, uuid mismatch, schema mismatch). Pure.
import type { ChangeLine, FileProblem } from "../changeset/format.js";
import { parseTimestamp, quote } from "../changeset/timestamp.js";
import type { ResolvedConfig } from "../config/schema.js";

const ROW_OPS = new Set(["create", "update", "delete"]);
const LINK_OPS = new Set(["link", "unlink"]);

/** Per row table, the synced columns the app's table declares NOT NULL (a null there can never be shown). */
export type NotNullColumns = ReadonlyMap<string, ReadonlySet<string>>;

export function validateChange(
  config: ResolvedConfig,
  c: ChangeLine,
  line: number,
  notNull: NotNullColumns = new Map(),
): FileProblem | undefined {
  const entity = config.entities.get(c.entity);
  const bad = (code: FileProblem["code"], message: string): FileProblem => ({
    kind: "bad",
    code,
    line,
    message,
  });
  if (!entity)
    return bad(
      "UNKNOWN_ENTITY",
      `unknown entity ${JSON.stringify(c.entity).slice(0, 80)} (not a synced table here)`,
    );
  if (parseTimestamp(c.ts) === undefined)
    return bad(
      "BAD_TIMESTAMP",
      `timestamp ${JSON.stringify(c.ts)} is not ISO 8601 with a zone nor SQLite's form`,
    );
  if (entity.kind === "rows") {
    if (!ROW_OPS.has(c.op)) return bad("WRONG_OP", `op ${c.op} is not a row operation on ${c.entity}`);
    if (c.payload.uuid !== c.uuid)
      return bad("UUID_MISMATCH", `payload uuid differs from the line's uuid ${quote(c.uuid)}`);
    for (const col of entity.columns) {
      if (!Object.hasOwn(c.payload, col) && !Object.hasOwn(entity.defaults, col))
        return bad(
          "MISSING_COLUMN",
          `schema mismatch: ${c.entity}.${col} is missing from the payload and has no default in the config`,
        );
    }
    const required = notNull.get(entity.name);
    for (const col of entity.columns)
      if (c.payload[col] === null && required?.has(col))
        return bad("INVALID_LINE", `${c.entity}.${col} is null, but the table declares it NOT NULL`);
    const bookkeeping: Array<[string, (v: unknown) => boolean, string]> = [
      ["last_modified", (v) => typeof v === "string", "a timestamp string"],
      ["version", (v) => Number.isInteger(v), "an integer"],
      ["client_id", (v) => typeof v === "string", "a string"],
      ["deleted", (v) => v === 0 || v === 1, "0 or 1"],
    ];
    for (const [key, ok, what] of bookkeeping)
      if (Object.hasOwn(c.payload, key) && !ok(c.payload[key]))
        return bad("INVALID_LINE", `payload ${key} must be ${what}, not ${quote(String(c.payload[key]))}`);
    for (const p of entity.parents) {
      const v = c.payload[p.wireKey];
      if (v !== null && typeof v !== "string")
        return bad(
          "MISSING_COLUMN",
          `schema mismatch: ${c.entity} payload lacks parent reference ${p.wireKey}`,
        );
    }
    return undefined;
  }
  if (!LINK_OPS.has(c.op)) return bad("WRONG_OP", `op ${c.op} is not a link operation on ${c.entity}`);
  const l = c.payload[entity.left.wireKey];
  const r = c.payload[entity.right.wireKey];
  if (typeof l !== "string" || typeof r !== "string" || l === "" || r === "")
    return bad(
      "INVALID_LINE",
      `link payload needs ${entity.left.wireKey} and ${entity.right.wireKey} as uuids`,
    );
  if (c.uuid !== `${l}_${r}`) return bad("UUID_MISMATCH", `link uuid must be ${quote(`${l}_${r}`)}`);
  return undefined;
}
