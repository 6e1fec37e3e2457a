// SyncManager: one pass (ingest then export), the watch loop, status and close, over one database and one
// transport. Only one pass runs at a time per database (in-process mutex plus a cross-process lock).

import { EventEmitter } from "node:events";
import type { ConflictRecord } from "../apply/conflicts.js";
import { getMetaNumber } from "../apply/library-tables.js";
import { createHybridClock, type HybridClock } from "../capture/clock.js";
import { q } from "../config/schema.js";
import type { Database } from "../db.js";
import { FolderTransport } from "../transport/folder-transport.js";
import { isOwnTempFile } from "../transport/names.js";
import type { ChangeFileEntry, SyncTransport, Unsubscribe } from "../transport/transport.js";
import { CursorStore } from "./cursors.js";
import { SyncError, TransportError } from "./errors.js";
import { exportPass } from "./export.js";
import { ingestPeer } from "./ingest.js";
import { setUpDatabase } from "./init.js";
import { type DatabaseLock, lockDatabase, Mutex } from "./lock.js";
import { type InitOptions, type OpenOptions, openDatabase } from "./options.js";
import { Replica } from "./replica.js";
import type { PeerReport, StreamProblem, SyncReport, WaitReason } from "./report.js";
import { readSettings, type Settings } from "./settings.js";

export type { InitOptions, OpenOptions } from "./options.js";

import { buildStatus, type SyncStatus } from "./status.js";

export interface SyncEvents {
  applied: [{ client: string; seq: number; changes: number }];
  exported: [{ files: readonly string[]; changes: number }];
  conflict: [{ count: number }];
  waiting: [{ client: string; seq: number; reason: WaitReason; detail: string; action: string }];
  /** A batch of a file was applied (a large file is applied in several). */
  progress: [{ client: string; seq: number; changes: number }];
  stopped: [{ client: string; problem: StreamProblem }];
  paused: [{ reason: string }];
  resumed: [];
  pass: [SyncReport];
  error: [Error];
}

/**
 * Sync one database through a shared folder.
 * @example
 * const sync = await SyncManager.open({ database: "media.db" });
 * const report = await sync.synchronize();
 * console.log(report.applied, report.export.exportedChanges);
 * await sync.close();
 */
export class SyncManager extends EventEmitter<SyncEvents> {
  readonly clock: HybridClock;
  private readonly mutex = new Mutex();
  private readonly cursors: CursorStore;
  private lastReport: SyncReport | undefined;
  private closed = false;
  private watching: { stop: () => Promise<void> } | undefined;
  private watcherFailed: string | undefined;

  private constructor(
    readonly db: Database,
    readonly settings: Settings,
    readonly transport: SyncTransport,
    private readonly replica: Replica,
    private readonly options: OpenOptions,
    private readonly ownsDb: boolean,
    private readonly lock: DatabaseLock | undefined,
  ) {
    super();
    this.cursors = new CursorStore(db);
    const maxTs = (db.prepare("SELECT max(ts) AS m FROM sfs_registers").get() as { m: number | null }).m;
    this.clock = createHybridClock(options.now ?? Date.now, maxTs === null ? 0 : Math.floor(maxTs / 1000));
  }

  get clientId(): string {
    return this.settings.clientId;
  }

  /** Opens a database that `init` has set up. */
  static async open(options: OpenOptions): Promise<SyncManager> {
    const { db, path, owned } = openDatabase(options.database);
    let lock: DatabaseLock | undefined;
    try {
      const settings = readSettings(db, path ?? "the database");
      if (path) lock = await lockDatabase(path);
      const transport =
        options.transport ??
        new FolderTransport(settings.folder, { usePolling: options.usePolling ?? false });
      const replica = new Replica(
        db,
        settings.config,
        settings.clientId,
        options.now ?? Date.now,
        options.resolver,
      );
      return new SyncManager(db, settings, transport, replica, options, owned, lock);
    } catch (error) {
      await lock?.release();
      if (owned) db.close();
      throw error;
    }
  }

  /** Sets a database up for sync (DESIGN section 2) and opens it. */
  static async init(options: InitOptions): Promise<SyncManager> {
    await setUpDatabase(options);
    return SyncManager.open(options);
  }

