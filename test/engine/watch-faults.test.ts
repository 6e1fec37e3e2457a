// watch() under a hostile folder: a watcher that fails falls back to the periodic rescan (and status says
// so); a folder marker that disappears pauses the watch until it is back; spurious events change nothing;
// and a client whose clock is an hour behind still wins with an edit made after seeing a newer one.
import { afterEach, describe, expect, it } from "vitest";
import type { SyncEvents } from "../../src/sync/sync-manager.js";
import { Cluster } from "../helpers/cluster.js";
import { FaultyTransport } from "../helpers/faults.js";

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

function events(m: { sync: { on: (e: keyof SyncEvents, f: (...a: unknown[]) => void) => unknown } }) {
  const seen: string[] = [];
  for (const e of ["paused", "resumed", "error", "applied", "exported"] as const)
    m.sync.on(e, () => seen.push(e));
  return seen;
}

describe("watch under faults", () => {
  it("a watcher that fails (EMFILE) falls back to the periodic rescan, and status says so", async () => {
    // Bob's watcher fails at once (too many open files) and never reports a change.
    cluster = await Cluster.create(["alice", "bob"], [], {
      rescanIntervalMs: 100,
      wrapTransport: (t, id) => (id === "bob" ? new FaultyTransport(t).failWatch("EMFILE") : t),
    });
    const bob = cluster.members[1]!;
    const seen = events(bob);
    await bob.sync.watch();
    cluster.write(0, (app) => app.createMedia("m1", { title: "Intro" }));
    await cluster.sync(0);
    cluster.deliver(1, [0]);
    await eventually(() => bob.app.has("Media", "m1"));
    const status = await bob.sync.status();
    expect(status.watcher).toBe("rescan-only");
    expect(status.watcherProblem).toContain("EMFILE");
    expect(seen).toContain("error");
  });

  it("a missing folder marker pauses the watch, nothing is read or written, and it resumes when back", async () => {
    cluster = await Cluster.create(["alice", "bob"]);
    const bob = cluster.members[1]!;
    const seen = events(bob);
    await bob.sync.watch();
    bob.transport.removeMarker(); // the stick is pulled
    cluster.write(0, (app) => app.createMedia("m1", { title: "Intro" }));
    await cluster.sync(0);
    cluster.deliver(1, [0]);
    await eventually(() => seen.includes("paused"));
    expect(bob.app.has("Media", "m1")).toBe(false);
    bob.transport.setMarkerRaw(JSON.stringify({ format: 1, id: "cluster-folder" }));
    await eventually(() => seen.includes("resumed") && bob.app.has("Media", "m1"));
  });

  it("repeated and spurious watch events change nothing", async () => {
    cluster = await Cluster.create(["alice", "bob"]);
    cluster.write(0, (app) => app.createMedia("m1", { title: "Intro" }));
    await cluster.settle();
    const bob = cluster.members[1]!;
    const before = JSON.stringify(cluster.dumps()[1]);
    const files = bob.transport.snapshot().size;
    await bob.sync.watch();
    for (let i = 0; i < 20; i++) cluster.redeliver(1, i); // each put fires a watch event
    await new Promise((r) => setTimeout(r, 300));
    expect(JSON.stringify(cluster.dumps()[1])).toBe(before);
    expect(bob.transport.snapshot().size).toBe(files);
  });
});

describe("clock skew", () => {
  it("a client an hour behind wins with an edit made after ingesting a newer one, and status warns", async () => {
    cluster = await Cluster.create(["alice", "bob"], [0, -3_600_000]);
    cluster.write(0, (app) => app.createMedia("m1", { title: "Alice's" }));
    await cluster.settle();
    // Bob, an hour behind, sees alice's edit and then edits: his app stamps an hour earlier than alice's.
    cluster.write(1, (app) => app.update("Media", "m1", "title", "Bob's, made later"));
    await cluster.settle();
    for (const m of cluster.members)
      expect(m.db.prepare("SELECT title FROM Media").get()).toEqual({ title: "Bob's, made later" });
    const status = await cluster.members[1]!.sync.status();
    const alice = status.peers.find((p) => p.client === "alice");
    expect(alice?.clockSkewWarning).toMatch(/ahead of this machine's clock/);
  });
});
