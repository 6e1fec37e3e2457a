// The convergence soak (the project's issue "Hostile folders"): random schedules of the convergence property
// test's scenario (test/helpers/scenario.ts) over 3 to 5 in-memory replicas, with the faults of
// test/helpers/faults.ts mixed in:
//   cut deliveries that later complete, corrupted copies the sync service later replaces with the right bytes,
//   duplicate and reordered deliveries, sneakernet subsets (some copies interrupted), junk names holding valid,
//   forged or cut content, clocks that jump, placeholders (not regular files) that later download and reads that
//   hang until their timeout, evicted files, a folder marker removed (or another folder's) for a while, publishes
//   that fail before or after the rename, reads that fail, and now and then a watch() episode (the marker removed
//   mid-watch; a watcher failing with EMFILE/ENOSPC) and a cloned database (a copy writing as the same client id:
//   two different files under one valid name, detected as chain-broken by a peer that applied the copy's file and
//   as COPIED_DATABASE by the original and the copy, then recovered the documented way: the copy takes a new
//   client id).
// Every pass's outcome must be explained by an injected fault (a stopped stream by a damaged copy, an error by a
// missing marker or an injected failure); anything else is an anomaly. At the end every fault is healed, every
// file delivered everywhere, and the replicas (the recovered copy included) must hold equal canonical dumps whose
// registers are the greatest key over all published files, with no local change lost.
// Used by scripts/soak.ts (`npm run soak`, 10,000 schedules) and test/soak/soak.test.ts (CI, a few hundred).
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { mediaConfig } from "../../src/config/media-preset.js";
import { canonicalDump } from "../../src/sync/dump.js";
import type { SyncReport } from "../../src/sync/report.js";
import { SyncManager } from "../../src/sync/sync-manager.js";
import type { MemoryTransport } from "../../src/transport/memory-transport.js";
import { changeFileName, parseChangeFileName } from "../../src/transport/names.js";
import { Cluster, type PassOutcome } from "../helpers/cluster.js";
import {
  deliverCut,
  deliverFlipped,
  deliverPlaceholder,
  dropJunk,
  FaultyTransport,
  type Fork,
  forgeVariant,
  forkMember,
  giveNewClientId,
  type Rng,
  randomCut,
  randomFlips,
  rng,
  skewClock,
  sneakernet,
  unplug,
} from "../helpers/faults.js";
import {
  type Action,
  actionArb,
  commonStart,
  resetUniverse,
  runAction,
  tryWrite,
} from "../helpers/scenario.js";

export const SOAK_IDS = ["c1", "c2", "c3", "c4", "c5"] as const;

export interface SoakOptions {
  readonly schedules: number;
  /** Schedule i runs with seed (seed + i) >>> 0; `SOAK_SEED=<that> ... 1` replays it alone. */
  readonly seed: number;
  /** Chance of a fault before each scenario action. Default 0.3. */
  readonly faultRate?: number;
  /** Chance per schedule of a watch() episode (real timers, ~0.1 s). Default 0.1. */
  readonly watchRate?: number;
  /** Chance per schedule of a cloned database. Default 0.15. */
  readonly cloneRate?: number;
  /** Progress and findings, one line each. */
  readonly log?: (line: string) => void;
  /** Print a progress line every N schedules (0: never). */
  readonly progressEvery?: number;
  /** Print every step of every schedule (for replaying one seed). */
  readonly trace?: boolean;
}

export interface Finding {
  readonly seed: number;
  readonly message: string;
}

export interface CloneFigures {
  cloned: number;
  /** A peer that applied the copy's file stopped its stream (chain-broken) on the original's next file. */
  detectedByPeer: number;
  /** The original, finding the copy's file under its own name, stopped its export (COPIED_DATABASE). */
  detectedByOriginal: number;
  /** The copy, finding the original's file under its own name, stopped its export (COPIED_DATABASE). */
  detectedByCopy: number;
  /** The copy took a new client id (init --force) and converged with everyone by the end. */
  recovered: number;
  /** The peer that applied the copy's file resumed after the recovery (its stream is no longer stopped). */
  peerResumed: number;
  /** ... or stayed stopped on the broken chain (no way out for it: see the report). */
  peerStuck: number;
  /** Clone steps skipped because the original had unpublished changes or could not sync. */
  skipped: number;
}

export interface ScheduleResult {
  readonly seed: number;
  readonly replicas: number;
  readonly steps: number;
  readonly faults: ReadonlyMap<string, number>;
  readonly divergences: readonly string[];
  readonly losses: readonly string[];
  readonly anomalies: readonly string[];
  readonly clone: Readonly<CloneFigures>;
}

export interface SoakSummary {
  readonly seed: number;
  readonly schedules: number;
  readonly faults: Readonly<Record<string, number>>;
  readonly faultsTotal: number;
  readonly divergences: readonly Finding[];
  readonly losses: readonly Finding[];
  readonly anomalies: readonly Finding[];
  readonly clone: Readonly<CloneFigures>;
  readonly wallMs: number;
}

const newCloneFigures = (): CloneFigures => ({
  cloned: 0,
  detectedByPeer: 0,
  detectedByOriginal: 0,
  detectedByCopy: 0,
  recovered: 0,
  peerResumed: 0,
  peerStuck: 0,
  skipped: 0,
});