  /** One pass: ingest every peer's files that can be applied, then export local changes. */
  synchronize(): Promise<SyncReport> {
    return this.mutex.run(() => this.pass(false));
  }

  /**
   * Checks the folder as a pass would, without applying, capturing or publishing anything: which peers' files
   * are ready, which wait and why, which streams are stopped, and whether our own files are intact.
   */
  inspect(): Promise<SyncReport> {
    return this.mutex.run(() => this.pass(true));
  }

  private async pass(dryRun: boolean): Promise<SyncReport> {
    if (this.closed) throw new SyncError("CLOSED", "This SyncManager is closed.");
    await this.checkMarker();
    let listing = await this.transport.list();
    // Under the lock no publish of ours is under way: any temp file of ours is left from an interrupted one
    // (a crash, a pulled stick).
    if (!dryRun && listing.junk.some((j) => isOwnTempFile(j.name, this.clientId))) {
      await this.transport.removeOwnTempFiles(this.clientId);
      listing = await this.transport.list();
    }
    const byPeer = new Map<string, Map<number, ChangeFileEntry>>();
    for (const f of listing.files) {
      if (f.client === this.clientId) continue;
      const m = byPeer.get(f.client) ?? new Map<number, ChangeFileEntry>();
      byPeer.set(f.client, m);
      m.set(f.seq, f);
    }
    const warnings: string[] = [];
    const conflictsBefore = this.replica.conflicts.count();
    const peers: PeerReport[] = [];
    const ctx = {
      replica: this.replica,
      transport: this.transport,
      cursors: this.cursors,
      warnings,
      dryRun,
      onApplied: (client: string, seq: number, changes: number) =>
        this.emit("applied", { client, seq, changes }),
      onBatch: (client: string, seq: number, changes: number) =>
        this.emit("progress", { client, seq, changes }),
      ...(this.options.wholeFileLimit !== undefined ? { wholeFileLimit: this.options.wholeFileLimit } : {}),
      ...(this.options.batchSize !== undefined ? { batchSize: this.options.batchSize } : {}),
    };
    for (const client of [...byPeer.keys()].sort()) {
      const r = await ingestPeer(ctx, client, byPeer.get(client)!);
      peers.push(r);
      if (dryRun) continue;
      if (r.waiting) this.emit("waiting", { client, ...r.waiting });
      if (r.stopped) this.emit("stopped", { client, problem: r.stopped });
    }
    const exp = await exportPass(
      {
        replica: this.replica,
        transport: this.transport,
        warnings,
        dryRun,
        ...(this.options.maxFileChanges ? { maxFileChanges: this.options.maxFileChanges } : {}),
        ...(this.options.maxFileBytes ? { maxFileBytes: this.options.maxFileBytes } : {}),
      },
      listing,
    );
    if (exp.files.length > 0) this.emit("exported", { files: exp.files, changes: exp.exportedChanges });
    if (exp.stopped && !dryRun) this.emit("stopped", { client: this.clientId, problem: exp.stopped });
    const conflicts = this.replica.conflicts.count() - conflictsBefore;
    if (conflicts > 0) this.emit("conflict", { count: conflicts });
    const report: SyncReport = {
      peers,
      applied: peers.reduce((n, p) => n + p.appliedChanges, 0),
      conflicts,
      export: exp,
      junk: listing.junk,
      warnings,
      pending: this.replica.materializer.pendingCount(),
      failed: peers.some((p) => p.state === "stopped") || exp.stopped !== undefined,
    };
    if (dryRun) return report;
    const maxTs = (this.db.prepare("SELECT max(ts) AS m FROM sfs_registers").get() as { m: number | null }).m;
    if (maxTs !== null) this.clock.observe(Math.floor(maxTs / 1000));
    this.lastReport = report;
    this.emit("pass", report);
    return report;
  }

