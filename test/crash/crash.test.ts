// Crash test (the project's issue): a child process syncing is killed with SIGKILL at random points of export and
// of ingest, again and again; after restart every replica converges, nothing is applied twice and no local change
// is missing.
//
// Three file databases (alice, bob, carol) share one folder; the test is the app, writing through its own
// connection and recording the exact sync_log rows of every write. Workers (test/helpers/crash-worker.ts, a child
// process running synchronize() in a loop) are killed:
//   - first, at targeted points: bob right after publishing a file of 12000 changes, then alice and carol as soon
//     as the first 5000-change batch of that file is committed (a partial cursor), so the restart must resume it;
//   - then in random cycles (random app writes, one worker for a random replica), either with SIGKILL after a
//     random delay (0-150 ms after it opened the database, 0-700 ms after spawn so that some land in start-up and
//     lock takeover, or 0-300 ms after a reported step: list, read, apply, publish), or by the worker itself at a
//     chosen point (after reading a peer's file, after an apply commit, with a temp file written and not renamed,
//     after the rename and before the export records it, after an export), or not at all. Some workers export with
//     small file limits (more publish steps); some cycles write to the database while its worker syncs.
// At the end every replica runs clean passes in this process until nothing new is published, and the test checks:
// equal canonical dumps, equal to the greatest key of every published change; per client, its files' change lines
// are exactly its local changes (seq 1..n, prev chain, disjoint increasing change_id ranges, each line matching its
// sync_log row), sfs_captured and sfs_published agree; per peer, the cursor is at its last file and counted each line
// once, and the apply audit (every applied change recorded in the same transaction, test/crash/harness.ts
// auditApplies) shows each peer line applied exactly once; no temp file and no lock left.
//
// Environment:
//   SFS_CRASH_KILLS   run random cycles until this many workers were killed (default 100: about 1 min on 2
//                     cores; each worker costs ~0.4 s of start-up). The crash soak: SFS_CRASH_KILLS=1000 (~10 min).
//   SFS_CRASH_CYCLES  run exactly this many random cycles instead (whatever the number of kills)
//   SFS_CRASH_SEED    32-bit seed (default random; printed, and named in every assertion message)
//   SFS_CRASH_BIG     changes in bob's first big write (default 12000, i.e. 3 apply batches; 0 skips it)
//   SFS_CRASH_DEBUG=1 prints each worker as it starts
//   SFS_CRASH_COLLISIONS=0  no natural-key twins (by default a few keywords and urls are created with the same
//                     value and different uuids on several replicas, so shadowing runs under crashes too)
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { mediaConfig } from "../../src/config/media-preset.js";
import { canonicalDump } from "../../src/sync/dump.js";
import { SyncManager } from "../../src/sync/sync-manager.js";
import { greatestRegisters } from "../helpers/cluster.js";
import type { MediaApp } from "../helpers/media-app.js";
import {
  appWrite,
  auditApplies,
  auditLineId,
  prng,
  type Replica,
  readFolder,
  setupReplicas,
  startWorker,
  type WorkerRun,
} from "./harness.js";

const CYCLES = process.env.SFS_CRASH_CYCLES ? Number(process.env.SFS_CRASH_CYCLES) : undefined;
const KILLS = Number(process.env.SFS_CRASH_KILLS ?? 100);
// Some cycles end without a kill (clean runs, a self-kill point never reached): at most this many cycles.
const MAX_CYCLES = CYCLES ?? Math.ceil(KILLS * 2) + 20;
const SEED = process.env.SFS_CRASH_SEED
  ? Number(process.env.SFS_CRASH_SEED) >>> 0
  : (Math.random() * 2 ** 32) >>> 0;
