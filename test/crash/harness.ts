// Shared pieces of the crash tests: a seeded PRNG, three file-backed media replicas on one shared folder, the
// worker process (test/helpers/crash-worker.ts) and a reader of the folder's changeset files.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { ChangeLine, HeaderLine } from "../../src/changeset/format.js";
import { MEDIA_CONFIG } from "../../src/config/media-preset.js";
import type { Database } from "../../src/db.js";
import { SyncManager } from "../../src/sync/sync-manager.js";
import { parseChangeFileName } from "../../src/transport/names.js";
import { createMediaDb, MediaApp } from "../helpers/media-app.js";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const WORKER = path.join(REPO_ROOT, "test/helpers/crash-worker.ts");

/** mulberry32: small, fast, good enough to pick test actions reproducibly from a 32-bit seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Replica {
  readonly id: string;
  readonly dbPath: string;
  /** The app's own connection (better-sqlite3, WAL), as a real app would hold it. */
  readonly db: Database;
  readonly app: MediaApp;
  /** change_ids of the sync_log rows the app wrote: this replica's local changes, exactly. */
  readonly local: number[];
}

export interface Setup {
  readonly dir: string;
  readonly folder: string;
  readonly replicas: Replica[];
  /** Closes the app connections and removes the temp dir. */
  dispose(): void;
}

/** Three (or `ids.length`) file databases with the media schema and triggers, each `init`ed on one folder. */
export async function setupReplicas(ids: readonly string[]): Promise<Setup> {
  const dir = mkdtempSync(path.join(tmpdir(), "sfs-crash-"));
  const folder = path.join(dir, "shared");
  mkdirSync(folder);
  const replicas: Replica[] = [];
  const dispose = () => {
    for (const r of replicas) r.db.close(); // better-sqlite3: closing twice is a no-op
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const id of ids) {
      const dbPath = path.join(dir, `${id}.db`);
      const db = createMediaDb(dbPath);
      replicas.push({ id, dbPath, db, app: new MediaApp(db, id), local: [] });
      const sync = await SyncManager.init({ database: dbPath, folder, clientId: id, config: MEDIA_CONFIG });
      await sync.close();
    }
  } catch (error) {
    dispose();
    throw error;
  }
  return { dir, folder, replicas, dispose };
}

/**
 * Runs `fn` as one app transaction on the replica's own connection and records the sync_log rows it added
 * (BEGIN IMMEDIATE: no sync apply can add echo rows in between). Returns how many local changes it made.
 */
export function appWrite(r: Replica, fn: (app: MediaApp) => void): number {
  r.db.exec("BEGIN IMMEDIATE");
  try {
    const before = (
      r.db.prepare("SELECT coalesce(max(change_id), 0) AS m FROM sync_log").get() as { m: number }
    ).m;
    fn(r.app);
    const ids = (
      r.db
        .prepare("SELECT change_id FROM sync_log WHERE change_id > ? ORDER BY change_id")
        .all(before) as Array<{
        change_id: number;
      }>
    ).map((x) => x.change_id);
    r.db.exec("COMMIT");
    r.local.push(...ids);
    return ids.length;
  } catch (error) {
    if (r.db.inTransaction) r.db.exec("ROLLBACK");
    throw error;
  }
}

/** How an applied change is named in the audit table: unique per line of a file (keys of a register increase). */
export function auditLineId(c: Pick<ChangeLine, "entity" | "uuid" | "op" | "ts" | "version">): string {
  return `${c.entity} ${c.uuid} ${c.op} ${c.ts} ${c.version}`;
}

/**
 * Audits applies: every peer change the engine applies is also recorded in `crash_applied` (a test table in the
 * synced database) by the same statement sequence, so inside the same apply transaction. A kill rolls both back;
 * a change applied twice (for instance by a cursor committed apart from its rows) shows up as two rows.
 * Reaches into SyncManager's private replica: if src is refactored, this throws and names itself.
 */
