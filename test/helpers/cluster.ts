// A cluster of in-memory replicas of the media preset, each with its own view of the shared folder
// (a MemoryTransport). The test decides which published files reach which replica and when: random order,
// duplicates, withheld files. Used by the convergence property tests and, with test/helpers/faults.ts, by
// the fault-injection soak (test/soak): a view may hold damaged copies (cut, corrupted, placeholders) that
// deliver() and settle() later replace with the published bytes, as a sync service eventually does.
import { expect } from "vitest";
import { keyOfLine } from "../../src/apply/apply-change.js";
import { compareKeys, type OrderKey } from "../../src/apply/order-key.js";
import { normalizePayload } from "../../src/apply/payload.js";
import type { ChangeLine, HeaderLine } from "../../src/changeset/format.js";
import { MEDIA_CONFIG, mediaConfig } from "../../src/config/media-preset.js";
import type { Database } from "../../src/db.js";
import { canonicalDump } from "../../src/sync/dump.js";
import type { SyncReport } from "../../src/sync/report.js";
import { SyncManager } from "../../src/sync/sync-manager.js";
import { MemoryTransport } from "../../src/transport/memory-transport.js";
import { parseChangeFileName } from "../../src/transport/names.js";
import type { SyncTransport } from "../../src/transport/transport.js";
import { createMediaDb, MediaApp } from "./media-app.js";

export interface Member {
  readonly id: string;
  readonly db: Database;
  readonly app: MediaApp;
  /** This replica's view of the shared folder (fault hooks: putRaw, remove, removeMarker, ...). */
  readonly transport: MemoryTransport;
  /** The transport the SyncManager uses: `transport`, or the wrapper ClusterOptions.wrapTransport made. */
  readonly view: SyncTransport;
  readonly sync: SyncManager;
  /** This machine's clock (the cluster's time plus its skew), as its SyncManager and app see it. */
  readonly now: () => number;
  /** sync_log rows this replica's app wrote (its local changes). */
  localChanges: number;
  /** Clock skew of this machine, in ms; may be changed at any time (a clock that jumps). */
  skewMs: number;
}

export interface ClusterOptions {
  /** Wraps each replica's MemoryTransport (e.g. a FaultyTransport from test/helpers/faults.ts). */
  readonly wrapTransport?: (transport: MemoryTransport, id: string) => SyncTransport;
  /** How long a read of a stuck file (MemoryTransport.setStuck) waits before failing. Default 30000. */
  readonly readTimeoutMs?: number;
  /** watch(): how often the folder is re-listed without events, in ms (SyncManager's default: 30000). */
  readonly rescanIntervalMs?: number;
}

/** What a pass did: its report, or what it threw (a missing marker, an injected transport failure). */
export interface PassOutcome {
  readonly report?: SyncReport;
  readonly error?: unknown;
}

export const CLUSTER_MARKER = { format: 1, id: "cluster-folder" } as const;
const MARKER = CLUSTER_MARKER;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

export class Cluster {
  /** Every file any replica published, by name: what the sync service will eventually deliver. */
  readonly cloud = new Map<string, Uint8Array>();
  time = Date.parse("2026-03-01T12:00:00.000Z");

  private constructor(readonly members: Member[]) {}

  static async create(
    ids: readonly string[],
    skews: readonly number[] = [],
    options: ClusterOptions = {},
  ): Promise<Cluster> {
    const members: Member[] = [];
    const cluster = new Cluster(members);
    for (const [i, id] of ids.entries()) {
      const db = createMediaDb();
      const transport = MemoryTransport.fromSnapshot(new Map(), {
        marker: MARKER,
        chunkSize: 4096,
        ...(options.readTimeoutMs === undefined ? {} : { readTimeoutMs: options.readTimeoutMs }),
      });
      const view = options.wrapTransport?.(transport, id) ?? transport;
      const skewMs = skews[i] ?? 0;
      // The member's skew is read at every call, so a test can move a clock mid-run.
      const now = () => cluster.time + (members[i]?.skewMs ?? skewMs);
      const app = new MediaApp(db, id, () => new Date(now()).toISOString());
      const sync = await SyncManager.init({
        database: db,
        transport: view,
        folder: `memory:${id}`,
        clientId: id,
        config: MEDIA_CONFIG,
        now,
        maxFileChanges: 7,
        ...(options.rescanIntervalMs === undefined ? {} : { rescanIntervalMs: options.rescanIntervalMs }),
      });
      members.push({ id, db, app, transport, view, sync, now, localChanges: 0, skewMs });
    }
    return cluster;
  }

  /** Runs an app write on member i and counts the sync_log rows it made (its local changes). */
  write(i: number, fn: (app: MediaApp) => unknown): void {
    const m = this.members[i]!;
    const before = m.app.syncLogCount();
    fn(m.app);
    m.localChanges += m.app.syncLogCount() - before;
  }

  /** One pass on member i that must succeed with no stopped stream (`during` runs while it is under way). */
  async sync(i: number, during?: () => void): Promise<void> {
    const { report, error } = await this.trySync(i, during);
    if (error !== undefined) throw error;
    expect(
      report!.failed,
      JSON.stringify([report!.peers.filter((p) => p.stopped), report!.export.stopped]),
    ).toBe(false);
  }

