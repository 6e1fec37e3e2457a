// status(): what this client is, what it has published and what waits, per peer, from the database and
// the last pass's report.
import { getMetaNumber } from "../apply/library-tables.js";
import { q } from "../config/schema.js";
import type { Database } from "../db.js";
import type { CursorStore } from "./cursors.js";
import type { Replica } from "./replica.js";
import type { PeerReport, StreamProblem, SyncReport } from "./report.js";
import type { Settings } from "./settings.js";

/** A peer whose newest change is this far ahead of our clock gets a skew warning. */
export const SKEW_WARNING_MS = 5 * 60 * 1000;

export interface PeerStatus {
  readonly client: string;
  readonly seq: number;
  readonly appliedChanges: number;
  readonly lastAppliedAt: string | null;
  readonly newestChangeAt: string | null;
  readonly state: PeerReport["state"] | "unknown";
  /** Files checked and ready to apply (from an inspect() report). */
  readonly ready: number;
  /** Files of this peer in the folder not applied here yet (from the last report). */
  readonly behind: number;
  readonly waiting?: PeerReport["waiting"];
  readonly stopped?: PeerReport["stopped"];
  readonly clockSkewWarning?: string;
}

export interface SyncStatus {
  readonly clientId: string;
  readonly folder: string;
  readonly folderId: string;
  readonly exportCursor: number;
  readonly captureCursor: number;
  readonly publishedFiles: number;
  /** Local changes not yet published (captured or still in sync_log). */
  readonly pendingLocalChanges: number;
  readonly pendingRegisters: number;
  readonly conflicts: number;
  readonly peers: readonly PeerStatus[];
  readonly exportStopped?: StreamProblem;
  readonly watcher: "events" | "rescan-only";
  readonly watcherProblem?: string;
}

export function buildStatus(
  db: Database,
  settings: Settings,
  cursors: CursorStore,
  replica: Replica,
  last: SyncReport | undefined,
  watcherProblem: string | undefined,
  now: () => number,
): SyncStatus {
  const exportCursor = getMetaNumber(db, "export_cursor");
  const captureCursor = getMetaNumber(db, "capture_cursor");
  const captured = (
    db.prepare("SELECT count(*) AS n FROM sfs_captured WHERE change_id > ?").get(exportCursor) as {
      n: number;
    }
  ).n;
  const uncaptured = (
    db
      .prepare(`SELECT count(*) AS n FROM ${q(settings.config.syncLogTable)} WHERE change_id > ?`)
      .get(captureCursor) as {
      n: number;
    }
  ).n;
  const publishedFiles = (db.prepare("SELECT count(*) AS n FROM sfs_published").get() as { n: number }).n;
  const byClient = new Map((last?.peers ?? []).map((p) => [p.client, p]));
  const peers: PeerStatus[] = cursors.all().map((c) => {
    const r = byClient.get(c.client);
    byClient.delete(c.client);
    const newestMs = c.max_ts === null ? null : Math.floor(c.max_ts / 1000);
    const ahead = newestMs === null ? 0 : newestMs - now();
    return {
      client: c.client,
      seq: c.seq,
      appliedChanges: c.applied_changes,
      lastAppliedAt: c.last_applied_at,
      newestChangeAt: newestMs === null ? null : new Date(newestMs).toISOString(),
      state: r?.state ?? "unknown",
      ready: r?.ready ?? 0,
      behind: r ? Math.max(0, r.newest - c.seq) : 0,
      ...(r?.waiting ? { waiting: r.waiting } : {}),
      ...(r?.stopped ? { stopped: r.stopped } : {}),
      ...(ahead > SKEW_WARNING_MS
        ? {
            clockSkewWarning: `${c.client}'s newest change is ${Math.round(ahead / 60000)} min ahead of this machine's clock: one of the two clocks is wrong. Its edits win over later edits made here until they are edited again.`,
          }
        : {}),
    };
  });
  for (const r of byClient.values())
    peers.push({
      client: r.client,
      seq: r.seq,
      appliedChanges: 0,
      lastAppliedAt: null,
      newestChangeAt: null,
      state: r.state,
      ready: r.ready,
      behind: Math.max(0, r.newest - r.seq),
      ...(r.waiting ? { waiting: r.waiting } : {}),
      ...(r.stopped ? { stopped: r.stopped } : {}),
    });
  return {
    clientId: settings.clientId,
    folder: settings.folder,
    folderId: settings.folderId,
    exportCursor,
    captureCursor,
    publishedFiles,
    pendingLocalChanges: captured + uncaptured,
    pendingRegisters: replica.materializer.pendingCount(),
    conflicts: replica.conflicts.count(),
    peers,
    ...(last?.export.stopped ? { exportStopped: last.export.stopped } : {}),
    watcher: watcherProblem ? "rescan-only" : "events",
    ...(watcherProblem ? { watcherProblem } : {}),
  };
}