const BIG = Number(process.env.SFS_CRASH_BIG ?? 12000);
const COLLISIONS = process.env.SFS_CRASH_COLLISIONS !== "0";
const DEBUG = process.env.SFS_CRASH_DEBUG === "1";
const BUDGET = CYCLES === undefined ? `SFS_CRASH_KILLS=${KILLS}` : `SFS_CRASH_CYCLES=${CYCLES}`;
const CTX = `crash test seed ${SEED} (rerun with SFS_CRASH_SEED=${SEED} ${BUDGET})`;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The app's writes: random creates, updates (fresh value, version + 1), deletes/undeletes, links and unlinks. */
class Writer {
  private n = 0;
  readonly media: string[] = [];
  readonly keywords: string[] = [];
  readonly transcripts: string[] = [];
  constructor(private readonly rnd: () => number) {}

  private pick<T>(xs: readonly T[]): T | undefined {
    return xs.length === 0 ? undefined : xs[Math.floor(this.rnd() * xs.length)];
  }
  private next(prefix: string): string {
    return `${prefix}-${(++this.n).toString(36).padStart(5, "0")}-${Math.floor(this.rnd() * 1e9).toString(36)}`;
  }

  createMedia(app: MediaApp, twins = COLLISIONS): void {
    const uuid = this.next("m");
    this.media.push(uuid);
    // A few shared urls: natural-key collisions between replicas (and locally refused duplicates).
    const url =
      twins && this.rnd() < 0.05 ? `https://example.com/shared-${Math.floor(this.rnd() * 4)}` : undefined;
    app.createMedia(uuid, { title: `title ${this.n}`, ...(url ? { url } : {}) });
  }

  createKeyword(app: MediaApp, twins = COLLISIONS): void {
    const uuid = this.next("k");
    this.keywords.push(uuid);
    const pool = ["python", "Python", "rust", "sql", "Go"];
    app.createKeyword(
      uuid,
      twins && this.rnd() < 0.15 ? pool[Math.floor(this.rnd() * pool.length)]! : `kw ${this.n}`,
    );
  }

  /** One random operation; a local UNIQUE refusal is what an app would see too, and is skipped. */
  op(app: MediaApp): void {
    this.tolerant(() => this.anyOp(app));
  }

  tolerant(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      if (!String((error as { code?: string }).code).startsWith("SQLITE_CONSTRAINT")) throw error;
    }
  }

  private anyOp(app: MediaApp): void {
    const x = this.rnd();
    if (x < 0.16) this.createMedia(app);
    else if (x < 0.28) this.createKeyword(app);
    else if (x < 0.34) {
      const m = this.pick(this.media);
      const uuid = this.next("t");
      if (m && app.createTranscript(uuid, m, `words ${this.n}`)) this.transcripts.push(uuid);
    } else if (x < 0.6) {
      const y = this.rnd();
      const fresh = `v${++this.n}`;
      if (y < 0.5) app.update("Media", this.pick(this.media) ?? "-", y < 0.35 ? "title" : "author", fresh);
      else if (y < 0.75) app.update("Keywords", this.pick(this.keywords) ?? "-", "keyword", `kw ${fresh}`);
      else app.update("Transcripts", this.pick(this.transcripts) ?? "-", "transcription", fresh);
    } else if (x < 0.72) {
      const table = this.rnd() < 0.6 ? "Media" : this.rnd() < 0.5 ? "Keywords" : "Transcripts";
      const uuid = this.pick(
        table === "Media" ? this.media : table === "Keywords" ? this.keywords : this.transcripts,
      );
      const row = app.db.prepare(`SELECT deleted FROM ${table} WHERE uuid = ?`).get(uuid ?? "-") as
        | { deleted: number }
        | undefined;
      if (uuid && row) app.setDeleted(table, uuid, row.deleted === 0);
    } else if (x < 0.9) app.link(this.pick(this.media) ?? "-", this.pick(this.keywords) ?? "-");
    else app.unlink(this.pick(this.media) ?? "-", this.pick(this.keywords) ?? "-");
  }
}

type Mode = "timed" | "timed-from-spawn" | "after-step" | "self-kill" | "clean" | "targeted";
/** Steps the worker reports; "after-step" kills a few ms after one, to land inside an apply or a publish. */
const STEPS = ["read", "apply", "publish", "list"] as const;
const SELF_KILL_POINTS = ["read", "applied", "publish-temp", "publish-renamed", "exported"] as const;

