// `folder-sync status` and `folder-sync doctor`: what status --json holds (files ready but not applied, a
// waiting peer and why), doctor healthy with junk names present (exit 0, naming them), and doctor on a
// copied database (exit 1, explaining the way out) and on a missing folder marker.
import { copyFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { SyncStatus } from "../../src/sync/status.js";
import { cleanup, cli, initClient, ok, tempDir, withApp } from "./helpers.js";

afterEach(cleanup);

type StatusJson = SyncStatus & {
  database: string;
  peers: Array<SyncStatus["peers"][number] & { ready: number }>;
  junk: Array<{ name: string; kind: string }>;
  folderProblem?: { code: string; message: string };
};

async function status(db: string): Promise<StatusJson> {
  return JSON.parse((await ok(["status", "--db", db, "--json"])).stdout) as StatusJson;
}

describe("status", () => {
  it("--json names the client, cursors, published and pending changes, and each peer's files and waits", async () => {
    const dir = tempDir();
    const alice = await initClient(dir, "alice");
    const bob = await initClient(dir, "bob");
    for (const uuid of ["m1", "m2", "m3"]) {
      withApp(alice, "alice", (app) => app.createMedia(uuid, { title: uuid }));
      await ok(["sync", "--db", alice]);
    }
    withApp(alice, "alice", (app) => app.createKeyword("k1", "unpublished"));
    const a = await status(alice);
    expect(a).toMatchObject({
      clientId: "alice",
      folder: path.join(dir, "shared"),
      database: alice,
      publishedFiles: 3,
      exportCursor: 3,
      pendingLocalChanges: 1,
      pendingRegisters: 0,
      conflicts: 0,
      peers: [],
      junk: [],
    });
    expect(a.folderId).toMatch(/^[0-9a-f]+$/);

    // status checks without applying: bob's three files are ready, none applied.
    expect((await status(bob)).peers).toEqual([
      expect.objectContaining({ client: "alice", seq: 0, ready: 3, state: "up-to-date" }),
    ]);
    renameSync(
      path.join(dir, "shared", "changes", "alice-000000000002.ndjson"),
      path.join(dir, "aside.ndjson"),
    );
    const b = await status(bob);
    expect(b.peers[0]).toMatchObject({ ready: 1, state: "waiting", waiting: { seq: 2, reason: "gap" } });
    const text = await ok(["status", "--db", bob]);
    expect(text.stdout).toContain("Client:     bob");
    expect(text.stdout).toContain("alice waits at #2: a file has not arrived yet");
  });

  it("shows a missing folder marker instead of failing", async () => {
    const dir = tempDir();
    const alice = await initClient(dir, "alice");
    renameSync(path.join(dir, "shared", "folder-sync.json"), path.join(dir, "marker.json"));
    const s = await status(alice);
    expect(s.folderProblem?.code).toBe("FOLDER_MARKER_MISSING");
    expect((await ok(["status", "--db", alice])).stdout).toContain("PROBLEM [FOLDER_MARKER_MISSING]");
  });
});

describe("doctor", () => {
  it("is healthy (exit 0) with junk names in changes/, naming each by kind", async () => {
    const dir = tempDir();
    const alice = await initClient(dir, "alice");
    const bob = await initClient(dir, "bob");
    withApp(alice, "alice", (app) => app.createMedia("m1", { title: "Intro" }));
    await ok(["sync", "--db", alice]);
    await ok(["sync", "--db", bob]);
    const changes = path.join(dir, "shared", "changes");
    const conflictCopy = "alice-000000000001.sync-conflict-20260101-101010-ABCDEFG.ndjson";
    writeFileSync(path.join(changes, conflictCopy), "whatever");
    writeFileSync(path.join(changes, ".DS_Store"), "");
    const r = await ok(["doctor", "--db", bob]);
    expect(r.stdout).toContain("2 names in changes/ are not changeset files and are ignored (not a failure)");
    expect(r.stdout).toContain(`"${conflictCopy}"`);
    expect(r.stdout).toContain("syncthing-conflict (1): Syncthing conflict copies");
    expect(r.stdout).toContain('".DS_Store"');
    expect(r.stdout).toContain("os (1):");
    expect(r.stdout).not.toContain("FAIL");
    expect(r.stdout).toMatch(/Healthy/);
  });

  it("fails (exit 1) on a copied database writing as the same client, and explains the way out", async () => {
    const dir = tempDir();
    const alice = await initClient(dir, "alice");
    withApp(alice, "alice", (app) => app.createMedia("m1", { title: "Intro" }));
    await ok(["sync", "--db", alice]);
    const copy = path.join(dir, "alice-copy.db");
    copyFileSync(alice, copy);
    withApp(alice, "alice", (app) => app.createMedia("m2", { title: "From the original" }));
    withApp(copy, "alice", (app) => app.createMedia("m3", { title: "From the copy" }));
    await ok(["sync", "--db", alice]);
    const second = await cli(["sync", "--db", copy]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain("export stopped at changes/alice-000000000002.ndjson [COPIED_DATABASE]");
    const r = await cli(["doctor", "--db", copy]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "FAIL  export is stopped at changes/alice-000000000002.ndjson [COPIED_DATABASE]",
    );
    expect(r.stdout).toContain("Two databases write as alice");
    expect(r.stdout).toContain(
      `folder-sync init --db ${copy} --folder ${path.join(dir, "shared")} --client-id NEW --force`,
    );
    // The way out works: the copy gets its own id and both sync cleanly.
    await ok([
      "init",
      "--db",
      copy,
      "--folder",
      path.join(dir, "shared"),
      "--client-id",
      "alice-2",
      "--force",
    ]);
    await ok(["sync", "--db", copy]);
    await ok(["sync", "--db", alice]);
    await ok(["doctor", "--db", copy]);
    await ok(["doctor", "--db", alice]);
  });

  it("fails (exit 1) when the folder marker is missing, saying what to do", async () => {
    const dir = tempDir();
    const alice = await initClient(dir, "alice");
    renameSync(path.join(dir, "shared", "folder-sync.json"), path.join(dir, "marker.json"));
    const r = await cli(["doctor", "--db", alice]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("FAIL  the folder cannot be used [FOLDER_MARKER_MISSING]");
    expect(r.stdout).toContain("What to do: mount the drive or share");
  });

  it("fails (exit 1) on a peer's file in an unknown format, advising an upgrade", async () => {
    const dir = tempDir();
    await initClient(dir, "alice");
    const bob = await initClient(dir, "bob");
    const name = "alice-000000000001.ndjson";
    const header = `${JSON.stringify({ type: "header", format: 9, client: "alice", seq: 1 })}\n`;
    const { createHash } = await import("node:crypto");
    const sha = createHash("sha256").update(header).digest("hex");
    writeFileSync(
      path.join(dir, "shared", "changes", name),
      `${header}${JSON.stringify({ type: "end", count: 0, sha256: sha })}\n`,
    );
    const r = await cli(["doctor", "--db", bob]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAIL  alice's stream is stopped at changes/${name} [UNKNOWN_FORMAT]`);
    expect(r.stdout).toContain("Upgrade folder-sync on this device");
  });
});