type FaultStep =
  | "cut"
  | "corrupt"
  | "sneakernet"
  | "junk"
  | "skew"
  | "placeholder"
  | "stuck"
  | "evict"
  | "marker"
  | "interrupt"
  | "duplicate-during-pass"
  | "heal";

const FAULT_WEIGHTS: ReadonlyArray<readonly [FaultStep, number]> = [
  ["cut", 3],
  ["corrupt", 3],
  ["sneakernet", 2],
  ["junk", 2],
  ["skew", 1],
  ["placeholder", 2],
  ["stuck", 1],
  ["evict", 1],
  ["marker", 1],
  ["interrupt", 2],
  ["duplicate-during-pass", 1],
  ["heal", 3],
];

type Step =
  | { readonly kind: "action"; readonly action: Action }
  | { readonly kind: "fault"; readonly fault: FaultStep }
  | { readonly kind: "watch"; readonly variant: "marker" | "watcher" }
  | { readonly kind: "clone" };

const SKEWS = [-7 * 86_400_000, -3_600_000, -1500, 0, 0, 2000, 3_600_000, 86_400_000];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function weighted<T>(r: Rng, table: ReadonlyArray<readonly [T, number]>): T {
  const total = table.reduce((n, [, w]) => n + w, 0);
  let x = r.next() * total;
  for (const [v, w] of table) {
    x -= w;
    if (x < 0) return v;
  }
  return table.at(-1)![0];
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && Buffer.from(a).equals(Buffer.from(b));
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "UNKNOWN";
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Where two JSON-like values first differ, briefly. */
export function firstDifference(a: unknown, b: unknown, at = ""): string | undefined {
  if (isDeepStrictEqual(a, b)) return undefined;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${at}[${i}]`);
      if (d) return d;
    }
  } else if (a && b && typeof a === "object" && typeof b === "object") {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const d = firstDifference(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        `${at}.${k}`,
      );
      if (d) return d;
    }
  }
  const show = (v: unknown) => {
    const s = JSON.stringify(v) ?? String(v);
    return s.length > 300 ? `${s.slice(0, 300)}...` : s;
  };
  return `${at || "(root)"}: ${show(a)} vs ${show(b)}`;
}

/** Resolves on the next `event` after the call (or rejects after `ms`). */
function eventWaiter(sync: SyncManager) {
  const counts = new Map<string, number>();
  const errors: Error[] = [];
  const waiters: Array<{ event: string; target: number; resolve: () => void }> = [];
  const bump = (event: string) => {
    const n = (counts.get(event) ?? 0) + 1;
    counts.set(event, n);
    for (let i = waiters.length - 1; i >= 0; i--)
      if (waiters[i]!.event === event && n >= waiters[i]!.target) waiters.splice(i, 1)[0]!.resolve();
  };
  sync.on("pass", () => bump("pass"));
  sync.on("paused", () => bump("paused"));
  sync.on("resumed", () => bump("resumed"));
  sync.on("error", (e) => {
    errors.push(e);
    bump("error");
  });
  return {
    errors,
    count: (event: string) => counts.get(event) ?? 0,
    /** Waits until `event` has fired `n` more times than it had when `since` was taken. */
    async after(event: string, since: number, n = 1, ms = 5000): Promise<boolean> {
      if ((counts.get(event) ?? 0) >= since + n) return true;
      let timer: NodeJS.Timeout | undefined;
      const ok = await Promise.race([
        new Promise<boolean>((resolve) =>
          waiters.push({ event, target: since + n, resolve: () => resolve(true) }),
        ),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), ms);
        }),
      ]);
      clearTimeout(timer);
      return ok;
    },
  };
}

/** One schedule: a random scenario with faults, then heal, settle, compare. */
class Schedule {
  readonly r: Rng;
  readonly faults = new Map<string, number>();
  readonly divergences: string[] = [];
  readonly losses: string[] = [];
  readonly anomalies: string[] = [];
  readonly clone = newCloneFigures();
  readonly seq = { n: 0 };
  cluster!: Cluster;
  faulty: FaultyTransport[] = [];
  /** Members whose marker is removed (or wrong), with the function that puts it back. */
  readonly markerOff = new Map<number, () => void>();
  /** Names whose reads hang, per member. */
  readonly stuck = new Map<number, Set<string>>();
  /** The copied database after it took a new client id. */
  copy: { fork: Fork; newId: string; original: number } | undefined;
  step = "start";

  constructor(
    readonly seed: number,
    readonly options: SoakOptions,
  ) {
    this.r = rng(seed);
  }

  count(kind: string, n = 1): void {
    this.faults.set(kind, (this.faults.get(kind) ?? 0) + n);
  }

  trace(line: string): void {
    if (this.options.trace) this.options.log?.(`  [${this.seed}] ${line}`);
  }

  anomaly(message: string): void {
    this.anomalies.push(`${this.step}: ${message}`);
  }

  get members() {
    return this.cluster.members;
  }

  /** Valid changeset names of the cloud. */
  cloudNames(): string[] {
    return [...this.cluster.cloud.keys()].filter((n) => parseChangeFileName(n) !== undefined);
  }

  /** Cloud files member i lacks or holds damaged. */
  missing(i: number): string[] {
    return this.cluster.undelivered(i).filter((n) => parseChangeFileName(n) !== undefined);
  }

  /** Valid names member i's view holds as regular files. */
  present(i: number): string[] {
    return [...this.members[i]!.transport.snapshot().keys()].filter(
      (n) => parseChangeFileName(n) !== undefined,
    );
  }

  /** Names member i holds with bytes other than the published ones (cut, corrupted). */
  damaged(i: number): Set<string> {
    const out = new Set<string>();
    for (const [name, bytes] of this.members[i]!.transport.snapshot()) {
      const good = this.cluster.cloud.get(name);
      if (good !== undefined && parseChangeFileName(name) && !sameBytes(bytes, good)) out.add(name);
    }
    return out;
  }

  /** What the library wrote in member i's database and folder (to check a pass with no marker wrote nothing). */
  fingerprint(i: number): string {
    const m = this.members[i]!;
    const db = m.db;
    return JSON.stringify([
      db.prepare("SELECT key, value FROM sfs_meta ORDER BY key").all(),
      db.prepare("SELECT * FROM sfs_peers ORDER BY client").all(),
      db.prepare("SELECT * FROM sfs_published ORDER BY seq").all(),
      db.prepare("SELECT count(*) AS n FROM sfs_captured").get(),
      [...m.transport.snapshot()].map(([n, b]) => [n, Buffer.from(b).toString("base64")]),
    ]);
  }

  /** A pass on member i whose outcome must be explained by the faults injected. */
  async pass(i: number, during?: () => void): Promise<PassOutcome> {
    const marker = this.markerOff.has(i);
    const before = marker ? this.fingerprint(i) : undefined;
    const fired = this.firedCount(i);
    const outcome = await this.cluster.trySync(i, during);
    this.explain(i, outcome, this.firedCount(i) > fired);
    if (marker && outcome.error !== undefined && before !== this.fingerprint(i))
      this.anomaly(
        `${this.members[i]!.id}: a pass without the folder marker wrote to the database or folder`,
      );
    return outcome;
  }

  firedCount(i: number): number {
    let n = 0;
    for (const v of this.faulty[i]!.fired.values()) n += v;
    return n;
  }

  explain(i: number, outcome: PassOutcome, injectedFired: boolean): void {
    const id = this.members[i]!.id;
    if (outcome.error !== undefined) {
      const code = errorCode(outcome.error);
      const message = errorMessage(outcome.error);
      if ((code === "FOLDER_MARKER_MISSING" || code === "FOLDER_MARKER_MISMATCH") && this.markerOff.has(i))
        return;
      if (code === "TRANSPORT_FAILED" && injectedFired) return;
      if (
        code === "TRANSPORT_FAILED" &&
        (this.stuck.get(i)?.size ?? 0) > 0 &&
        /took longer than/.test(message)
      )
        return;
      this.anomaly(`${id}: the pass threw ${code}: ${message}`);
      return;
    }
    const report = outcome.report!;
    const damaged = this.damaged(i);
    for (const p of report.peers) {
      if (!p.stopped) continue;
      const name = p.stopped.file.replace(/^changes\//, "");
      if ((p.stopped.reason === "corrupt" || p.stopped.reason === "bad") && damaged.has(name)) continue;
      this.anomaly(
        `${id}: ${p.client}'s stream stopped (${p.stopped.reason}) at ${p.stopped.file}, which no fault explains: ${p.stopped.message}`,
      );
    }
    const exp = report.export.stopped;
    if (exp) {
      const name = exp.file.replace(/^changes\//, "");
      if (!(exp.code === "COPIED_DATABASE" && damaged.has(name)))
        this.anomaly(
          `${id}: export stopped (${exp.code}) at ${exp.file}, which no fault explains: ${exp.message}`,
        );
    }
  }

  /** The sync service catches up on member i: marker back, damaged copies and placeholders replaced, no hang. */
  heal(i: number): void {
    const m = this.members[i]!;
    this.markerOff.get(i)?.();
    this.markerOff.delete(i);
    for (const name of this.stuck.get(i) ?? []) m.transport.setStuck(name, false);
    this.stuck.delete(i);
    this.faulty[i]!.heal();
    // Damaged copies are replaced and placeholders download; files that never arrived stay away.
    const have = m.transport.snapshot();
    const placeholders = this.placeholders.get(m.transport);
    for (const name of this.missing(i))
      if (have.has(name) || placeholders?.has(name)) m.transport.putRaw(name, this.cluster.cloud.get(name)!);
    placeholders?.clear();
  }

  /** Placeholders put in each view (snapshot() does not show entries that are not regular files). */
  readonly placeholders = new Map<MemoryTransport, Set<string>>();

  // ---- faults ----

  async fault(kind: FaultStep): Promise<void> {
    const { r, cluster } = this;
    const n = this.members.length;
    const i = r.int(0, n - 1);
    const m = this.members[i]!;
    const cloudNames = this.cloudNames();
    const pickName = (preferMissing: boolean): string | undefined => {
      const missing = this.missing(i);
      const pool = preferMissing && missing.length > 0 && r.chance(0.75) ? missing : cloudNames;
      return pool.length === 0 ? undefined : r.pick(pool);
    };
    switch (kind) {
      case "cut": {
        const name = pickName(true);
        if (!name) return;
        const bytes = cluster.cloud.get(name)!;
        const at = r.int(0, bytes.length - 1);
        deliverCut(m.transport, name, bytes, at);
        this.count("cut");
        this.trace(`cut ${name} at ${at}/${bytes.length} on ${m.id}`);
        return;
      }
      case "corrupt": {
        const name = pickName(true);
        if (!name) return;
        const { flips } = randomFlips(cluster.cloud.get(name)!, r);
        deliverFlipped(m.transport, name, cluster.cloud.get(name)!, flips);
        this.count("corrupt");
        this.trace(`corrupt ${name} on ${m.id} ${JSON.stringify(flips)}`);
        return;
      }
      case "sneakernet": {
        if (n < 2) return;
        const j = (i + r.int(1, n - 1)) % n;
        const res = sneakernet(m.transport, this.members[j]!.transport, r, {
          fraction: r.pick([0.3, 0.6, 1]),
          interrupt: r.chance(0.5),
        });
        for (const name of [...res.copied, ...(res.cut ? [res.cut.name] : [])])
          this.placeholders.get(this.members[j]!.transport)?.delete(name);
        this.count("sneakernet");
        if (res.cut) this.count("sneakernet-interrupted");
        this.trace(
          `sneakernet ${m.id} -> ${this.members[j]!.id}: ${res.copied.join(" ")} cut ${JSON.stringify(res.cut)}`,
        );
        return;
      }
      case "junk": {
        const name = pickName(false);
        if (!name) return;
        const good = cluster.cloud.get(name)!;
        const how = r.pick(["same", "same", "forged", "cut", "other"] as const);
        const bytes =
          how === "same"
            ? good
            : how === "forged"
              ? forgeVariant(good, `junk ${this.seed}`)
              : how === "cut"
                ? randomCut(good, r).bytes
                : cluster.cloud.get(r.pick(cloudNames))!;
        const junk = dropJunk(m.transport, name, bytes, r);
        this.count("junk");
        this.trace(`junk ${JSON.stringify(junk)} (${how} ${name}) on ${m.id}`);
        return;
      }
      case "skew": {
        const ms = r.pick(SKEWS);
        skewClock(m, ms);
        this.count("clock-skew");
        this.trace(`skew ${m.id} ${ms}`);
        return;
      }
      case "placeholder": {
        const missing = this.missing(i).filter((name) => !m.transport.snapshot().has(name));
        if (missing.length === 0) return;
        const name = r.pick(missing);
        deliverPlaceholder(m.transport, name);
        const set = this.placeholders.get(m.transport) ?? new Set<string>();
        this.placeholders.set(m.transport, set);
        set.add(name);
        this.count("placeholder");
        this.trace(`placeholder ${name} on ${m.id}`);
        return;
      }
      case "stuck": {
        const present = this.present(i);
        if (present.length === 0) return;
        const name = r.pick(present);
        m.transport.setStuck(name, true);
        const set = this.stuck.get(i) ?? new Set<string>();
        this.stuck.set(i, set);
        set.add(name);
        this.count("stuck-read");
        this.trace(`stuck ${name} on ${m.id}`);
        return;
      }
      case "evict": {
        const present = this.present(i);
        if (present.length === 0) return;
        const name = r.pick(present);
        m.transport.remove(name);
        this.stuck.get(i)?.delete(name);
        this.count("evicted");
        this.trace(`evict ${name} on ${m.id}`);
        return;
      }
      case "marker": {
        if (this.markerOff.has(i)) return;
        const wrong = r.chance(0.25);
        this.markerOff.set(i, wrong ? unplug(m.transport, undefined, "another-folder") : unplug(m.transport));
        this.count(wrong ? "wrong-marker" : "marker-removed");
        this.trace(`marker ${wrong ? "wrong" : "removed"} on ${m.id}`);
        return;
      }
      case "interrupt": {
        const how = r.pick(["before", "after", "read"] as const);
        if (how === "before") this.faulty[i]!.failPublishes(1);
        else if (how === "after") this.faulty[i]!.failAfterPublish(1);
        else this.faulty[i]!.failReads(r.int(1, 2));
        this.count(how === "read" ? "read-error" : `publish-fail-${how}-rename`);
        this.trace(`interrupt ${how} on ${m.id}`);
        return;
      }
      case "duplicate-during-pass": {
        const present = this.present(i);
        if (present.length === 0) return;
        const name = r.pick(present);
        this.count("duplicate");
        this.trace(`duplicate ${name} during a pass on ${m.id}`);
        // The very bytes the view holds, again (a duplicate delivery, a spurious event) while the pass runs.
        const bytes = m.transport.snapshot().get(name)!;
        await this.pass(i, () => m.transport.putRaw(name, bytes));
        return;
      }
      case "heal":
        this.trace(`heal ${m.id}`);
        this.heal(i);
        return;
    }
  }

  // ---- scenario actions (counting reorders and duplicates) ----

  async action(act: Action): Promise<void> {
    const { cluster } = this;
    if (act.a === "deliver") {
      const before = new Set(this.members[act.r]!.transport.snapshot().keys());
      cluster.deliver(act.r, act.picks);
      const after = this.members[act.r]!.transport.snapshot();
      for (const name of after.keys()) {
        if (before.has(name)) continue;
        this.placeholders.get(this.members[act.r]!.transport)?.delete(name);
        const p = parseChangeFileName(name);
        if (p && p.seq > 1 && !after.has(changeFileName(p.client, p.seq - 1))) this.count("reorder");
      }
      return;
    }
    if (act.a === "redeliver") this.count("duplicate");
    // After the copy's recovery, its user works on it now and then, as on any replica.
    const copy = this.copy;
    if (copy && act.a === "write" && act.r === copy.original && this.r.chance(0.5)) {
      copy.fork.write((app) => tryWrite(app, act.w, this.seq));
      return;
    }
    await runAction(cluster, act, this.seq, (r, during) => this.pass(r, during));
    if (copy && act.a === "sync" && act.r === copy.original && this.r.chance(0.5)) await this.copyPass(true);
  }

  /** Delivers (some of) the cloud to the recovered copy and runs a pass there. */
  async copyPass(partial: boolean): Promise<SyncReport | undefined> {
    const copy = this.copy!;
    const have = copy.fork.view.snapshot();
    for (const [name, bytes] of this.cluster.cloud)
      if (!sameBytes(have.get(name), bytes) && (!partial || this.r.chance(0.5)))
        copy.fork.view.putRaw(name, bytes);
    try {
      const report = await copy.fork.sync.synchronize();
      if (report.failed)
        this.anomaly(
          `the recovered copy ${copy.newId} reported a stopped stream: ${JSON.stringify(report.peers)}`,
        );
      return report;
    } catch (error) {
      this.anomaly(`a pass on the recovered copy ${copy.newId} threw: ${errorMessage(error)}`);
      return undefined;
    } finally {
      for (const [name, bytes] of copy.fork.view.snapshot())
        if (name.startsWith(`${copy.newId}-`) && !this.cluster.cloud.has(name))
          this.cluster.cloud.set(name, bytes);
    }
  }

  // ---- a copied database ----

  async cloneEpisode(): Promise<void> {
    const { r, cluster } = this;
    const o = r.int(0, this.members.length - 1);
    const orig = this.members[o]!;
    const x = orig.id;
    this.heal(o);
    const flushed = await this.pass(o);
    const pending = (() => {
      const db = orig.db;
      const meta = (k: string) =>
        Number(
          (db.prepare("SELECT value FROM sfs_meta WHERE key = ?").get(k) as { value: string } | undefined)
            ?.value ?? 0,
        );
      const maxLog = (
        db.prepare("SELECT coalesce(max(change_id), 0) AS m FROM sync_log").get() as { m: number }
      ).m;
      const maxCaptured = (
        db.prepare("SELECT coalesce(max(change_id), 0) AS m FROM sfs_captured").get() as { m: number }
      ).m;
      return maxLog > meta("capture_cursor") || maxCaptured > meta("export_cursor");
    })();
    if (flushed.error !== undefined || flushed.report?.failed || pending) {
      this.clone.skipped++;
      this.trace(`clone of ${x} skipped (pending ${pending})`);
      return;
    }
    const n = (orig.db.prepare("SELECT coalesce(max(seq), 0) AS m FROM sfs_published").get() as { m: number })
      .m;
    const name1 = changeFileName(x, n + 1);
    const name2 = changeFileName(x, n + 2);
    // The database is copied to another machine; both go on writing as x.
    const copy = await forkMember(cluster, o);
    const scratch: Fork[] = [];
    let adopted = false;
    try {
      this.clone.cloned++;
      this.count("cloned-database");
      copy.write((app) => app.createKeyword(`clone-k-${this.seed}`, `made on the copy ${this.seed}`));
      for (let k = r.int(0, 3); k > 0; k--)
        copy.write((app) =>
          tryWrite(
            app,
            {
              t: "update",
              table: r.int(0, 2),
              target: r.int(0, 40),
              value: r.int(0, 3),
              bump: r.chance(0.5),
              twice: false,
            },
            this.seq,
          ),
        );
      const c1 = await copy.sync.synchronize();
      if (c1.failed || !c1.export.files.includes(name1)) {
        this.anomaly(`the copy of ${x} did not publish ${name1}: ${JSON.stringify(c1.export)}`);
        return;
      }
      cluster.write(o, (app) =>
        app.createKeyword(`orig-k-${this.seed}`, `made on the original ${this.seed}`),
      );
      await this.pass(o);
      const origBytes = cluster.cloud.get(name1);
      const copyBytes = copy.view.snapshot().get(name1)!;
      if (origBytes === undefined) {
        this.anomaly(`the original ${x} did not publish ${name1}`);
        return;
      }
      this.count("same-name-two-contents");
      this.trace(`clone of ${x}: two versions of ${name1}`);

      // 1. A peer that got the copy's version first (a scratch copy of a peer: its stream stays stopped).
      const p = (o + r.int(1, this.members.length - 1)) % this.members.length;
      const peer = await forkMember(cluster, p);
      scratch.push(peer);
      peer.view.putRaw(name1, copyBytes);
      await peer.sync.synchronize();
      const later = await forkMember(cluster, o);
      scratch.push(later);
      later.write((app) => app.createKeyword(`orig2-k-${this.seed}`, `the original again ${this.seed}`));
      const l1 = await later.sync.synchronize();
      const next = later.view.snapshot().get(name2);
      if (l1.failed || next === undefined) {
        this.anomaly(`a scratch copy of the original did not publish ${name2}`);
        return;
      }
      peer.view.putRaw(name2, next);
      const pr = await peer.sync.synchronize();
      const px = pr.peers.find((q) => q.client === x);
      if (px?.stopped?.reason === "chain-broken") this.clone.detectedByPeer++;
      else
        this.anomaly(
          `a peer that applied the copy's ${name1} then got the original's ${name2}: ${JSON.stringify(px)}`,
        );

      // 2. The original finds the copy's file under its name (the service delivered it), then gets its own back.
      orig.transport.putRaw(name1, copyBytes);
      const or = await this.pass(o);
      if (or.report?.export.stopped?.code === "COPIED_DATABASE") this.clone.detectedByOriginal++;
      else if (!this.markerOff.has(o))
        this.anomaly(
          `the original ${x} with the copy's ${name1}: ${JSON.stringify(or.report?.export ?? errorMessage(or.error))}`,
        );
      orig.transport.putRaw(name1, origBytes);

      // 3. The copy finds the original's file (the version the service kept).
      copy.view.putRaw(name1, origBytes);
      const cr = await copy.sync.synchronize();
      if (cr.export.stopped?.code === "COPIED_DATABASE") this.clone.detectedByCopy++;
      else this.anomaly(`the copy with the original's ${name1}: ${JSON.stringify(cr.export)}`);

      // 4. The documented way out: the copy takes a new client id and re-exports what the folder lacks.
      const newId = `${x}-copy`;
      await giveNewClientId(copy, newId, { maxFileChanges: 7 });
      this.copy = { fork: copy, newId, original: o };
      adopted = true;
      await this.copyPass(false);
      this.count("clone-recovery");

      // 5. The peer of step 1, once the service has settled on the original's file and the copy re-exported.
      for (const [name, bytes] of cluster.cloud) peer.view.putRaw(name, bytes);
      const after = await peer.sync.synchronize();
      if (after.peers.find((q) => q.client === x)?.stopped) this.clone.peerStuck++;
      else this.clone.peerResumed++;
    } finally {
      for (const f of scratch) await f.close();
      if (!adopted) await copy.close();
    }
  }

  // ---- watch() episodes ----

  async watchEpisode(variant: "marker" | "watcher"): Promise<void> {
    const { r, cluster } = this;
    const i = r.int(0, this.members.length - 1);
    const m = this.members[i]!;
    this.heal(i);
    const code = r.pick(["EMFILE", "ENOSPC"] as const);
    const mode = r.pick(["error", "error", "throw"] as const);
    const transport = variant === "watcher" ? new FaultyTransport(m.transport).failWatch(code, mode) : m.view;
    const ep = await SyncManager.open({
      database: m.db,
      transport,
      now: m.now,
      maxFileChanges: 7,
      rescanIntervalMs: 25,
      localPollMs: 10,
    });
    const ev = eventWaiter(ep);
    const id = m.id;
    try {
      await ep.watch();
      if (!(await ev.after("pass", 0))) return this.anomaly(`watch on ${id}: no pass in 5 s`);
      if (variant === "marker") {
        this.count("marker-removed-mid-watch");
        const replug = unplug(m.transport);
        if (!(await ev.after("paused", 0))) {
          replug();
          return this.anomaly(`watch on ${id}: no "paused" after the marker was removed`);
        }
        // Taken once paused: a pass that started before the unplug has finished by then (passes never overlap).
        const before = this.fingerprint(i);
        // A local change while paused: nothing may be captured, published or applied until the marker is back.
        const passes = ev.count("pass");
        cluster.write(i, (app) =>
          app.createKeyword(`watch-k-${this.seed}-${i}`, `while unplugged ${this.seed}`),
        );
        await sleep(60);
        if (ev.count("pass") !== passes) this.anomaly(`watch on ${id}: a pass completed without the marker`);
        const during = this.fingerprint(i);
        if (during !== before) this.anomaly(`watch on ${id}: the library wrote while the marker was missing`);
        const resumed = ev.count("resumed");
        const passesBefore = ev.count("pass");
        replug();
        if (!(await ev.after("resumed", resumed)))
          return this.anomaly(`watch on ${id}: no "resumed" after replug`);
        if (!(await ev.after("pass", passesBefore)))
          return this.anomaly(`watch on ${id}: no pass after replug`);
      } else {
        this.count("watcher-failure");
        this.count(`watcher-failure-${code}`);
        if (mode === "error") {
          if (!(await ev.after("error", 0)))
            return this.anomaly(`watch on ${id}: the ${code} watcher failure was not reported`);
          const e = ev.errors[0] as Error & { code?: string; cause?: { code?: string } };
          if (e.code !== "TRANSPORT_FAILED" || e.cause?.code !== code)
            this.anomaly(`watch on ${id}: the watcher failure came as ${e.code} (cause ${e.cause?.code})`);
        }
        const status = await ep.status();
        if (status.watcher !== "rescan-only" || !status.watcherProblem?.includes(code))
          this.anomaly(`watch on ${id}: status says watcher=${status.watcher} (${status.watcherProblem})`);
        // Files arrive; no event will say so: only the periodic rescan can find them.
        const since = ev.count("pass");
        cluster.deliver(
          i,
          Array.from({ length: cluster.cloud.size }, () => 0),
        );
        this.placeholders.get(m.transport)?.clear();
        if (!(await ev.after("pass", since, 2)))
          return this.anomaly(`watch on ${id}: no rescan pass after delivery`);
        const inspect = await ep.inspect();
        const left = inspect.peers.filter((p) => p.ready > 0);
        if (left.length > 0)
          this.anomaly(
            `watch on ${id}: files left unapplied after rescans: ${JSON.stringify(left.map((p) => p.client))}`,
          );
      }
      const errors = ev.errors.filter(
        (e) => !(variant === "watcher" && (e as { code?: string }).code === "TRANSPORT_FAILED"),
      );
      if (errors.length > 0)
        this.anomaly(`watch on ${id}: errors ${errors.map((e) => e.message).join("; ")}`);
    } finally {
      await ep.close();
      cluster.collect(i);
    }
  }

  // ---- the whole schedule ----

  plan(replicas: number): Step[] {
    const { r } = this;
    const faultRate = this.options.faultRate ?? 0.3;
    const [actions] = fc.sample(
      fc.array(actionArb(replicas), { minLength: 10, maxLength: 80, size: "max" }),
      {
        seed: this.seed | 0,
        numRuns: 1,
      },
    );
    const steps: Step[] = [];
    for (const a of actions!) {
      while (r.chance(faultRate)) steps.push({ kind: "fault", fault: weighted(r, FAULT_WEIGHTS) });
      steps.push({ kind: "action", action: "r" in a ? ({ ...a, r: a.r % replicas } as Action) : a });
    }
    if (r.chance(this.options.watchRate ?? 0.1))
      steps.splice(r.int(0, steps.length), 0, {
        kind: "watch",
        variant: r.chance(0.5) ? "marker" : "watcher",
      });
    if (r.chance(this.options.cloneRate ?? 0.15)) steps.splice(r.int(0, steps.length), 0, { kind: "clone" });
    return steps;
  }

  async run(): Promise<ScheduleResult> {
    const { r } = this;
    const replicas = r.int(3, 5);
    const skews = Array.from({ length: replicas }, () => r.pick([0, 0, -3_600_000, -1500, 2000]));
    resetUniverse();
    this.cluster = await Cluster.create(SOAK_IDS.slice(0, replicas), skews, {
      wrapTransport: (t) => {
        const f = new FaultyTransport(t);
        this.faulty.push(f);
        return f;
      },
      readTimeoutMs: 2,
    });
    const steps = this.plan(replicas);
    try {
      this.step = "common start";
      await commonStart(this.cluster, this.seq);
      for (const [k, s] of steps.entries()) {
        this.step = `step ${k} (${s.kind === "action" ? s.action.a : s.kind === "fault" ? s.fault : s.kind})`;
        if (s.kind === "action") {
          this.trace(`${k}: ${JSON.stringify(s.action)}`);
          await this.action(s.action);
        } else if (s.kind === "fault") await this.fault(s.fault);
        else if (s.kind === "watch") await this.watchEpisode(s.variant);
        else await this.cloneEpisode();
      }
      this.step = "settle";
      await this.settle();
      this.step = "checks";
      this.check();
    } catch (error) {
      // A settle that fails is a finding; anything else thrown is a failure of the schedule itself (with where).
      const where =
        this.step === "settle" || !(error instanceof Error)
          ? ""
          : ` (${(error.stack ?? "").split("\n").slice(1, 4).join(" ").replace(/\s+/g, " ").trim()})`;
      this.divergences.push(`${this.step}: ${errorMessage(error)}${where}`);
    } finally {
      await this.copy?.fork.close();
      await this.cluster.close();
    }
    return {
      seed: this.seed,
      replicas,
      steps: steps.length,
      faults: this.faults,
      divergences: this.divergences,
      losses: this.losses,
      anomalies: this.anomalies,
      clone: this.clone,
    };
  }

  /** Heals every fault, delivers every file everywhere and syncs until a whole round publishes nothing. */
  async settle(): Promise<void> {
    for (let i = 0; i < this.members.length; i++) {
      this.heal(i);
      // Junk stays (nobody cleans it up); placeholders that were never downloaded are fetched by deliver.
      this.placeholders.get(this.members[i]!.transport)?.clear();
    }
    for (let round = 0; round < 12; round++) {
      const before = this.cluster.cloud.size;
      for (let i = 0; i < this.members.length; i++) {
        this.cluster.deliver(
          i,
          Array.from({ length: this.cluster.cloud.size }, () => 0),
        );
        const { report, error } = await this.cluster.trySync(i);
        if (error !== undefined)
          throw new Error(`${this.members[i]!.id}: a clean pass threw ${errorMessage(error)}`);
        if (report!.failed)
          throw new Error(
            `${this.members[i]!.id}: a clean pass failed: ${JSON.stringify([report!.peers.filter((p) => p.stopped), report!.export.stopped])}`,
          );
      }
      if (this.copy) await this.copyPass(false);
      if (this.cluster.cloud.size === before && round > 0) return;
    }
    throw new Error("the replicas did not settle in 12 rounds");
  }

  /** With trace: each differing register on both sides, and every published line of it. */
  explainRegisterDifference(a: unknown, b: unknown): void {
    type Reg = { entity: string; uuid: string };
    const ra = (a as { registers: Reg[] }).registers;
    const rb = (b as { registers: Reg[] }).registers;
    const key = (x: Reg) => `${x.entity} ${x.uuid}`;
    const mb = new Map(rb.map((x) => [key(x), x]));
    for (const x of ra) {
      const y = mb.get(key(x));
      if (isDeepStrictEqual(x, y)) continue;
      this.trace(`register ${key(x)}:\n    ${JSON.stringify(x)}\n    ${JSON.stringify(y)}`);
      for (const f of this.cluster.allFiles())
        for (const c of f.changes)
          if (c.entity === x.entity && c.uuid === x.uuid) this.trace(`  ${f.name}: ${JSON.stringify(c)}`);
    }
  }

  check(): void {
    const config = mediaConfig();
    const ids = this.members.map((m) => m.id);
    const dumps: unknown[] = this.cluster.dumps();
    if (this.copy) {
      dumps.push(canonicalDump(this.copy.fork.db, config));
      ids.push(this.copy.newId);
    }
    for (let k = 1; k < dumps.length; k++) {
      const d = firstDifference(dumps[k], dumps[0]);
      if (d) {
        this.divergences.push(`${ids[k]} differs from ${ids[0]} at ${d}`);
        if (this.options.trace) this.explainRegisterDifference(dumps[k], dumps[0]);
      }
    }
    const d = firstDifference(
      (dumps[0] as { registers: unknown[] }).registers,
      this.cluster.expectedRegisters(),
    );
    if (d) this.divergences.push(`registers differ from the greatest published keys at ${d}`);
    try {
      this.cluster.checkNoLocalChangeLost();
    } catch (error) {
      this.losses.push(errorMessage(error));
    }
    if (this.copy) {
      const { newId, fork } = this.copy;
      const own = this.cluster
        .allFiles()
        .filter((f) => f.header.client === newId)
        .sort((a, b) => a.header.seq - b.header.seq);
      const lines = own.reduce((k, f) => k + f.changes.length, 0);
      const seqs = own.map((f) => f.header.seq);
      if (
        !isDeepStrictEqual(
          seqs,
          seqs.map((_, k) => k + 1),
        )
      )
        this.losses.push(`the recovered copy ${newId}: files ${JSON.stringify(seqs)} have a gap`);
      if (lines !== fork.localChanges)
        this.losses.push(
          `the recovered copy ${newId}: ${lines} change lines published under the new id for ${fork.localChanges} local changes made on the copy`,
        );
      if (this.divergences.length === 0 && this.losses.length === 0) this.clone.recovered++;
    }
  }
}

