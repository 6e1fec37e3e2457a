// Applies one validated peer change to its register (DESIGN section 5): the greater key wins; an equal key
// is the same change; a loser is recorded, never applied; a winner is shown in the app's tables (or kept
// pending until its parents arrive). Runs inside the caller's apply transaction.
import type { ChangeLine } from "../changeset/format.js";
import { parseTimestamp } from "../changeset/timestamp.js";
import type { ResolvedConfig } from "../config/schema.js";
import type { ConflictLog } from "./conflicts.js";
import type { Materializer } from "./materialize.js";
import type { OrderKey } from "./order-key.js";
import { normalizePayload } from "./payload.js";
import type { RegisterStore } from "./registers.js";
import type { ConflictResolver } from "./resolver.js";

export type ApplyOutcome = "applied" | "duplicate" | "lost";

export function keyOfLine(config: ResolvedConfig, c: ChangeLine): OrderKey {
  const entity = config.entities.get(c.entity);
  const ts = parseTimestamp(c.ts);
  if (!entity || ts === undefined) throw new Error(`change for ${c.entity} ${c.uuid} was not validated`);
  if (entity.kind === "link") return { ts, version: 0, flag: c.op === "link" ? 1 : 0, client: c.client };
  return { ts, version: c.version, flag: c.op === "delete" ? 1 : 0, client: c.client };
}

export class ChangeApplier {
  constructor(
    private readonly config: ResolvedConfig,
    private readonly registers: RegisterStore,
    private readonly materializer: Materializer,
    private readonly conflicts: ConflictLog,
    private readonly resolver: ConflictResolver,
  ) {}

  apply(c: ChangeLine, source: string): ApplyOutcome {
    const entity = this.config.entities.get(c.entity)!;
    const key = keyOfLine(this.config, c);
    const payload = JSON.stringify(
      normalizePayload(entity, c.payload, {
        ts: c.ts,
        version: key.version,
        client: c.client,
        flag: key.flag,
      }),
    );
    const current = this.registers.get(c.entity, c.uuid);
    if (current) {
      const cmp = this.resolver.compare(key, current.key);
      if (cmp === 0) return "duplicate";
      if (cmp < 0) {
        this.conflicts.record("lost", c.entity, c.uuid, { key, payload }, current.key, source);
        return "lost";
      }
      // The state this winner replaces was made elsewhere with a version not lower: the user of the device
      // that made it should be able to find it.
      if (current.key.client !== key.client && entity.kind === "rows" && current.key.version >= key.version)
        this.conflicts.record("replaced", c.entity, c.uuid, current, key, source);
    }
    this.registers.put(c.entity, c.uuid, { key, payload });
    this.materializer.materialize(c.entity, c.uuid);
    return "applied";
  }
}
