// Last-writer-wins registers, one per synced row and per link pair, kept in sfs_registers whether or not
// the app's tables can show them yet.
import type { Database, Statement } from "../db.js";
import type { OrderKey } from "./order-key.js";

export interface Register {
  readonly key: OrderKey;
  /** Normalized payload JSON text (payload.ts). */
  readonly payload: string;
}

interface RegisterRow {
  ts: number;
  version: number;
  flag: 0 | 1;
  client: string;
  payload: string;
}

export class RegisterStore {
  private readonly getStmt: Statement;
  private readonly putStmt: Statement;

  constructor(db: Database) {
    this.getStmt = db.prepare(
      "SELECT ts, version, flag, client, payload FROM sfs_registers WHERE entity = ? AND uuid = ?",
    );
    this.putStmt = db.prepare(
      `INSERT INTO sfs_registers (entity, uuid, ts, version, flag, client, payload) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(entity, uuid) DO UPDATE SET ts = excluded.ts, version = excluded.version, flag = excluded.flag,
         client = excluded.client, payload = excluded.payload`,
    );
  }

  get(entity: string, uuid: string): Register | undefined {
    const r = this.getStmt.get(entity, uuid) as RegisterRow | undefined;
    if (!r) return undefined;
    return { key: { ts: r.ts, version: r.version, flag: r.flag, client: r.client }, payload: r.payload };
  }

  put(entity: string, uuid: string, reg: Register): void {
    const k = reg.key;
    this.putStmt.run(entity, uuid, k.ts, k.version, k.flag, k.client, reg.payload);
  }
}

export function keyToJson(key: OrderKey): string {
  return JSON.stringify({
    ts: new Date(Math.floor(key.ts / 1000)).toISOString(),
    tsMicros: key.ts,
    version: key.version,
    flag: key.flag,
    client: key.client,
  });
}