  /**
   * One pass on member i, whatever it finds: the report (stopped streams included) or the error it threw. What
   * member i published is collected into the cloud either way.
   */
  async trySync(i: number, during?: () => void): Promise<PassOutcome> {
    const m = this.members[i]!;
    try {
      const pass = m.sync.synchronize();
      during?.();
      return { report: await pass };
    } catch (error) {
      return { error };
    } finally {
      this.collect(i);
    }
  }

  /** Takes what member i's view holds under names the cloud does not know yet (what it published). */
  collect(i: number): void {
    for (const [name, bytes] of this.members[i]!.transport.snapshot())
      if (!this.cloud.has(name)) this.cloud.set(name, bytes);
  }

  /**
   * Files of the cloud member i lacks: absent, not a regular file (a placeholder), or held with other bytes (a
   * cut or corrupted copy, which the sync service replaces in the end).
   */
  undelivered(i: number): string[] {
    const have = this.members[i]!.transport.snapshot();
    return [...this.cloud.keys()].filter((n) => {
      const h = have.get(n);
      return h === undefined || !sameBytes(h, this.cloud.get(n)!);
    });
  }

  /** Delivers the files picked by `pick` (indices into the undelivered list, in that order) to member i. */
  deliver(i: number, picks: readonly number[]): void {
    const m = this.members[i]!;
    const missing = this.undelivered(i);
    for (const p of picks) {
      if (missing.length === 0) return;
      const [name] = missing.splice(p % missing.length, 1);
      m.transport.putRaw(name!, this.cloud.get(name!)!);
    }
  }

  /** Puts an already delivered file again (a duplicate delivery, a spurious watch event). */
  redeliver(i: number, pick: number): void {
    const m = this.members[i]!;
    const have = [...m.transport.snapshot().keys()].filter((n) => this.cloud.has(n));
    if (have.length === 0) return;
    const name = have[pick % have.length]!;
    m.transport.putRaw(name, this.cloud.get(name)!);
  }

  /** Delivers everything everywhere and syncs until nothing new is published. */
  async settle(): Promise<void> {
    for (let round = 0; round < 10; round++) {
      const before = this.cloud.size;
      for (let i = 0; i < this.members.length; i++) {
        this.deliver(
          i,
          Array.from({ length: this.cloud.size }, () => 0),
        );
        await this.sync(i);
      }
      if (this.cloud.size === before && round > 0) return;
    }
    throw new Error("the cluster did not settle in 10 rounds");
  }

  dumps(): unknown[] {
    return this.members.map((m) => canonicalDump(m.db, mediaConfig()));
  }

  /** All change lines in the cloud, with their files' headers. */
  allFiles(): Array<{ name: string; header: HeaderLine; changes: ChangeLine[] }> {
    const out = [];
    for (const [name, bytes] of this.cloud) {
      if (!parseChangeFileName(name)) continue;
      const lines = new TextDecoder()
        .decode(bytes)
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l));
      out.push({ name, header: lines[0] as HeaderLine, changes: lines.slice(1, -1) as ChangeLine[] });
    }
    return out;
  }

  /**
   * The registers every replica must hold: per register, the change with the greatest key over every
   * published line (so every local change either is the final state or lost to a greater key).
   */
  expectedRegisters(): unknown[] {
    return greatestRegisters(this.allFiles().flatMap((f) => f.changes));
  }

  /** Every local change reached exactly one published file of its replica, in order, with no gap. */
  checkNoLocalChangeLost(): void {
    const files = this.allFiles();
    for (const m of this.members) {
      const own = files.filter((f) => f.header.client === m.id).sort((a, b) => a.header.seq - b.header.seq);
      expect(own.map((f) => f.header.seq)).toEqual(own.map((_, i) => i + 1));
      const lines = own.reduce((n, f) => n + f.changes.length, 0);
      expect(lines, `${m.id}: published change lines vs local changes`).toBe(m.localChanges);
      for (let i = 1; i < own.length; i++)
        expect(own[i]!.header.changes[0]).toBeGreaterThan(own[i - 1]!.header.changes[1]);
      const captured = (m.db.prepare("SELECT count(*) AS n FROM sfs_captured").get() as { n: number }).n;
      expect(captured).toBe(m.localChanges);
    }
  }

  async close(): Promise<void> {
    for (const m of this.members) {
      await m.sync.close();
      m.db.close();
    }
  }
}

/**
 * The registers every replica must hold after applying these change lines: per register, the line with the
 * greatest key, its payload normalized as the engine stores it; sorted like canonicalDump's registers.
 */
export function greatestRegisters(lines: Iterable<ChangeLine>): unknown[] {
  const config = mediaConfig();
  const best = new Map<string, { key: OrderKey; line: ChangeLine }>();
  for (const c of lines) {
    const id = `${c.entity}\u0000${c.uuid}`;
    const key = keyOfLine(config, c);
    const cur = best.get(id);
    if (!cur || compareKeys(key, cur.key) > 0) best.set(id, { key, line: c });
  }
  return [...best.values()]
    .map(({ key, line }) => ({
      entity: line.entity,
      uuid: line.uuid,
      ts: key.ts,
      version: key.version,
      flag: key.flag,
      client: key.client,
      payload: JSON.stringify(
        normalizePayload(config.entities.get(line.entity)!, line.payload, {
          ts: line.ts,
          version: key.version,
          client: key.client,
          flag: key.flag,
        }),
      ),
    }))
    .sort((a, b) =>
      a.entity < b.entity ? -1 : a.entity > b.entity ? 1 : a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0,
    );
}
