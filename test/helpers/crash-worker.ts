// A child process for the crash test (test/crash/crash.test.ts): it opens a synced database and runs
// `synchronize()` pass after pass, so the test can SIGKILL it at random points of ingest and export.
//
//   node --import tsx test/helpers/crash-worker.ts <dbPath> <rounds|forever> [options]
//
// Options:
//   --max-file-changes N   export at most N changes per file (more files, more publish steps per pass)
//   --kill-at POINT:K      SIGKILL itself at the K-th (1-based) occurrence of POINT, one of
//                            read             after a peer's file was read, before it is applied
//                            applied          after a peer file's apply transaction committed
//                            publish-temp     while publishing: a temp file is written, the rename never happens
//                            publish-renamed  after the rename, before the export records the file as published
//                            exported         after a pass published its files
//                            lock-owner       after the lock directory is made, before its owner record is written
//                            lock-release     at close, after the owner record is removed, before the lock directory
//
// Every peer change it applies is also recorded in the database's `crash_applied` table, in the same transaction
// (auditApplies in test/crash/harness.ts), so the test can tell a change applied twice.
//
// Every line on stdout is one event: `ready <pid>`, `list`, `read <name>`, `apply <client> <seq>`,
// `publish <name>`, `published <name>`, `pass <n> applied=<a> exported=<e>`, `done`, or `error <code> <message>`
// (exit 2) / `failed <json>` (a pass that reported a stopped stream, exit 3). stdout to a pipe is synchronous on
// Linux and macOS, so a line printed before a kill reaches the parent.
import { randomBytes } from "node:crypto";
import fs, { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import type { Database } from "../../src/db.js";
import { readSettings } from "../../src/sync/settings.js";
import { SyncManager } from "../../src/sync/sync-manager.js";
import { FolderTransport } from "../../src/transport/folder-transport.js";
import { CHANGES_DIR, parseChangeFileName, tempFileName } from "../../src/transport/names.js";
import type { Listing, SyncTransport, Unsubscribe, WatchHandlers } from "../../src/transport/transport.js";
import { auditApplies } from "../crash/harness.js";

type KillPoint =
  | "read"
  | "applied"
  | "publish-temp"
  | "publish-renamed"
  | "exported"
  | "lock-owner"
  | "lock-release";
const KILL_POINTS: readonly KillPoint[] = [
  "read",
  "applied",
  "publish-temp",
  "publish-renamed",
  "exported",
  "lock-owner",
  "lock-release",
];

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function die(): never {
  process.kill(process.pid, "SIGKILL");
  // Not reached; SIGKILL cannot be caught.
  throw new Error("still alive after SIGKILL");
}

function parseArgs(argv: readonly string[]) {
  const [dbPath, roundsArg] = argv;
  if (!dbPath || !roundsArg) {
    process.stderr.write(
      "usage: crash-worker.ts <dbPath> <rounds|forever> [--max-file-changes N] [--kill-at POINT:K]\n",
    );
    process.exit(64);
  }
  const rounds = roundsArg === "forever" ? Number.POSITIVE_INFINITY : Number(roundsArg);
  let maxFileChanges: number | undefined;
  let killAt: { point: KillPoint; k: number } | undefined;
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--max-file-changes") maxFileChanges = Number(argv[++i]);
    else if (a === "--kill-at") {
      const [point, k] = (argv[++i] ?? "").split(":");
      if (!KILL_POINTS.includes(point as KillPoint)) throw new Error(`unknown kill point ${point}`);
      killAt = { point: point as KillPoint, k: Number(k ?? 1) };
    } else throw new Error(`unknown argument ${a}`);
  }
  return { dbPath, rounds, maxFileChanges, killAt };
}

/** Counts occurrences of kill points and dies at the chosen one. */
class Killer {
  private readonly seen = new Map<KillPoint, number>();
  constructor(private readonly at: { point: KillPoint; k: number } | undefined) {}
  hit(point: KillPoint): boolean {
    const n = (this.seen.get(point) ?? 0) + 1;
    this.seen.set(point, n);
    return this.at?.point === point && this.at.k === n;
  }
}

