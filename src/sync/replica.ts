// One synced database and the engine parts that work on it: registers, materializer, conflict log,
// capture and apply. Everything here is synchronous and runs inside transactions this class opens.

import { ChangeApplier } from "../apply/apply-change.js";
import { ConflictLog } from "../apply/conflicts.js";
import { lastWriterWins } from "../apply/last-writer-wins.js";
import { Materializer } from "../apply/materialize.js";
import { RegisterStore } from "../apply/registers.js";
import type { ConflictResolver } from "../apply/resolver.js";
import type { NotNullColumns } from "../apply/validate.js";
import { type CaptureResult, Capturer } from "../capture/capture.js";
import { q, type ResolvedConfig } from "../config/schema.js";
import type { Database } from "../db.js";

export class Replica {
  readonly registers: RegisterStore;
  readonly materializer: Materializer;
  readonly conflicts: ConflictLog;
  readonly capturer: Capturer;
  readonly applier: ChangeApplier;
  /** Synced columns the app's tables declare NOT NULL: a peer's null there is a bad line, not a failed apply. */
  readonly notNull: NotNullColumns;

  constructor(
    readonly db: Database,
    readonly config: ResolvedConfig,
    readonly clientId: string,
    readonly now: () => number,
    resolver: ConflictResolver = lastWriterWins,
  ) {
    this.registers = new RegisterStore(db);
    const notNull = new Map<string, Set<string>>();
    for (const e of config.rowEntities) {
      const info = db.prepare(`PRAGMA table_info(${q(e.name)})`).all() as Array<{
        name: string;
        notnull: number;
      }>;
      notNull.set(
        e.name,
        new Set(info.filter((c) => c.notnull === 1 && e.columns.includes(c.name)).map((c) => c.name)),
      );
    }
    this.notNull = notNull;
    this.conflicts = new ConflictLog(db, now);
    this.materializer = new Materializer(db, config, this.registers, this.conflicts);
    this.capturer = new Capturer(db, config, this.registers, this.materializer, clientId);
    this.applier = new ChangeApplier(config, this.registers, this.materializer, this.conflicts, resolver);
  }

  /**
   * Runs `fn` in a BEGIN IMMEDIATE transaction that first captures local changes (so no app write can fall
   * between capture and apply) and ends by marking the sync_log rows the apply itself caused as seen
   * (echo suppression by what this transaction wrote, not by client_id).
   */
  applyTransaction<T>(fn: () => T): { result: T; warnings: readonly string[] } {
    return this.transaction(() => {
      const { warnings } = this.capturer.capture(this.now());
      const result = fn();
      this.capturer.skipToEnd();
      return { result, warnings };
    });
  }

  /** Captures local changes in their own transaction (before export). */
  captureNow(): CaptureResult {
    return this.transaction(() => {
      const result = this.capturer.capture(this.now());
      this.capturer.skipToEnd();
      return result;
    });
  }

  transaction<T>(fn: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.db.exec("COMMIT");
      return result;
    } catch (error) {
      if (this.db.inTransaction) this.db.exec("ROLLBACK");
      throw error;
    }
  }
}