export function auditApplies(sync: SyncManager): void {
  type Apply = (c: ChangeLine, source: string) => unknown;
  const replica = (sync as unknown as { replica?: { applier?: { apply?: Apply } } }).replica;
  const applier = replica?.applier;
  if (!applier || typeof applier.apply !== "function")
    throw new Error(
      "test/crash/harness.ts auditApplies: SyncManager.replica.applier.apply is gone; update the audit hook",
    );
  sync.db.exec("CREATE TABLE IF NOT EXISTS crash_applied (source TEXT NOT NULL, line TEXT NOT NULL)");
  const insert = sync.db.prepare("INSERT INTO crash_applied (source, line) VALUES (?, ?)");
  const apply = applier.apply.bind(applier);
  applier.apply = (c, source) => {
    if (!sync.db.inTransaction)
      throw new Error("crash test audit: a peer change was applied outside a transaction");
    insert.run(source, auditLineId(c));
    return apply(c, source);
  };
}

export interface WorkerRun {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** Resolves on the first line that starts with `prefix` (or undefined when the worker ended first). */
  waitFor(prefix: string): Promise<string | undefined>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly stderr: () => string;
}

export function startWorker(dbPath: string, args: readonly string[]): WorkerRun {
  const child = spawn(process.execPath, ["--import", "tsx", WORKER, dbPath, ...args], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters: Array<{ prefix: string; resolve: (l: string | undefined) => void }> = [];
  let err = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (d: string) => {
    err += d;
  });
  const rl = createInterface({ input: child.stdout! });
  rl.on("line", (line) => {
    lines.push(line);
    for (let i = waiters.length - 1; i >= 0; i--)
      if (line.startsWith(waiters[i]!.prefix)) waiters.splice(i, 1)[0]!.resolve(line);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // "close" waits for stdout to end, so every line the worker printed is in `lines`.
    child.on("close", (code, signal) => {
      for (const w of waiters.splice(0)) w.resolve(undefined);
      resolve({ code, signal });
    });
  });
  return {
    child,
    lines,
    exited,
    stderr: () => err,
    waitFor(prefix) {
      const seen = lines.find((l) => l.startsWith(prefix));
      if (seen !== undefined) return Promise.resolve(seen);
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(undefined);
      return new Promise((resolve) => waiters.push({ prefix, resolve }));
    },
  };
}

export interface PublishedFile {
  readonly name: string;
  readonly client: string;
  readonly seq: number;
  readonly sha256: string;
  readonly size: number;
  readonly header: HeaderLine;
  readonly changes: ChangeLine[];
  /** The trailer's count and sha256 agree with the file. */
  readonly trailerOk: boolean;
}

/** Every changeset file in `<folder>/changes`, parsed, by client in seq order. */
export function readFolder(folder: string): { files: Map<string, PublishedFile[]>; others: string[] } {
  const dir = path.join(folder, "changes");
  const files = new Map<string, PublishedFile[]>();
  const others: string[] = [];
  for (const name of existsSync(dir) ? readdirSync(dir).sort() : []) {
    const parsed = parseChangeFileName(name);
    if (!parsed) {
      others.push(name);
      continue;
    }
    const bytes = readFileSync(path.join(dir, name));
    const text = bytes.toString("utf8");
    const lines = text.split("\n");
    const last = lines.pop();
    const trailerLine = lines.at(-1) ?? "";
    const trailer = JSON.parse(trailerLine) as { type: string; count: number; sha256: string };
    const body = bytes.subarray(0, bytes.length - Buffer.byteLength(trailerLine) - 1);
    const changes = lines.slice(1, -1).map((l) => JSON.parse(l) as ChangeLine);
    const f: PublishedFile = {
      name,
      client: parsed.client,
      seq: parsed.seq,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      size: bytes.length,
      header: JSON.parse(lines[0]!) as HeaderLine,
      changes,
      trailerOk:
        last === "" &&
        trailer.type === "end" &&
        trailer.count === changes.length &&
        trailer.sha256 === createHash("sha256").update(body).digest("hex"),
    };
    const list = files.get(parsed.client) ?? [];
    files.set(parsed.client, list);
    list.push(f);
  }
  for (const list of files.values()) list.sort((a, b) => a.seq - b.seq);
  return { files, others };
}
