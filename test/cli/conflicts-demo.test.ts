// `folder-sync conflicts` after a concurrent edit (both sides can find the losing edit, with its payload), and
// `folder-sync demo` (three clients converge: exit 0 and identical content hashes).
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ConflictRecord } from "../../src/apply/conflicts.js";
import { cleanup, hashOf, initClient, ok, tempDir, withApp } from "./helpers.js";

afterEach(cleanup);

describe("conflicts", () => {
  it("lists the losing edit of a concurrent change on both devices, with its payload", async () => {
    const dir = tempDir();
    const alice = await initClient(dir, "alice");
    const bob = await initClient(dir, "bob");
    withApp(alice, "alice", (app) => app.createMedia("m1", { title: "Intro" }));
    await ok(["sync", "--db", alice]);
    await ok(["sync", "--db", bob]);
    // Both retitle the same video offline; bob's edit is later, so it wins everywhere.
    withApp(alice, "alice", (app) => {
      app.stamp = () => "2030-01-01T10:00:00.000Z";
      app.update("Media", "m1", "title", "Alice's title");
    });
    withApp(bob, "bob", (app) => {
      app.stamp = () => "2030-01-01T10:00:05.000Z";
      app.update("Media", "m1", "title", "Bob's title");
    });
    await ok(["sync", "--db", alice]);
    expect((await ok(["sync", "--db", bob])).stdout).toContain("1 conflict");
    await ok(["sync", "--db", alice]);
    expect(hashOf(alice)).toBe(hashOf(bob));

    const onBob = JSON.parse((await ok(["conflicts", "--db", bob, "--json"])).stdout) as ConflictRecord[];
    expect(onBob).toEqual([
      expect.objectContaining({
        kind: "lost",
        entity: "Media",
        uuid: "m1",
        loserPayload: expect.objectContaining({ title: "Alice's title" }),
        loserKey: expect.objectContaining({ client: "alice" }),
        winnerKey: expect.objectContaining({ client: "bob" }),
        source: "alice-000000000002.ndjson",
      }),
    ]);
    const onAlice = JSON.parse((await ok(["conflicts", "--db", alice, "--json"])).stdout) as ConflictRecord[];
    expect(onAlice).toEqual([
      expect.objectContaining({
        kind: "replaced",
        uuid: "m1",
        loserPayload: expect.objectContaining({ title: "Alice's title" }),
      }),
    ]);
    const text = await ok(["conflicts", "--db", alice]);
    expect(text.stdout).toContain("replaced: Media m1");
    expect(text.stdout).toContain('"title":"Alice\'s title"');
    const one = await ok(["conflicts", "--db", bob, "--limit", "1"]);
    expect(one.stdout).toContain("1 conflict recorded:");
    expect((await ok(["conflicts", "--db", bob, "--limit", "0"], 2)).stderr).toContain(
      "--limit must be a positive whole number",
    );
  });
});

describe("demo", () => {
  it("exits 0 and prints identical content hashes for the three clients", async () => {
    const dir = tempDir();
    const r = await ok(["demo", "--dir", path.join(dir, "demo")]);
    const hashes = [...r.stdout.matchAll(/content hash ([0-9a-f]{16})/g)].map((m) => m[1]);
    expect(hashes).toHaveLength(3);
    expect(new Set(hashes).size).toBe(1);
    expect(r.stdout).toContain("All three databases hold identical synced content.");
  });
});