  private async checkMarker(): Promise<void> {
    let marker: Awaited<ReturnType<SyncTransport["readMarker"]>>;
    try {
      marker = await this.transport.readMarker();
    } catch (error) {
      // A dead mount (a stick yanked before the system noticed) cannot be read at all: treat it as absent.
      if ((error as SyncError).code !== "TRANSPORT_FAILED") throw error;
      throw new TransportError(
        "FOLDER_MARKER_MISSING",
        `${this.transport.location} cannot be read (${(error as Error).message}): the drive or share is gone. Nothing was read or written.`,
        { cause: error },
      );
    }
    if (!marker)
      throw new TransportError(
        "FOLDER_MARKER_MISSING",
        `${this.transport.location} has no folder-sync.json: the folder is not there (an unmounted stick, a share that is down, a cloud folder not synced yet) or it is the wrong folder. Nothing was read or written.`,
      );
    if (marker.id !== this.settings.folderId)
      throw new TransportError(
        "FOLDER_MARKER_MISMATCH",
        `${this.transport.location} is sync folder ${marker.id}, but this database syncs with folder ${this.settings.folderId}. Nothing was read or written; check the path.`,
      );
  }

  /**
   * Watches the folder and the database until close(): peers' files are ingested as they appear (watch
   * events plus a periodic rescan), local changes exported soon after they are made.
   */
  async watch(): Promise<void> {
    if (this.watching) return;
    let timer: NodeJS.Timeout | undefined;
    let running = false;
    let again = false;
    let paused = false;
    const run = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          try {
            await this.synchronize();
            if (paused) {
              paused = false;
              this.emit("resumed");
            }
          } catch (error) {
            const e = error as SyncError;
            if (e.code === "FOLDER_MARKER_MISSING" || e.code === "FOLDER_MARKER_MISMATCH") {
              if (!paused) this.emit("paused", { reason: e.message });
              paused = true;
            } else if (e.code !== "CLOSED") this.emit("error", e);
          }
        } while (again && !this.closed);
      } finally {
        running = false;
      }
    };
    const schedule = (delay = 50) => {
      if (this.closed || timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        void run();
      }, delay);
    };
    let unwatch: Unsubscribe | undefined;
    try {
      unwatch = await this.transport.watch({
        onChange: () => schedule(),
        onError: (error) => {
          this.watcherFailed = error.message;
          this.emit(
            "error",
            new TransportError(
              "TRANSPORT_FAILED",
              `Folder watcher failed (${error.message}); falling back to the periodic rescan.`,
              { cause: error },
            ),
          );
        },
      });
    } catch (error) {
      this.watcherFailed = (error as Error).message;
    }
    const rescan = setInterval(() => schedule(0), this.options.rescanIntervalMs ?? 30_000);
    let dataVersion = this.db.pragma("data_version", { simple: true });
    const local = setInterval(() => {
      if (this.closed) return;
      const v = this.db.pragma("data_version", { simple: true });
      if (v !== dataVersion) {
        dataVersion = v;
        const max =
          (
            this.db
              .prepare(`SELECT max(change_id) AS m FROM ${q(this.settings.config.syncLogTable)}`)
              .get() as { m: number | null }
          ).m ?? 0;
        if (max > getMetaNumber(this.db, "capture_cursor")) schedule(100);
      }
    }, this.options.localPollMs ?? 500);
    this.watching = {
      stop: async () => {
        clearInterval(rescan);
        clearInterval(local);
        if (timer) clearTimeout(timer);
        await unwatch?.();
        await this.mutex.run(async () => undefined);
      },
    };
    schedule(0);
  }

  /** This client's state; per peer what the last pass (or the given inspect() report) found. */
  async status(report?: SyncReport): Promise<SyncStatus> {
    return this.mutex.run(async () =>
      buildStatus(
        this.db,
        this.settings,
        this.cursors,
        this.replica,
        report ?? this.lastReport,
        this.watcherFailed,
        this.options.now ?? Date.now,
      ),
    );
  }

  conflicts(limit?: number): ConflictRecord[] {
    return this.replica.conflicts.list(limit);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.watching?.stop();
    this.watching = undefined;
    await this.mutex.run(async () => {
      this.closed = true;
    });
    if (this.ownsDb) this.db.close();
    await this.lock?.release();
  }
}

export function createSync(options: OpenOptions): Promise<SyncManager> {
  return SyncManager.open(options);
}
