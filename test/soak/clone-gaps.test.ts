// Two cases of a copied database (two databases writing as one client id) that the documented way out (the copy
// takes a new client id: `init --client-id NEW --force`, test/engine/copied-database.test.ts) once left stopped,
// found by the fault soak: a peer that had applied the copy's file (it now re-applies from the file the folder
// replaced, src/sync/ingest.ts findReplaced), and a copy that had published past the original (it now removes its
// own diverged old-id files, src/sync/rename-client.ts unpublishDiverged).
import { afterEach, describe, expect, it } from "vitest";
import { Cluster } from "../helpers/cluster.js";
import { type Fork, forkMember, giveNewClientId } from "../helpers/faults.js";

let cluster: Cluster | undefined;
const forks: Fork[] = [];
afterEach(async () => {
  for (const f of forks.splice(0)) await f.close();
  await cluster?.close();
  cluster = undefined;
});

const A2 = "alice-000000000002.ndjson";
const A3 = "alice-000000000003.ndjson";

/** alice and bob in sync; then alice's database is copied (same client id) and both copies write. */
async function copied(): Promise<{ cluster: Cluster; copy: Fork }> {
  cluster = await Cluster.create(["alice", "bob", "carol"]);
  cluster.write(0, (app) => app.createMedia("m1", { title: "Intro" }));
  await cluster.settle();
  const copy = await forkMember(cluster, 0);
  forks.push(copy);
  return { cluster, copy };
}

async function giveCopyNewId(copy: Fork): Promise<void> {
  await giveNewClientId(copy, "alice-copy");
  const report = await copy.sync.synchronize();
  expect(report.export.files).toEqual(["alice-copy-000000000001.ndjson"]);
}

describe("a copied database: the documented recovery resumes every stream", () => {
  it("a peer that applied the copy's file before the service settled on the original's resumes after the recovery", async () => {
    const { cluster, copy } = await copied();
    copy.write((app) => app.createKeyword("k-copy", "made on the copy"));
    await copy.sync.synchronize();
    // Bob's sync service delivers the copy's alice #2 first, and bob applies it.
    const bob = cluster.members[1]!;
    bob.transport.putRaw(A2, copy.view.snapshot().get(A2)!);
    expect((await bob.sync.synchronize()).failed).toBe(false);
    // The original publishes its own #2 and #3; the service keeps the original's #2 everywhere.
    cluster.write(0, (app) => app.createKeyword("k-orig", "made on the original"));
    await cluster.sync(0);
    cluster.write(0, (app) => app.update("Media", "m1", "author", "set on the original"));
    await cluster.sync(0);
    bob.transport.putRaw(A3, cluster.cloud.get(A3)!);
    const stopped = await bob.sync.synchronize();
    expect(stopped.peers.find((p) => p.client === "alice")?.stopped?.reason).toBe("chain-broken");
    // The way out the docs give: the copy takes a new client id (it detects the clash first).
    copy.view.putRaw(A2, cluster.cloud.get(A2)!);
    expect((await copy.sync.synchronize()).export.stopped?.code).toBe("COPIED_DATABASE");
    await giveCopyNewId(copy);
    for (const [name, bytes] of copy.view.snapshot())
      if (name.startsWith("alice-copy-")) cluster.cloud.set(name, bytes);
    // Everything delivered everywhere: bob now holds the original's alice #2, #3 and the copy's re-export.
    for (let i = 0; i < 3; i++)
      cluster.deliver(
        i,
        Array.from({ length: cluster.cloud.size }, () => 0),
      );
    const after = await bob.sync.synchronize();
    // Bob re-applies alice from #2 (the folder's file there is not the one he applied) and goes on.
    expect(after.peers.find((p) => p.client === "alice")?.state).toBe("up-to-date");
    expect(bob.app.has("Keywords", "k-orig")).toBe(true);
  });

  it("the original resumes when the copy had published past the original's last file", async () => {
    const { cluster, copy } = await copied();
    copy.write((app) => app.createKeyword("k-copy", "made on the copy"));
    await copy.sync.synchronize();
    copy.write((app) => app.createKeyword("k-copy-2", "made on the copy, again"));
    await copy.sync.synchronize();
    // The original publishes its #2 only; the service keeps the original's #2 and the copy's #3 (the only one).
    cluster.write(0, (app) => app.createKeyword("k-orig", "made on the original"));
    await cluster.sync(0);
    const alice = cluster.members[0]!;
    alice.transport.putRaw(A3, copy.view.snapshot().get(A3)!);
    cluster.cloud.set(A3, copy.view.snapshot().get(A3)!);
    copy.view.putRaw(A2, cluster.cloud.get(A2)!);
    expect((await alice.sync.synchronize()).export.stopped?.code).toBe("COPIED_DATABASE");
    expect((await copy.sync.synchronize()).export.stopped?.code).toBe("COPIED_DATABASE");
    // The way out the docs give: the copy takes a new client id and re-exports both of its files' changes.
    await giveCopyNewId(copy);
    // The copy removed its old-id #3; the sync service carries the deletion to every device.
    expect(copy.view.snapshot().has(A3)).toBe(false);
    alice.transport.remove(A3);
    cluster.cloud.delete(A3);
    cluster.write(0, (app) => app.createKeyword("k-orig-2", "made on the original, later"));
    const report = await alice.sync.synchronize();
    // The copy's old-id #3 is gone, so the original's next file is its own #3.
    expect(report.export.stopped).toBeUndefined();
    expect(report.export.files).toEqual([A3]);
  });
});
