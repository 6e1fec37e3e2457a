// `folder-sync sync`: the one-line summary and --json, waiting on a gap (exit 0), a peer's corrupt file
// (exit 1, naming the file), a missing folder marker (exit 1), the lock held by `watch` (exit 3), and
// progress lines on a long pass.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { SyncReport } from "../../src/sync/report.js";
import { cleanup, cli, hashOf, initClient, ok, tempDir, WatchProcess, withApp } from "./helpers.js";

afterEach(cleanup);

describe("sync", () => {
  it("prints a one-line summary, or the report as JSON", async () => {
    const dir = tempDir();
    const alice = await initClient(dir, "alice");
    const bob = await initClient(dir, "bob");
    withApp(alice, "alice", (app) => {
      app.createMedia("m1", { title: "Intro" });
      app.createKeyword("k1", "sqlite");
    });
    const a = await ok(["sync", "--db", alice]);
    expect(a.stdout.trim()).toBe(
      "applied 0 changes; 0 conflicts; exported 2 changes (alice-000000000001.ndjson)",
    );
    expect(a.stderr).toBe("");
    const b = await ok(["sync", "--db", bob, "--json"]);
    const report = JSON.parse(b.stdout) as SyncReport;
    expect(report).toMatchObject({ applied: 2, conflicts: 0, failed: false, junk: [] });
    expect(report.peers).toEqual([expect.objectContaining({ client: "alice", seq: 1, state: "up-to-date" })]);
    expect(hashOf(alice)).toBe(hashOf(bob));
  });

  it("waiting on a gap is success: the summary says who waits and why", async () => {
    const dir = tempDir();
    const alice = await initClient(dir, "alice");
    const bob = await initClient(dir, "bob");
    for (const uuid of ["m1", "m2"]) {
      withApp(alice, "alice", (app) => app.createMedia(uuid, { title: uuid }));
      await ok(["sync", "--db", alice]);
    }
    const first = path.join(dir, "shared", "changes", "alice-000000000001.ndjson");
    renameSync(first, path.join(dir, "aside.ndjson"));
    writeFileSync(path.join(dir, "shared", "changes", ".DS_Store"), "");
    const r = await ok(["sync", "--db", bob]);
    expect(r.stdout).toContain("alice waits at #1: a file has not arrived yet");
    expect(r.stdout).toContain("1 junk name skipped (1 os)");
    renameSync(path.join(dir, "aside.ndjson"), first);
    expect((await ok(["sync", "--db", bob])).stdout).toContain("applied 2 changes from 2 files");
  });

  it("exits 1 when a peer's file is corrupt, naming the file and the way out", async () => {
    const dir = tempDir();
    const alice = await initClient(dir, "alice");
    const bob = await initClient(dir, "bob");
    withApp(alice, "alice", (app) => app.createMedia("m1", { title: "Intro to SQLite" }));
    await ok(["sync", "--db", alice]);
    const file = path.join(dir, "shared", "changes", "alice-000000000001.ndjson");
    const bytes = readFileSync(file);
    const at = bytes.indexOf("Intro to SQLite");
    bytes[at] = "J".charCodeAt(0); // one byte flipped in a change line
    writeFileSync(file, bytes);
    const r = await cli(["sync", "--db", bob]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("alice STOPPED at changes/alice-000000000001.ndjson");
    expect(r.stderr).toContain(
      "folder-sync: alice's stream stopped at changes/alice-000000000001.ndjson [CHECKSUM_MISMATCH]",
    );
    expect(r.stderr).toContain("what to do:");
    const json = await cli(["sync", "--db", bob, "--json"]);
    expect(json.code).toBe(1);
    expect((JSON.parse(json.stdout) as SyncReport).failed).toBe(true);
  });

  it("exits 1 and writes nothing when the folder marker is missing", async () => {
    const dir = tempDir();
    const alice = await initClient(dir, "alice");
    withApp(alice, "alice", (app) => app.createMedia("m1", { title: "Intro" }));
    rmSync(path.join(dir, "shared"), { recursive: true });
    const r = await cli(["sync", "--db", alice]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^folder-sync: .*shared has no folder-sync\.json/);
    expect(existsSync(path.join(dir, "shared"))).toBe(false);
  });

  it("exits 3 while another process (watch) holds the lock", async () => {
    const dir = tempDir();
    const alice = await initClient(dir, "alice");
    const watch = await WatchProcess.start(alice);
    const r = await cli(["sync", "--db", alice]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("is being synced by another process");
    // Read-only commands take no lock: they work while watch runs.
    await ok(["status", "--db", alice]);
    expect(await watch.stop()).toBe(0);
    await ok(["sync", "--db", alice]);
  });

  it("prints progress lines (plain, not a terminal) on a pass with thousands of changes", async () => {
    const dir = tempDir();
    const alice = await initClient(dir, "alice");
    const bob = await initClient(dir, "bob");
    withApp(alice, "alice", (app) => {
      app.db.exec("BEGIN");
      for (let i = 0; i < 2500; i++) app.createKeyword(`k${i}`, `keyword ${i}`);
      app.db.exec("COMMIT");
    });
    await ok(["sync", "--db", alice]);
    const r = await ok(["sync", "--db", bob, "--json"]);
    expect(r.stderr).toContain("applying: 2,500 changes from 1 file (last: alice #1)");
    expect((JSON.parse(r.stdout) as SyncReport).applied).toBe(2500);
  });
});
