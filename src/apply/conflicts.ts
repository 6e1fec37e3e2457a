// The conflict log: every losing change, and every local state a peer's winner replaced, so a user can
// find and recover it (`folder-sync conflicts`).
import type { Database, Statement } from "../db.js";
import type { OrderKey } from "./order-key.js";
import { keyToJson } from "./registers.js";

export type ConflictKind =
  /** An incoming change lost to the register's current key: not applied. */
  | "lost"
  /** A peer's winner replaced a state of another client whose version was not lower. */
  | "replaced"
  /** A row not shown because a row before it holds one of its UNIQUE values (a natural-key twin). */
  | "shadowed";

export interface ConflictRecord {
  readonly id: number;
  readonly recordedAt: string;
  readonly kind: ConflictKind;
  readonly entity: string;
  readonly uuid: string;
  readonly loserKey: unknown;
  readonly loserPayload: unknown;
  readonly winnerKey: unknown;
  readonly source: string | null;
}

export class ConflictLog {
  private readonly insert: Statement;
  constructor(
    private readonly db: Database,
    private readonly now: () => number,
  ) {
    this.insert = db.prepare(
      `INSERT INTO sfs_conflicts (recorded_at, kind, entity, uuid, loser_key, loser_payload, winner_key, source)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  record(
    kind: ConflictKind,
    entity: string,
    uuid: string,
    loser: { key: OrderKey; payload: string },
    winner: OrderKey,
    source: string,
  ): void {
    this.insert.run(
      new Date(this.now()).toISOString(),
      kind,
      entity,
      uuid,
      keyToJson(loser.key),
      loser.payload,
      keyToJson(winner),
      source,
    );
  }

  count(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM sfs_conflicts").get() as { n: number }).n;
  }

  list(limit = 1000): ConflictRecord[] {
    const rows = this.db.prepare("SELECT * FROM sfs_conflicts ORDER BY id DESC LIMIT ?").all(limit) as Array<
      Record<string, string | number | null>
    >;
    return rows.map((r) => ({
      id: Number(r.id),
      recordedAt: String(r.recorded_at),
      kind: r.kind as ConflictKind,
      entity: String(r.entity),
      uuid: String(r.uuid),
      loserKey: JSON.parse(String(r.loser_key)),
      loserPayload: r.loser_payload === null ? null : JSON.parse(String(r.loser_payload)),
      winnerKey: JSON.parse(String(r.winner_key)),
      source: r.source === null ? null : String(r.source),
    }));
  }
}
