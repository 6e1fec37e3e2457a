// The way out of a copied database (DESIGN section 6): one copy takes a new client id and re-exports, under
// it, the changes it published that the folder does not hold as it wrote them (the other copy's files won
// those names) and everything it has not published yet. Re-exported changes are stamped 1 ms later than
// before, so on every replica they beat the copies that travelled under the old id.
import { keyOfLine } from "../apply/apply-change.js";
import { setMeta } from "../apply/library-tables.js";
import { keysEqual } from "../apply/order-key.js";
import { encodeChangeLine } from "../changeset/encode.js";
import type { ChangeLine } from "../changeset/format.js";
import { sha256Hex } from "../changeset/hash.js";
import { formatTimestamp, MICROS_PER_MS } from "../changeset/timestamp.js";
import { changeFileName } from "../transport/names.js";
import type { SyncTransport } from "../transport/transport.js";
import type { Replica } from "./replica.js";

interface OwnFile {
  readonly seq: number;
  readonly lastChange: number;
  /** The folder holds this file as this database wrote it. */
  readonly intact: boolean;
}

/** Each file this database recorded as published, and whether the folder still holds it as written. */
async function ownFiles(replica: Replica, transport: SyncTransport): Promise<OwnFile[]> {
  const rows = replica.db
    .prepare("SELECT seq, last_change, sha256 FROM sfs_published ORDER BY seq")
    .all() as Array<{ seq: number; last_change: number; sha256: string }>;
  const listing = await transport.list();
  const present = new Set(
    listing.files.filter((f) => f.client === replica.clientId && f.regular).map((f) => f.seq),
  );
  const out: OwnFile[] = [];
  for (const r of rows) {
    const intact =
      present.has(r.seq) &&
      sha256Hex(await transport.read(changeFileName(replica.clientId, r.seq))) === r.sha256;
    out.push({ seq: r.seq, lastChange: r.last_change, intact });
  }
  return out;
}

export interface Divergence {
  /** The captured change id after which changes must be re-exported under the new id. */
  readonly from: number;
  /** Own old-id files after that point that the folder still holds as written. */
  readonly stale: readonly string[];
}

/**
 * Where this database's published files stop matching the folder: the changes after it were published in files
 * another database overwrote (or never published) and are re-exported; the own files after it that the folder
 * still holds would keep the other copy (which never wrote them) stopped, so they are to be removed.
 */
export async function findDivergence(replica: Replica, transport: SyncTransport): Promise<Divergence> {
  const files = await ownFiles(replica, transport);
  const firstBad = files.findIndex((f) => !f.intact);
  const kept = firstBad < 0 ? files : files.slice(0, firstBad);
  const after = firstBad < 0 ? [] : files.slice(firstBad);
  return {
    from: kept.at(-1)?.lastChange ?? 0,
    stale: after.filter((f) => f.intact).map((f) => changeFileName(replica.clientId, f.seq)),
  };
}

/**
 * Relabels the changes after `from` for `newId` and forgets the old id's files. Call in a transaction. Local
 * writes not captured yet are captured first (under the old id, then relabelled with the rest), and each
 * re-stamped change goes through the last-writer-wins rule here as it will on every peer: a change that had
 * lost to a peer's key between the old stamp and the new one now wins here too.
 */
export function relabelForNewClient(replica: Replica, newId: string, from: number): number {
  const db = replica.db;
  replica.capturer.capture(replica.now());
  const rows = db
    .prepare("SELECT change_id, line FROM sfs_captured WHERE change_id > ? ORDER BY change_id")
    .all(from) as Array<{ change_id: number; line: string }>;
  const update = db.prepare("UPDATE sfs_captured SET line = ? WHERE change_id = ?");
  for (const r of rows) {
    const line = JSON.parse(r.line) as ChangeLine;
    const oldKey = keyOfLine(replica.config, line);
    const moved: ChangeLine = { ...line, client: newId, ts: formatTimestamp(oldKey.ts + MICROS_PER_MS) };
    update.run(encodeChangeLine(moved), r.change_id);
    const reg = replica.registers.get(line.entity, line.uuid);
    // Still the register's state: only its key moves (the payload and what is shown stay).
    if (reg && keysEqual(reg.key, oldKey))
      replica.registers.put(line.entity, line.uuid, {
        key: keyOfLine(replica.config, moved),
        payload: reg.payload,
      });
    else replica.applier.apply(moved, `re-exported as ${newId}`);
  }
  // What showing those changes wrote to the app's tables are echoes, not local changes.
  replica.capturer.skipToEnd();
  db.exec("DELETE FROM sfs_published");
  setMeta(db, "export_cursor", from);
  return rows.length;
}
