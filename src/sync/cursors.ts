// Per-peer cursors: last applied seq and its file hash, plus the byte offset into the file being applied
// when a large file is applied in batches. Advanced only inside apply transactions.
import type { Database, Statement } from "../db.js";

export interface PeerCursor {
  readonly client: string;
  readonly seq: number;
  readonly hash: string | null;
  readonly partialOffset: number;
  readonly partialHash: string | null;
}

export class CursorStore {
  private readonly getStmt: Statement;
  private readonly putStmt: Statement;

  constructor(private readonly db: Database) {
    this.getStmt = db.prepare(
      "SELECT client, seq, hash, partial_offset, partial_hash FROM sfs_peers WHERE client = ?",
    );
    this.putStmt = db.prepare(
      `INSERT INTO sfs_peers (client, seq, hash, partial_offset, partial_hash, applied_changes, last_applied_at, max_ts)
       VALUES (@client, @seq, @hash, @off, @ph, @n, @at, @maxTs)
       ON CONFLICT(client) DO UPDATE SET seq = @seq, hash = @hash, partial_offset = @off, partial_hash = @ph,
         applied_changes = applied_changes + @n, last_applied_at = @at,
         max_ts = max(coalesce(max_ts, @maxTs), coalesce(@maxTs, max_ts))`,
    );
  }

  /** Records the hash of a peer's file applied in full (in the apply transaction). */
  recordFile(client: string, seq: number, sha256: string): void {
    this.db
      .prepare("INSERT OR REPLACE INTO sfs_peer_files (client, seq, sha256) VALUES (?, ?, ?)")
      .run(client, seq, sha256);
  }

  appliedHash(client: string, seq: number): string | undefined {
    const r = this.db
      .prepare("SELECT sha256 FROM sfs_peer_files WHERE client = ? AND seq = ?")
      .get(client, seq) as { sha256: string } | undefined;
    return r?.sha256;
  }

  /** Goes back to re-apply a peer from file `seq + 1` (its later files were replaced in the folder). */
  rewind(client: string, seq: number, hash: string | null): void {
    this.db.prepare("DELETE FROM sfs_peer_files WHERE client = ? AND seq > ?").run(client, seq);
    this.db
      .prepare(
        "UPDATE sfs_peers SET seq = ?, hash = ?, partial_offset = 0, partial_hash = NULL WHERE client = ?",
      )
      .run(seq, hash, client);
  }

  get(client: string): PeerCursor {
    const r = this.getStmt.get(client) as
      | {
          client: string;
          seq: number;
          hash: string | null;
          partial_offset: number;
          partial_hash: string | null;
        }
      | undefined;
    if (!r) return { client, seq: 0, hash: null, partialOffset: 0, partialHash: null };
    return { client, seq: r.seq, hash: r.hash, partialOffset: r.partial_offset, partialHash: r.partial_hash };
  }

  put(cursor: PeerCursor, appliedChanges: number, at: string, maxTs: number | null): void {
    this.putStmt.run({
      client: cursor.client,
      seq: cursor.seq,
      hash: cursor.hash,
      off: cursor.partialOffset,
      ph: cursor.partialHash,
      n: appliedChanges,
      at,
      maxTs,
    });
  }

  all(): Array<{
    client: string;
    seq: number;
    applied_changes: number;
    last_applied_at: string | null;
    max_ts: number | null;
  }> {
    return this.db
      .prepare("SELECT client, seq, applied_changes, last_applied_at, max_ts FROM sfs_peers ORDER BY client")
      .all() as Array<{
      client: string;
      seq: number;
      applied_changes: number;
      last_applied_at: string | null;
      max_ts: number | null;
    }>;
  }
}
