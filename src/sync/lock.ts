// One sync at a time per database: an in-process mutex plus a cross-process lock (proper-lockfile) on the
// database file. A lock left by a process that died (SIGKILL, power loss) on this host is taken over at once
// instead of after the stale timeout, since its owner's pid is recorded and checked.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import lockfile from "proper-lockfile";
import { SyncError } from "./errors.js";

export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise((r) => {
      release = r;
    });
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

export interface DatabaseLock {
  release(): Promise<void>;
}

type Owner = "alive" | "dead" | "unknown";

function lockOwner(lockDir: string): Owner {
  let owner: { pid: number; host: string };
  try {
    owner = JSON.parse(readFileSync(`${lockDir}/owner.json`, "utf8")) as { pid: number; host: string };
  } catch {
    return "unknown";
  }
  if (owner.host !== hostname() || owner.pid === process.pid) return "alive";
  try {
    process.kill(owner.pid, 0);
    return "alive";
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH" ? "dead" : "alive";
  }
}

/** A live owner writes its record (or removes it on release) within milliseconds of taking the lock. */
const OWNER_RECORD_GRACE_MS = 1500;

/** Locks `dbPath` for this process; throws SyncError LOCKED when another live process holds it. */
export async function lockDatabase(dbPath: string): Promise<DatabaseLock> {
  const lockDir = `${dbPath}.lock`;
  const attempt = () =>
    lockfile.lock(dbPath, {
      realpath: false,
      stale: 30_000,
      update: 10_000,
      retries: 0,
      onCompromised: () => {
        // Another process took the lock over after our updates stalled; the next pass will say so.
      },
    });
  let release: () => Promise<void>;
  try {
    release = await attempt();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ELOCKED") throw error;
    let owner = lockOwner(lockDir);
    if (owner === "unknown") {
      // A process killed between taking the lock and recording itself (or while releasing) leaves no record.
      await new Promise((r) => setTimeout(r, OWNER_RECORD_GRACE_MS));
      owner = lockOwner(lockDir);
      if (owner === "unknown" && existsSync(lockDir)) owner = "dead";
    }
    if (owner === "alive")
      throw new SyncError(
        "LOCKED",
        `${dbPath} is being synced by another process (lock ${lockDir}). Wait for it to finish, or stop it (folder-sync watch).`,
        { cause: error },
      );
    rmSync(lockDir, { recursive: true, force: true });
    try {
      release = await attempt();
    } catch (again) {
      throw new SyncError("LOCKED", `${dbPath} is being synced by another process (lock ${lockDir}).`, {
        cause: again,
      });
    }
  }
  try {
    // Written whole under a temporary name, so a reader never sees half a record.
    writeFileSync(`${lockDir}/owner.json.tmp`, JSON.stringify({ pid: process.pid, host: hostname() }));
    renameSync(`${lockDir}/owner.json.tmp`, `${lockDir}/owner.json`);
  } catch {
    // The owner record only speeds up recovery after a crash; the lock itself holds without it.
  }
  return {
    release: async () => {
      try {
        rmSync(`${lockDir}/owner.json`, { force: true });
        rmSync(`${lockDir}/owner.json.tmp`, { force: true });
        await release();
      } catch {
        // Already released or compromised: nothing left to undo.
      }
    },
  };
}