export async function runSchedule(seed: number, options: SoakOptions): Promise<ScheduleResult> {
  return new Schedule(seed >>> 0, options).run();
}

export async function runSoak(options: SoakOptions): Promise<SoakSummary> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const faults = new Map<string, number>();
  const divergences: Finding[] = [];
  const losses: Finding[] = [];
  const anomalies: Finding[] = [];
  const clone = newCloneFigures();
  for (let k = 0; k < options.schedules; k++) {
    const seed = (options.seed + k) >>> 0;
    const result = await runSchedule(seed, options);
    for (const [kind, n] of result.faults) faults.set(kind, (faults.get(kind) ?? 0) + n);
    for (const key of Object.keys(clone) as Array<keyof CloneFigures>) clone[key] += result.clone[key];
    const report = (list: Finding[], what: string, messages: readonly string[]) => {
      if (messages.length === 0) return;
      list.push({ seed, message: messages.join("\n    ") });
      log(
        `${what} in schedule ${k} (replay: SOAK_SEED=${seed} npm run soak -- 1): ${messages.join("\n    ")}`,
      );
    };
    report(divergences, "DIVERGENCE", result.divergences);
    report(losses, "LOSS", result.losses);
    report(anomalies, "ANOMALY", result.anomalies);
    if (options.progressEvery && (k + 1) % options.progressEvery === 0)
      log(
        `${k + 1}/${options.schedules} schedules, ${[...faults.values()].reduce((a, b) => a + b, 0)} faults, ` +
          `${divergences.length} divergences, ${losses.length} losses, ${anomalies.length} anomalies, ` +
          `${((Date.now() - started) / 1000).toFixed(0)} s`,
      );
  }
  const sorted = Object.fromEntries([...faults].sort(([a], [b]) => (a < b ? -1 : 1)));
  return {
    seed: options.seed,
    schedules: options.schedules,
    faults: sorted,
    faultsTotal: [...faults.values()].reduce((a, b) => a + b, 0),
    divergences,
    losses,
    anomalies,
    clone,
    wallMs: Date.now() - started,
  };
}