/** The folder transport, reporting each step on stdout and dying at the chosen kill point. */
class TracingTransport implements SyncTransport {
  readonly location: string;
  constructor(
    private readonly inner: FolderTransport,
    private readonly killer: Killer,
  ) {
    this.location = inner.location;
  }
  readMarker() {
    return this.inner.readMarker();
  }
  ensureMarker(fresh: { format: number; id: string }) {
    return this.inner.ensureMarker(fresh);
  }
  async list(): Promise<Listing> {
    say("list");
    return this.inner.list();
  }
  async read(name: string): Promise<Uint8Array> {
    const bytes = await this.inner.read(name);
    say(`read ${name}`);
    if (this.killer.hit("read")) die();
    return bytes;
  }
  stream(name: string, start?: number): AsyncIterable<Uint8Array> {
    say(`read ${name}`);
    return this.inner.stream(name, start);
  }
  async publish(name: string, bytes: Uint8Array): Promise<void> {
    say(`publish ${name}`);
    if (this.killer.hit("publish-temp")) {
      // What FolderTransport.publish leaves when killed between writing its temp file and the rename.
      const parsed = parseChangeFileName(name)!;
      const temp = path.join(
        this.location,
        CHANGES_DIR,
        tempFileName(parsed.client, parsed.seq, randomBytes(8).toString("hex")),
      );
      const fd = openSync(temp, "wx");
      writeSync(fd, bytes);
      fsyncSync(fd);
      closeSync(fd);
      die();
    }
    await this.inner.publish(name, bytes);
    say(`published ${name}`);
    if (this.killer.hit("publish-renamed")) die();
  }
  checkWritable(): Promise<void> {
    return this.inner.checkWritable();
  }
  unpublish(name: string): Promise<void> {
    return this.inner.unpublish(name);
  }
  removeOwnTempFiles(client: string): Promise<number> {
    return this.inner.removeOwnTempFiles(client);
  }
  watch(handlers: WatchHandlers): Promise<Unsubscribe> {
    return this.inner.watch(handlers);
  }
}

/**
 * The lock's owner record is written and removed with node:fs (src/sync/lock.ts); patching fs and syncing the
 * builtin ESM exports lets the worker die exactly between the lock directory and its owner record.
 */
function hookLockFiles(killer: Killer): void {
  const isOwnerRecord = (p: unknown) => typeof p === "string" && /\.lock\/owner\.json(\.tmp)?$/.test(p);
  const { writeFileSync, rmSync } = fs;
  fs.writeFileSync = ((file: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
    if (isOwnerRecord(file) && killer.hit("lock-owner")) die();
    return (writeFileSync as (...a: unknown[]) => void)(file, ...rest);
  }) as typeof fs.writeFileSync;
  fs.rmSync = ((file: fs.PathLike, ...rest: unknown[]) => {
    (rmSync as (...a: unknown[]) => void)(file, ...rest);
    if (isOwnerRecord(file) && killer.hit("lock-release")) die();
  }) as typeof fs.rmSync;
  syncBuiltinESMExports();
}

async function main(): Promise<void> {
  const { dbPath, rounds, maxFileChanges, killAt } = parseArgs(process.argv.slice(2));
  const probe = new BetterSqlite3(dbPath, { readonly: true, fileMustExist: true }) as unknown as Database;
  let folder: string;
  try {
    folder = readSettings(probe, dbPath).folder;
  } finally {
    probe.close();
  }
  const killer = new Killer(killAt);
  if (killAt?.point.startsWith("lock-")) hookLockFiles(killer);
  const transport = new TracingTransport(new FolderTransport(folder), killer);
  const sync = await SyncManager.open({
    database: dbPath,
    transport,
    ...(maxFileChanges ? { maxFileChanges } : {}),
  });
  auditApplies(sync);
  sync.on("applied", ({ client, seq }) => {
    say(`apply ${client} ${seq}`);
    if (killer.hit("applied")) die();
  });
  sync.on("exported", () => {
    if (killer.hit("exported")) die();
  });
  say(`ready ${process.pid}`);
  try {
    for (let i = 1; i <= rounds; i++) {
      const report = await sync.synchronize();
      if (report.failed) {
        say(
          `failed ${JSON.stringify({ peers: report.peers.filter((p) => p.stopped), export: report.export.stopped })}`,
        );
        process.exitCode = 3;
        return;
      }
      say(`pass ${i} applied=${report.applied} exported=${report.export.exportedChanges}`);
    }
  } finally {
    await sync.close();
  }
  say("done");
}

main().catch((error: unknown) => {
  const e = error as { code?: string; message?: string };
  say(`error ${e.code ?? "UNKNOWN"} ${(e.message ?? String(error)).replace(/\n/g, " ")}`);
  process.exitCode = 2;
});
