// The way out of a copied database (DESIGN section 6): one copy takes a new client id and re-exports, under
// it, the changes it published that the folder does not hold as it wrote them (the other copy's files won
// those names) and everything it has not published yet. Re-exported changes are stamped 1 ms later than
// before, so on every replica they beat the copies that travelled under the old id.
import { createHash } from "node:crypto";
import { keyOfLine } from "../apply/apply-change.js";
import { setMeta } from "../apply/library-tables.js";
import { keysEqual } from "../apply/order-key.js";
import { encodeChangeLine } from "../changeset/encode.js";
import type { ChangeLine } from "../changeset/format.js";
import { formatTimestamp, MICROS_PER_MS } from "../changeset/timestamp.js";
import { changeFileName } from "../transport/names.js";
import type { SyncTransport } from "../transport/transport.js";
import type { Replica } from "./replica.js";

interface PublishedRow {
  seq: number;
  first_change: number;
  last_change: number;
  sha256: string;
}

/**
 * The captured change id after which this database's published files stop matching the folder: changes after
 * it were published in files another database overwrote (or were never published) and must be re-exported.
 */
export async function divergencePoint(replica: Replica, transport: SyncTransport): Promise<number> {
  const rows = replica.db
    .prepare("SELECT seq, first_change, last_change, sha256 FROM sfs_published ORDER BY seq")
    .all() as PublishedRow[];
  const listing = await transport.list();
  const present = new Set(
    listing.files.filter((f) => f.client === replica.clientId && f.regular).map((f) => f.seq),
  );
  let good = 0;
  for (const r of rows) {
    if (!present.has(r.seq)) break;
    const bytes = await transport.read(changeFileName(replica.clientId, r.seq));
    if (createHash("sha256").update(bytes).digest("hex") !== r.sha256) break;
    good = r.last_change;
  }
  return good;
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

/**
 * This database's files under the old id after the divergence point that still hold its own bytes: their
 * changes are re-exported under the new id, and left in the folder they would keep the other copy (which
 * never wrote them) stopped. Removes them and returns their names.
 */
export async function unpublishDiverged(
  replica: Replica,
  transport: SyncTransport,
  from: number,
): Promise<string[]> {
  const rows = replica.db
    .prepare(
      "SELECT seq, first_change, last_change, sha256 FROM sfs_published WHERE first_change > ? ORDER BY seq",
    )
    .all(from) as PublishedRow[];
  const listing = await transport.list();
  const present = new Set(
    listing.files.filter((f) => f.client === replica.clientId && f.regular).map((f) => f.seq),
  );
  const removed: string[] = [];
  for (const r of rows) {
    if (!present.has(r.seq)) continue;
    const name = changeFileName(replica.clientId, r.seq);
    const bytes = await transport.read(name);
    if (createHash("sha256").update(bytes).digest("hex") !== r.sha256) continue;
    await transport.unpublish(name);
    removed.push(name);
  }
  return removed;
}
