// Export (DESIGN section 6): capture, check our own files in the folder against the table of published
// files (republish a lost or cut-short one byte-identical; stop on one we never wrote), then publish the
// captured changes after the export cursor in new files. The publish intent is committed before the rename,
// so a crash between rename and commit fast-forwards instead of duplicating or leaving a gap.
import { getMetaNumber, setMeta } from "../apply/library-tables.js";
import { scanChangeset } from "../changeset/decode.js";
import { encodeChangeset } from "../changeset/encode.js";
import { type ChangeLine, MAX_FILE_BYTES, MAX_FILE_CHANGES } from "../changeset/format.js";
import { sha256Hex } from "../changeset/hash.js";
import { changeFileName } from "../transport/names.js";
import type { ChangeFileEntry, Listing, SyncTransport } from "../transport/transport.js";
import type { Replica } from "./replica.js";
import type { ExportReport, StreamProblem } from "./report.js";

interface PublishedRow {
  seq: number;
  first_change: number;
  last_change: number;
  created: string;
  prev: string | null;
  size: number;
  sha256: string;
  state: "intended" | "published";
  mtime_ms: number | null;
}

const COPIED_ACTION =
  "Another database writes under this client id (a copied database or a restored backup). On one of the copies, run `folder-sync init --db FILE --folder DIR --client-id NEW --force` to give it a new id; its unpublished changes are then exported under the new id. See `folder-sync doctor`.";

export interface ExportContext {
  readonly replica: Replica;
  readonly transport: SyncTransport;
  readonly warnings: string[];
  readonly maxFileChanges?: number;
  readonly maxFileBytes?: number;
  /** Only check our own files (status, doctor): `republished` then lists the files that need it. */
  readonly dryRun?: boolean;
}

