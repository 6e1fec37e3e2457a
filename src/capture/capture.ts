// Capture: turns the app's new sync_log rows into stamped changes. Each becomes its register's new state
// (a local write simply is the row's new state) and a captured line in sfs_captured, which export
// publishes. Runs inside the caller's transaction, at the start of every apply and before every export.

import { getMetaNumber, setMeta } from "../apply/library-tables.js";
import type { Materializer } from "../apply/materialize.js";
import { normalizePayload } from "../apply/payload.js";
import type { RegisterStore } from "../apply/registers.js";
import { encodeChangeLine } from "../changeset/encode.js";
import {
  type ChangeLine,
  type ChangeOp,
  MAX_LINE_BYTES,
  type Payload,
  type PayloadValue,
} from "../changeset/format.js";
import { formatTimestamp, parseTimestamp } from "../changeset/timestamp.js";
import type { ResolvedConfig } from "../config/schema.js";
import type { Database, Statement } from "../db.js";
import { stampTs } from "./stamp.js";
import { type SyncLogEntry, SyncLogReader } from "./sync-log.js";

const BATCH = 5000;

export interface CaptureResult {
  readonly captured: number;
  readonly warnings: readonly string[];
}

export class Capturer {
  private readonly log: SyncLogReader;
  private readonly insertCaptured: Statement;

  constructor(
    private readonly db: Database,
    private readonly config: ResolvedConfig,
    private readonly registers: RegisterStore,
    private readonly materializer: Materializer,
    private readonly clientId: string,
  ) {
    this.log = new SyncLogReader(db, config);
    this.insertCaptured = db.prepare("INSERT INTO sfs_captured (change_id, line) VALUES (?, ?)");
  }

  get cursor(): number {
    return getMetaNumber(this.db, "capture_cursor");
  }

  /** Marks every sync_log row so far as seen without capturing it (echoes of an apply; rows before init). */
  skipToEnd(): void {
    setMeta(this.db, "capture_cursor", Math.max(this.cursor, this.log.maxChangeId()));
  }

  /**
   * Captures the sync_log rows after the cursor that exist when it starts. Call inside a write transaction
   * and end it with skipToEnd(): what showing these changes writes to the app's tables (a pending peer row
   * that can now be shown) fires triggers too, and those rows are echoes, not local changes.
   */
  capture(nowMs: number): CaptureResult {
    const warnings: string[] = [];
    let cursor = this.cursor;
    const upTo = this.log.maxChangeId();
    let captured = 0;
    const nowMicros = nowMs * 1000;
    const touched = new Map<string, [string, string]>();
    while (cursor < upTo) {
      const entries = this.log.entriesAfter(cursor, BATCH).filter((e) => e.change_id <= upTo);
      if (entries.length === 0) break;
      for (const entry of entries) {
        cursor = entry.change_id;
        const line = this.toLine(entry, nowMicros, warnings);
        if (!line) continue;
        let text: string;
        try {
          text = encodeChangeLine(line);
        } catch (error) {
          warnings.push(
            `${this.config.syncLogTable} change_id ${entry.change_id}: ${(error as Error).message}; not exported. Fix the row's value; its next change is exported.`,
          );
          continue;
        }
        if (Buffer.byteLength(text) > MAX_LINE_BYTES) {
          warnings.push(
            `${this.config.syncLogTable} change_id ${entry.change_id}: ${entry.entity} ${entry.entity_uuid} is over the ${MAX_LINE_BYTES}-byte line limit; not exported. Make the row smaller; its next change is exported.`,
          );
          continue;
        }
        this.insertCaptured.run(entry.change_id, text);
        this.applyLocal(line);
        touched.set(`${line.entity}\u0000${line.uuid}`, [line.entity, line.uuid]);
        captured++;
      }
    }
    // Shown once all are captured: the app's tables hold the final state, not each intermediate one.
    this.materializer.materializeMany(touched.values());
    setMeta(this.db, "capture_cursor", Math.max(cursor, upTo));
    return { captured, warnings };
  }

  private toLine(entry: SyncLogEntry, nowMicros: number, warnings: string[]): ChangeLine | undefined {
    const where = `${this.config.syncLogTable} change_id ${entry.change_id}`;
    const entity = this.config.entities.get(entry.entity);
    if (!entity) {
      warnings.push(`${where}: entity ${entry.entity} is not in the sync config; not exported.`);
      return undefined;
    }
    let logged: Record<string, PayloadValue> = {};
    if (entry.payload) {
      try {
        const parsed = JSON.parse(entry.payload) as unknown;
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
          logged = parsed as Record<string, PayloadValue>;
      } catch {
        warnings.push(`${where}: payload is not JSON; the row's current state is exported instead.`);
      }
    }
    let uuid = entry.entity_uuid;
    let op: ChangeOp;
    let flag: 0 | 1;
    let version = entry.version;
    if (entity.kind === "link") {
      if (entry.operation !== "link" && entry.operation !== "unlink") {
        warnings.push(`${where}: operation ${entry.operation} on link table ${entity.name}; not exported.`);
        return undefined;
      }
      const l = logged[entity.left.wireKey];
      const r = logged[entity.right.wireKey];
      if (typeof l !== "string" || typeof r !== "string") {
        warnings.push(
          `${where}: link payload lacks ${entity.left.wireKey}/${entity.right.wireKey}; not exported.`,
        );
        return undefined;
      }
      uuid = `${l}_${r}`;
      op = entry.operation;
      flag = op === "link" ? 1 : 0;
      version = 0;
    } else {
      // Payloads the triggers left incomplete are filled from the row (a delete that logged only the uuid).
      const missing = entity.payloadKeys.some((k) => !Object.hasOwn(logged, k));
      if (missing) {
        const current = this.log.currentPayload(entity, uuid);
        if (current) logged = { ...current, ...logged };
      }
      logged.uuid = uuid;
      flag = entry.operation === "delete" || Number(logged.deleted) === 1 ? 1 : 0;
      op = flag === 1 ? "delete" : entry.operation === "create" ? "create" : "update";
    }
    const loggedTs = parseTimestamp(entry.timestamp);
    if (loggedTs === undefined)
      warnings.push(
        `${where}: timestamp ${JSON.stringify(entry.timestamp)} is not readable; stamped as now.`,
      );
    // The key must beat what this replica held: the register, and for a link every register shown on its pair.
    let currentTs = this.registers.get(entity.name, uuid)?.key.ts;
    if (entity.kind === "link") {
      const pairTs = this.materializer.pairMaxTs(entity, logged as Payload);
      if (pairTs !== undefined && (currentTs === undefined || pairTs > currentTs)) currentTs = pairTs;
    }
    const ts = stampTs(loggedTs, nowMicros, currentTs);
    const tsText = formatTimestamp(ts);
    const payload = normalizePayload(entity, logged, { ts: tsText, version, client: this.clientId, flag });
    return {
      type: "change",
      entity: entity.name,
      uuid,
      op,
      ts: tsText,
      version,
      client: this.clientId,
      payload,
    };
  }

  /** A local write simply is the register's new state; then it is shown like any register change. */
  private applyLocal(line: ChangeLine): void {
    const flag = line.op === "delete" || line.op === "link" ? 1 : 0;
    const key = { ts: parseTimestamp(line.ts)!, version: line.version, flag, client: this.clientId } as const;
    this.registers.put(line.entity, line.uuid, { key, payload: JSON.stringify(line.payload) });
  }
}
