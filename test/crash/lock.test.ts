// The cross-process lock after a SIGKILL (DESIGN section 7; src/sync/lock.ts): a worker killed while it holds the
// lock leaves `<db>.lock` behind, and the next process must take it over at once instead of failing with LOCKED
// until the lock goes stale (30 s). The worker dies at exact points of the lock's life (test/helpers/crash-worker.ts
// --kill-at), including the two windows where the lock directory exists without its owner record.
import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { appWrite, type Setup, setupReplicas, startWorker } from "./harness.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<Setup> {
  const s = await setupReplicas(["alice"]);
  cleanups.push(() => s.dispose());
  appWrite(s.replicas[0]!, (app) => app.createMedia("m1", { title: "one" }));
  return s;
}

async function run(dbPath: string, args: string[]) {
  const w = startWorker(dbPath, args);
  cleanups.push(() => {
    if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
  });
  const exit = await w.exited;
  return { ...exit, lines: w.lines, stderr: w.stderr() };
}

describe("crash: the database lock after SIGKILL", () => {
  it("a lock whose owner was killed while syncing is taken over at once", async () => {
    const { replicas } = await setup();
    const db = replicas[0]!.dbPath;
    const killed = await run(db, ["3", "--kill-at", "publish-renamed:1"]);
    expect(killed.signal, killed.lines.join("\n") + killed.stderr).toBe("SIGKILL");
    expect(existsSync(`${db}.lock/owner.json`)).toBe(true);
    const next = await run(db, ["1"]);
    expect(next.lines.at(-1), next.lines.join("\n") + next.stderr).toBe("done");
    expect(existsSync(`${db}.lock`)).toBe(false);
  });

  // Killed after proper-lockfile made `<db>.lock` but before lock.ts wrote owner.json into it.
  it("a lock killed before its owner record was written is taken over at once", {
    timeout: 60_000,
  }, async () => {
    const { replicas } = await setup();
    const db = replicas[0]!.dbPath;
    const killed = await run(db, ["1", "--kill-at", "lock-owner:1"]);
    expect(killed.signal, killed.lines.join("\n") + killed.stderr).toBe("SIGKILL");
    expect(existsSync(`${db}.lock`)).toBe(true);
    expect(existsSync(`${db}.lock/owner.json`)).toBe(false);
    const next = await run(db, ["1"]);
    expect(
      next.lines.find((l) => l.startsWith("error")),
      next.stderr,
    ).toBeUndefined();
    expect(next.lines.at(-1)).toBe("done");
  });

  // Killed in close(), after lock.ts removed owner.json and before proper-lockfile removed `<db>.lock`.
  it("a lock killed while it was being released is taken over at once", { timeout: 60_000 }, async () => {
    const { replicas } = await setup();
    const db = replicas[0]!.dbPath;
    const killed = await run(db, ["1", "--kill-at", "lock-release:1"]);
    expect(killed.signal, killed.lines.join("\n") + killed.stderr).toBe("SIGKILL");
    expect(
      killed.lines.some((l) => l.startsWith("pass 1 ")),
      killed.lines.join("\n"),
    ).toBe(true);
    expect(existsSync(`${db}.lock`)).toBe(true);
    expect(existsSync(`${db}.lock/owner.json`)).toBe(false);
    const next = await run(db, ["1"]);
    expect(
      next.lines.find((l) => l.startsWith("error")),
      next.stderr,
    ).toBeUndefined();
    expect(next.lines.at(-1)).toBe("done");
  });
});