export async function exportPass(ctx: ExportContext, listing: Listing): Promise<ExportReport> {
  const { replica, transport } = ctx;
  const db = replica.db;
  const me = replica.clientId;
  const capture = ctx.dryRun ? { captured: 0, warnings: [] } : replica.captureNow();
  ctx.warnings.push(...capture.warnings);
  const republished: string[] = [];
  const fastForwarded: string[] = [];
  const files: string[] = [];
  let exportedChanges = 0;
  const base = { captured: capture.captured, exportedChanges, files, republished, fastForwarded };

  const own = new Map<number, ChangeFileEntry>();
  for (const f of listing.files) if (f.client === me) own.set(f.seq, f);
  const published = db.prepare("SELECT * FROM sfs_published ORDER BY seq").all() as PublishedRow[];
  const stop = (seq: number, message: string): ExportReport => {
    const p: StreamProblem = {
      file: `changes/${changeFileName(me, seq)}`,
      code: "COPIED_DATABASE",
      message,
      action: COPIED_ACTION,
    };
    return { ...base, stopped: p };
  };

  const encodeRecorded = (rec: PublishedRow) => {
    const lines = (
      db
        .prepare("SELECT line FROM sfs_captured WHERE change_id BETWEEN ? AND ? ORDER BY change_id")
        .all(rec.first_change, rec.last_change) as Array<{ line: string }>
    ).map((r) => JSON.parse(r.line) as ChangeLine);
    return encodeChangeset(
      {
        client: me,
        seq: rec.seq,
        prev: rec.prev,
        changes: [rec.first_change, rec.last_change],
        created: rec.created,
      },
      lines,
    );
  };
  const markPublished = (rec: PublishedRow, entryMtime: number | null) => {
    replica.transaction(() => {
      db.prepare("UPDATE sfs_published SET state = 'published', mtime_ms = ? WHERE seq = ?").run(
        entryMtime,
        rec.seq,
      );
      // Only a file this database was publishing moves the cursor (an adopted file's range is another
      // database's change ids).
      if (rec.state === "intended" && rec.last_change > getMetaNumber(db, "export_cursor"))
        setMeta(db, "export_cursor", rec.last_change);
    });
  };

  // 1. Our own files in the folder against what we recorded.
  for (const rec of published) {
    const name = changeFileName(me, rec.seq);
    const entry = own.get(rec.seq);
    if (
      entry?.regular &&
      entry.size === rec.size &&
      entry.mtimeMs === rec.mtime_ms &&
      rec.state === "published"
    )
      continue;
    if (entry?.regular) {
      const bytes = await transport.read(name);
      const hash = sha256Hex(bytes);
      if (hash === rec.sha256) {
        if (rec.state === "intended") fastForwarded.push(name);
        if (!ctx.dryRun) markPublished(rec, entry.mtimeMs);
        continue;
      }
      const expected = encodeRecorded(rec).bytes;
      const cutShort =
        bytes.length < expected.length && Buffer.from(expected.subarray(0, bytes.length)).equals(bytes);
      // A copy that is not a valid file at all (a flipped byte, a cut) is damage, not another database's
      // work: our bytes replace it. Only a valid file we did not write means a copied database.
      const damaged = !(await scanChangeset(bytes, { client: me, seq: rec.seq })).ok;
      if (!cutShort && !damaged)
        return stop(
          rec.seq,
          `changes/${name} in the folder is not the file this database published as ${me} #${rec.seq} (sha256 ${hash}, expected ${rec.sha256})`,
        );
    }
    // Missing, not a regular file, or cut short: republish the same bytes, since peers wait on it forever.
    if (ctx.dryRun) {
      republished.push(name);
      continue;
    }
    const { bytes, sha256: hash } = encodeRecorded(rec);
    if (hash !== rec.sha256) {
      ctx.warnings.push(
        `cannot rebuild changes/${name} byte-identical (sha256 ${hash}, recorded ${rec.sha256})`,
      );
      continue;
    }
    await transport.publish(name, bytes);
    republished.push(name);
    markPublished(rec, null);
  }
  const lastRec = published.at(-1);
  let nextSeq = (lastRec?.seq ?? 0) + 1;
  let prev = lastRec?.sha256 ?? null;
  for (const seq of own.keys())
    if (seq >= nextSeq)
      return stop(
        seq,
        `changes/${changeFileName(me, seq)} is in the folder under this client id, but this database never wrote it`,
      );

  if (ctx.dryRun) return base;
  // 2. New captured changes.
  const maxChanges = ctx.maxFileChanges ?? MAX_FILE_CHANGES;
  const maxBytes = ctx.maxFileBytes ?? MAX_FILE_BYTES;
  const pending = db.prepare(
    "SELECT change_id, line FROM sfs_captured WHERE change_id > ? ORDER BY change_id LIMIT ?",
  );
  for (;;) {
    const cursor = getMetaNumber(db, "export_cursor");
    const rows = pending.all(cursor, maxChanges) as Array<{ change_id: number; line: string }>;
    if (rows.length === 0) break;
    let size = 0;
    let take = 0;
    for (const r of rows) {
      const n = Buffer.byteLength(r.line) + 1;
      if (take > 0 && size + n > maxBytes) break;
      size += n;
      take++;
    }
    const chunk = rows.slice(0, take);
    const first = chunk[0]!.change_id;
    const last = chunk.at(-1)!.change_id;
    const created = new Date(replica.now()).toISOString();
    const encoded = encodeChangeset(
      { client: me, seq: nextSeq, prev, changes: [first, last], created },
      chunk.map((r) => JSON.parse(r.line) as ChangeLine),
    );
    const rec: PublishedRow = {
      seq: nextSeq,
      first_change: first,
      last_change: last,
      created,
      prev,
      size: encoded.bytes.length,
      sha256: encoded.sha256,
      state: "intended",
      mtime_ms: null,
    };
    replica.transaction(() => {
      db.prepare(
        `INSERT INTO sfs_published (seq, first_change, last_change, created, prev, size, sha256, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'intended')`,
      ).run(rec.seq, first, last, created, prev, rec.size, rec.sha256);
    });
    const name = changeFileName(me, nextSeq);
    await transport.publish(name, encoded.bytes);
    markPublished(rec, null);
    files.push(name);
    exportedChanges += chunk.length;
    prev = encoded.sha256;
    nextSeq++;
  }
  return { ...base, exportedChanges, files };
}