export function formatSummary(s: SoakSummary): string {
  const width = Math.max(...Object.keys(s.faults).map((k) => k.length));
  const c = s.clone;
  return [
    `soak: seed ${s.seed}, ${s.schedules} schedules in ${(s.wallMs / 1000).toFixed(1)} s`,
    `faults injected: ${s.faultsTotal}`,
    ...Object.entries(s.faults).map(([k, n]) => `  ${k.padEnd(width)}  ${n}`),
    `cloned databases: ${c.cloned} (skipped ${c.skipped}); detected: by a peer (chain-broken) ${c.detectedByPeer}, ` +
      `by the original (COPIED_DATABASE) ${c.detectedByOriginal}, by the copy ${c.detectedByCopy}; ` +
      `recovered (new client id, converged) ${c.recovered}; ` +
      `a peer that applied the copy's file: resumed ${c.peerResumed}, still stopped ${c.peerStuck}`,
    `divergences: ${s.divergences.length}`,
    `losses: ${s.losses.length}`,
    `anomalies (outcomes no injected fault explains): ${s.anomalies.length}`,
    ...[...s.divergences, ...s.losses, ...s.anomalies]
      .slice(0, 20)
      .map(
        (f) =>
          `  replay: SOAK_SEED=${f.seed} npm run soak -- 1   # ${f.message.split("\n")[0]!.slice(0, 200)}`,
      ),
    `wall time: ${(s.wallMs / 1000).toFixed(1)} s`,
  ].join("\n");
}
