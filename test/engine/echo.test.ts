// Applying a peer's changes never re-exports them, and local changes made on peer-created rows are exported
// even though the origin's link triggers log the Media row's (the peer's) client_id.
import { afterEach, describe, expect, it } from "vitest";
import { Cluster } from "../helpers/cluster.js";

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe("echo suppression", () => {
  it("applying a peer's changes produces no file", async () => {
    cluster = await Cluster.create(["alice", "bob"]);
    cluster.write(0, (app) => {
      app.createMedia("m1", { title: "Intro" });
      app.createKeyword("k1", "python");
      app.link("m1", "k1");
    });
    await cluster.sync(0);
    cluster.deliver(1, [0]);
    const bob = cluster.members[1]!;
    const report = await bob.sync.synchronize();
    expect(report.applied).toBe(3);
    // The apply fired bob's triggers (sync_log rows exist) but nothing was captured or published.
    expect(bob.app.syncLogCount()).toBeGreaterThan(0);
    expect(report.export.files).toEqual([]);
    expect(bob.db.prepare("SELECT count(*) AS n FROM sfs_captured").get()).toEqual({ n: 0 });
    const again = await bob.sync.synchronize();
    expect(again.export.files).toEqual([]);
    expect([...bob.transport.snapshot().keys()].filter((n) => n.startsWith("bob-"))).toEqual([]);
  });

  it("a local link on a peer-created Media row is exported", async () => {
    cluster = await Cluster.create(["alice", "bob"]);
    cluster.write(0, (app) => app.createMedia("m1", { title: "Intro" }));
    await cluster.sync(0);
    cluster.deliver(1, [0]);
    await cluster.sync(1);
    cluster.write(1, (app) => {
      app.createKeyword("k1", "python");
      app.link("m1", "k1");
    });
    // The link's sync_log row carries alice's client_id (the Media row's), as in the origin's triggers.
    const bob = cluster.members[1]!;
    const logged = bob.db.prepare("SELECT client_id FROM sync_log WHERE operation = 'link'").get() as {
      client_id: string;
    };
    expect(logged.client_id).toBe("alice");
    await cluster.sync(1);
    const lines = cluster
      .allFiles()
      .filter((f) => f.header.client === "bob")
      .flatMap((f) => f.changes);
    expect(lines.map((l) => l.op)).toEqual(["create", "link"]);
    expect(lines[1]!.client).toBe("bob");
    await cluster.settle();
    const alice = cluster.members[0]!;
    expect(alice.db.prepare("SELECT count(*) AS n FROM MediaKeywords").get()).toEqual({ n: 1 });
  });

  it("a local change made while a pass applies a peer's file is exported, and the echo is not", async () => {
    cluster = await Cluster.create(["alice", "bob"]);
    cluster.write(0, (app) => app.createMedia("m1", { title: "Intro" }));
    await cluster.sync(0);
    cluster.deliver(1, [0]);
    await cluster.sync(1, () => cluster!.write(1, (app) => app.createKeyword("k1", "during")));
    const bobLines = cluster
      .allFiles()
      .filter((f) => f.header.client === "bob")
      .flatMap((f) => f.changes);
    expect(bobLines.map((l) => `${l.entity}:${l.uuid}`)).toEqual(["Keywords:k1"]);
  });
});