interface Stats {
  workers: number;
  killed: number;
  /** Kills by the worker's last reported step (list/read = ingest, apply = between apply commits, publish...). */
  killedAfter: Map<string, number>;
  takeovers: number;
  intendedLeft: number;
  partialCursorsLeft: number;
  tempFilesLeft: number;
  concurrentWrites: number;
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

describe("crash: SIGKILL during sync, then restart", () => {
  it(`every replica converges, nothing applied twice, no local change missing (${CYCLES === undefined ? `${KILLS} kills` : `${CYCLES} cycles`})`, {
    timeout: Math.max(300_000, MAX_CYCLES * 3_000),
  }, async () => {
    console.log(`${CTX}`);
    const started = Date.now();
    const rnd = prng(SEED);
    const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
    const setup = await setupReplicas(["alice", "bob", "carol"]);
    cleanups.push(() => setup.dispose());
    const { folder, replicas } = setup;
    const writer = new Writer(rnd);
    let active: WorkerRun | undefined;
    cleanups.push(async () => {
      if (active && active.child.exitCode === null && active.child.signalCode === null) {
        active.child.kill("SIGKILL");
        await active.exited;
      }
    });
    const stats: Stats = {
      workers: 0,
      killed: 0,
      killedAfter: new Map(),
      takeovers: 0,
      intendedLeft: 0,
      partialCursorsLeft: 0,
      tempFilesLeft: 0,
      concurrentWrites: 0,
    };
    const randomWrite = (r: Replica) =>
      appWrite(r, (app) => {
        for (let i = int(1, 5); i > 0; i--) writer.op(app);
      });

    /**
     * Runs one worker for `target` and kills it as `mode` says; `killWhen`, if given, is polled every ms and
     * kills the worker as soon as it returns true. Checks the worker did not fail (LOCKED included).
     */
    const runWorker = async (
      target: Replica,
      mode: Mode,
      args: string[],
      what: string,
      killWhen?: () => boolean,
    ): Promise<void> => {
      if (existsSync(`${target.dbPath}.lock`)) stats.takeovers++;
      stats.workers++;
      const run = startWorker(target.dbPath, args);
      active = run;
      if (DEBUG)
        console.log(`${what}: worker for ${target.id} (${mode} ${args.join(" ")}) pid ${run.child.pid}`);
      const kill = () => run.child.kill("SIGKILL");
      const timers: NodeJS.Timeout[] = [];
      const later = (ms: number, fn: () => void) => timers.push(setTimeout(fn, ms));
      if (mode === "timed-from-spawn") later(int(0, 700), kill);
      else {
        await run.waitFor("ready");
        if (mode === "timed") later(int(0, 150), kill);
        else if (mode === "after-step") {
          const step = STEPS[int(0, STEPS.length - 1)]!;
          // Short delays land in the step itself; long ones inside a big file's apply.
          const delay = rnd() < 0.6 ? int(0, 10) : int(0, 300);
          // When the step never comes (nothing to read or publish), the idle passes are killed anyway.
          later(400, kill);
          void run.waitFor(step).then(() => later(delay, kill));
        }
      }
      if (killWhen) {
        const poll = setInterval(() => {
          if (killWhen()) kill();
        }, 1);
        timers.push(poll);
        later(5_000, kill);
      }
      // Sometimes the app writes to the database while the worker syncs it.
      const concurrent: Array<Promise<void>> = [];
      if (mode !== "timed-from-spawn" && rnd() < 0.3)
        for (let i = int(1, 3); i > 0; i--)
          concurrent.push(
            // Not in `timers`: a write due after the worker ended still happens (and is counted).
            new Promise((resolve) =>
              setTimeout(
                () => {
                  stats.concurrentWrites++;
                  randomWrite(target);
                  resolve();
                },
                int(0, 120),
              ),
            ),
          );
      const { code, signal } = await run.exited;
      for (const t of timers) clearTimeout(t);
      await Promise.all(concurrent);
      active = undefined;
      const last = run.lines.at(-1) ?? "(nothing)";
      const problem = run.lines.find((l) => l.startsWith("error") || l.startsWith("failed"));
      const where = `${CTX}; ${what}: worker for ${target.id} (${mode} ${args.join(" ")})`;
      expect(problem, `${where}: ${problem}\n${run.stderr()}`).toBeUndefined();
      if (signal !== "SIGKILL") {
        expect({ code, signal, last }, `${where}\n${run.stderr()}`).toEqual({
          code: 0,
          signal: null,
          last: "done",
        });
        return;
      }
      stats.killed++;
      bump(stats.killedAfter, last.split(" ")[0]!);
      const db = target.db;
      stats.intendedLeft += (
        db.prepare("SELECT count(*) AS n FROM sfs_published WHERE state = 'intended'").get() as { n: number }
      ).n;
      stats.partialCursorsLeft += (
        db.prepare("SELECT count(*) AS n FROM sfs_peers WHERE partial_offset > 0").get() as { n: number }
      ).n;
      stats.tempFilesLeft += readdirSync(path.join(folder, "changes")).filter((n) =>
        n.startsWith(`.${target.id}-`),
      ).length;
    };

    // 1. Targeted kills: big writes first, so that passes take long enough for kills to land inside them.
    const [alice, bob, carol] = replicas as [Replica, Replica, Replica];
    appWrite(alice, (app) => {
      for (let i = 0; i < 300; i++) writer.tolerant(() => writer.createMedia(app, false));
      for (let i = 0; i < 40; i++) writer.tolerant(() => writer.createKeyword(app, false));
    });
    if (BIG > 0)
      appWrite(bob, (app) => {
        for (let i = 0; i < BIG; i++) writer.tolerant(() => writer.createKeyword(app, false));
      });
    appWrite(carol, (app) => {
      for (let i = 0; i < 300; i++) writer.tolerant(() => writer.createMedia(app, false));
      for (let i = 0; i < 200; i++) writer.op(app);
    });
    // Bob's first export, killed right after it published its (big) file.
    const bobFile = `${bob.id}-000000000001.ndjson`;
    await runWorker(bob, "targeted", ["forever"], "prelude", () =>
      existsSync(path.join(folder, "changes", bobFile)),
    );
    // Alice and carol are killed as soon as the first batch of bob's big file is committed (its cursor is
    // partial), then restarted: the rest of the file must apply once, from the recorded offset.
    const partial = (r: Replica) => () =>
      ((
        r.db.prepare("SELECT partial_offset AS p FROM sfs_peers WHERE client = ?").get(bob.id) as
          | { p: number }
          | undefined
      )?.p ?? 0) > 0;
    for (const r of [alice, carol]) await runWorker(r, "targeted", ["forever"], "prelude", partial(r));

    // 2. Random cycles.
    let cycles = 0;
    for (let cycle = 0; cycle < MAX_CYCLES && (CYCLES !== undefined || stats.killed < KILLS); cycle++) {
      cycles++;
      for (let i = int(0, 3); i > 0; i--) randomWrite(replicas[int(0, 2)]!);
      const target = replicas[int(0, 2)]!;
      const x = rnd();
      const mode: Mode =
        x < 0.35
          ? "timed"
          : x < 0.45
            ? "timed-from-spawn"
            : x < 0.65
              ? "after-step"
              : x < 0.87
                ? "self-kill"
                : "clean";
      const args: string[] = [mode === "clean" ? String(int(1, 2)) : mode === "self-kill" ? "3" : "forever"];
      if (rnd() < 0.3) args.push("--max-file-changes", String(int(5, 60)));
      if (mode === "self-kill")
        args.push("--kill-at", `${SELF_KILL_POINTS[int(0, SELF_KILL_POINTS.length - 1)]}:${int(1, 3)}`);
      await runWorker(target, mode, args, `cycle ${cycle}`);
    }

    // 3. Clean passes, in this process, until a whole round publishes nothing.
    let settled = false;
    for (let round = 0; round < 10 && !settled; round++) {
      settled = round > 0;
      for (const r of replicas) {
        const sync = await SyncManager.open({ database: r.dbPath });
        auditApplies(sync);
        try {
          const report = await sync.synchronize();
          expect(report.failed, `${CTX}; final pass of ${r.id}: ${JSON.stringify(report)}`).toBe(false);
          if (report.export.exportedChanges > 0 || report.export.republished.length > 0) settled = false;
        } finally {
          await sync.close();
        }
      }
    }
    expect(settled, `${CTX}: the replicas did not settle in 10 rounds`).toBe(true);
    console.log(
      `${CTX}: ${stats.workers} workers, ${stats.killed} killed (after: ${JSON.stringify(Object.fromEntries(stats.killedAfter))}), ` +
        `${stats.takeovers} lock takeovers, left by kills: ${stats.intendedLeft} intended files, ` +
        `${stats.partialCursorsLeft} partial cursors, ${stats.tempFilesLeft} temp files; ${stats.concurrentWrites} writes during a sync; ` +
        `local changes ${replicas.map((r) => `${r.id}=${r.local.length}`).join(" ")}`,
    );

    // 4. Checks.
    const { files, others } = readFolder(folder);
    const all = [...files.values()].flat();
    // The crash soak's figures, counted here; the checks below then assert each property with its details.
    const tally = { losses: 0, duplicates: 0 };
    for (const r of replicas) {
      const own = files.get(r.id) ?? [];
      // Each local change in exactly one published file, each file's lines exactly the changes in its range.
      for (const id of r.local) {
        const n = own.filter((f) => id >= f.header.changes[0] && id <= f.header.changes[1]).length;
        if (n === 0) tally.losses++;
        else tally.duplicates += n - 1;
      }
      for (const f of own) {
        const ids = r.local.filter((id) => id >= f.header.changes[0] && id <= f.header.changes[1]).length;
        if (f.changes.length > ids) tally.duplicates += f.changes.length - ids;
        else tally.losses += ids - f.changes.length;
      }
      // Each peer's change applied exactly once.
      const counts = r.db
        .prepare("SELECT source || ' ' || line AS k, count(*) AS n FROM crash_applied GROUP BY source, line")
        .all() as Array<{ k: string; n: number }>;
      const applied = new Set(counts.map((c) => c.k));
      for (const c of counts) tally.duplicates += c.n - 1;
      for (const [client, list] of files)
        if (client !== r.id)
          for (const f of list)
            for (const c of f.changes) if (!applied.has(`${f.name} ${auditLineId(c)}`)) tally.losses++;
    }
    console.log(
      `crash soak: ${stats.killed} kills (${cycles} random cycles after the targeted prelude), ` +
        `losses ${tally.losses}, duplicates ${tally.duplicates}, ${((Date.now() - started) / 1000).toFixed(1)} s; ${CTX}`,
    );
    // (1) Every replica holds the same synced content, and it is the greatest key of every register.
    const config = mediaConfig();
    const dumps = replicas.map((r) => canonicalDump(r.db, config));
    for (let i = 1; i < dumps.length; i++)
      expect(dumps[i], `${CTX}: ${replicas[i]!.id} vs alice`).toEqual(dumps[0]);
    expect(dumps[0]!.registers, `${CTX}: registers vs greatest published keys`).toEqual(
      greatestRegisters(all.flatMap((f) => f.changes)),
    );

    for (const r of replicas) {
      const own = files.get(r.id) ?? [];
      const where = `${CTX}; ${r.id}`;
      // (2) No local change missing, nothing published twice.
      expect(
        own.map((f) => f.seq),
        `${where}: seqs without gap`,
      ).toEqual(own.map((_, i) => i + 1));
      for (const f of own) {
        expect(f.trailerOk, `${where}: ${f.name} trailer`).toBe(true);
        expect(f.header.client, `${where}: ${f.name} header`).toBe(r.id);
        expect(f.header.seq, `${where}: ${f.name} header`).toBe(f.seq);
      }
      own.forEach((f, i) => {
        expect(f.header.prev, `${where}: ${f.name} prev`).toBe(i === 0 ? null : own[i - 1]!.sha256);
        if (i > 0)
          expect(f.header.changes[0], `${where}: ${f.name} range`).toBeGreaterThan(
            own[i - 1]!.header.changes[1],
          );
        expect(f.header.changes[0], `${where}: ${f.name} range`).toBeLessThanOrEqual(f.header.changes[1]);
      });
      const lines = own.reduce((n, f) => n + f.changes.length, 0);
      expect(lines, `${where}: published change lines vs local changes`).toBe(r.local.length);
      // Each file holds exactly the local changes in its change_id range, in order.
      const logRow = r.db.prepare("SELECT entity, entity_uuid, operation FROM sync_log WHERE change_id = ?");
      for (const f of own) {
        const ids = r.local.filter((id) => id >= f.header.changes[0] && id <= f.header.changes[1]);
        expect(ids.length, `${where}: ${f.name} lines vs local changes in [${f.header.changes}]`).toBe(
          f.changes.length,
        );
        ids.forEach((id, i) => {
          const row = logRow.get(id) as { entity: string; entity_uuid: string; operation: string };
          const c = f.changes[i]!;
          expect(c.entity, `${where}: ${f.name} line ${i + 2} vs sync_log ${id}`).toBe(row.entity);
          if (c.op !== "link" && c.op !== "unlink")
            expect(c.uuid, `${where}: ${f.name} line ${i + 2}`).toBe(row.entity_uuid);
          else expect(c.op, `${where}: ${f.name} line ${i + 2}`).toBe(row.operation);
        });
      }
      const captured = (
        r.db.prepare("SELECT change_id FROM sfs_captured ORDER BY change_id").all() as Array<{
          change_id: number;
        }>
      ).map((x) => x.change_id);
      expect(captured, `${where}: captured change_ids vs the app's sync_log rows`).toEqual(r.local);
      const published = r.db.prepare("SELECT seq, size, sha256, state FROM sfs_published ORDER BY seq").all();
      expect(published, `${where}: sfs_published vs its files`).toEqual(
        own.map((f) => ({ seq: f.seq, size: f.size, sha256: f.sha256, state: "published" })),
      );
      // (3) Nothing applied twice: each peer's cursor advanced exactly once per change line.
      const peers = r.db
        .prepare("SELECT client, seq, hash, partial_offset, applied_changes FROM sfs_peers ORDER BY client")
        .all();
      const expected = [...files.entries()]
        .filter(([client]) => client !== r.id)
        .map(([client, list]) => ({
          client,
          seq: list.length,
          hash: list.at(-1)!.sha256,
          partial_offset: 0,
          applied_changes: list.reduce((n, f) => n + f.changes.length, 0),
        }));
      expect(peers, `${where}: sfs_peers`).toEqual(expected);
      // ... and every change line of every peer was applied exactly once (the audit rows commit with the apply).
      const applied = r.db
        .prepare("SELECT source, line, count(*) AS n FROM crash_applied GROUP BY source, line")
        .all() as Array<{
        source: string;
        line: string;
        n: number;
      }>;
      expect(
        applied.filter((a) => a.n !== 1),
        `${where}: changes applied more than once`,
      ).toEqual([]);
      const expectedApplied = [...files.entries()]
        .filter(([client]) => client !== r.id)
        .flatMap(([, list]) => list.flatMap((f) => f.changes.map((c) => `${f.name} ${auditLineId(c)}`)));
      const got = new Set(applied.map((a) => `${a.source} ${a.line}`));
      const want = new Set(expectedApplied);
      expect(
        expectedApplied.filter((l) => !got.has(l)).slice(0, 20),
        `${where}: peers' change lines never applied`,
      ).toEqual([]);
      expect(
        [...got].filter((l) => !want.has(l)).slice(0, 20),
        `${where}: applied changes that are in no peer file`,
      ).toEqual([]);
      expect(got.size, `${where}: distinct applied changes`).toBe(expectedApplied.length);
    }
    // (4) No temp files left once everyone has run a clean pass, and no lock left after close.
    expect(others, `${CTX}: names in changes/ that are not changeset files`).toEqual([]);
    for (const r of replicas) expect(existsSync(`${r.dbPath}.lock`), `${CTX}: ${r.dbPath}.lock`).toBe(false);
  });
});
