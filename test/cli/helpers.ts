// Runs the built CLI (`node dist/cli/main.js`) as a process against temp folders and databases, as a user
// would, plus an app's own connection to write rows (the media preset, triggers filling sync_log).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import BetterSqlite3 from "better-sqlite3";
import { expect } from "vitest";
import { mediaConfig } from "../../src/config/media-preset.js";
import type { Database } from "../../src/db.js";
import { contentHash } from "../../src/sync/dump.js";
import { MediaApp } from "../helpers/media-app.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const MAIN = path.join(ROOT, "dist/cli/main.js");

const cleanups: Array<() => Promise<void> | void> = [];

/** Call from afterEach: stops processes, closes connections, removes temp directories. */
export async function cleanup(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
}

export function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "sfs-cli-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `folder-sync ...args` to completion. */
export function cli(args: readonly string[], options: { cwd?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      cwd: options.cwd ?? ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the CLI and expects exit code `code`; returns the result for more checks. */
export async function ok(args: readonly string[], code = 0): Promise<Result> {
  const r = await cli(args);
  expect(r.code, `folder-sync ${args.join(" ")}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(code);
  return r;
}

/** Sets up `<dir>/<id>.db` with the media preset, syncing through `<dir>/shared`. */
export async function initClient(dir: string, id: string): Promise<string> {
  const db = path.join(dir, `${id}.db`);
  await ok([
    "init",
    "--db",
    db,
    "--folder",
    path.join(dir, "shared"),
    "--preset",
    "media",
    "--client-id",
    id,
  ]);
  return db;
}

/** The app's own connection to a media-preset database, as an app would hold it. */
export function openApp(dbPath: string, clientId: string): MediaApp {
  const db = new BetterSqlite3(dbPath) as unknown as Database;
  db.pragma("busy_timeout = 10000");
  cleanups.push(() => {
    db.close();
  });
  return new MediaApp(db, clientId);
}

/** Writes with a short-lived connection that is closed at once (so the file can be copied afterwards). */
export function withApp(dbPath: string, clientId: string, write: (app: MediaApp) => void): void {
  const db = new BetterSqlite3(dbPath) as unknown as Database;
  try {
    db.pragma("busy_timeout = 10000");
    write(new MediaApp(db, clientId));
  } finally {
    db.close();
  }
}

export function hashOf(dbPath: string): string {
  const db = new BetterSqlite3(dbPath, { readonly: true }) as unknown as Database;
  try {
    return contentHash(db, mediaConfig());
  } finally {
    db.close();
  }
}

export async function eventually(check: () => boolean, ms = 15_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A running `folder-sync watch`. */
export class WatchProcess {
  output = "";
  exit: Promise<number | null>;
  private exited = false;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on("data", (d: Buffer) => {
      this.output += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      this.output += d.toString();
    });
    this.exit = new Promise((resolve) =>
      child.on("close", (code) => {
        this.exited = true;
        resolve(code);
      }),
    );
  }

  static async start(db: string, extra: readonly string[] = []): Promise<WatchProcess> {
    const child = spawn(process.execPath, [MAIN, "watch", "--db", db, ...extra], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const w = new WatchProcess(child);
    cleanups.push(async () => {
      if (!w.exited) {
        child.kill("SIGKILL");
        await w.exit;
      }
    });
    await w.waitFor("watching ");
    return w;
  }

  async waitFor(text: string | RegExp, ms = 15_000): Promise<void> {
    const seen = () => (typeof text === "string" ? this.output.includes(text) : text.test(this.output));
    const deadline = Date.now() + ms;
    while (!seen()) {
      if (this.exited) throw new Error(`watch exited before printing ${text}:\n${this.output}`);
      if (Date.now() > deadline)
        throw new Error(`watch did not print ${text} within ${ms} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    this.child.kill(signal);
    return this.exit;
  }
}
