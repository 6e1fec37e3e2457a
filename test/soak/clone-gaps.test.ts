// Two ways a copied database (two databases writing as one client id) is NOT recovered by the documented way out
// (the copy takes a new client id: `init --client-id NEW --force`, test/engine/copied-database.test.ts), found by
// the fault soak (test/soak/soak.ts counts the first one as "a peer that applied the copy's file ... still
// stopped"). Both tests fail until the engine offers a way out; see each test for the suggested fix.
import { afterEach, describe, expect, it } from "vitest";
import { MEDIA_CONFIG } from "../../src/config/media-preset.js";
import { SyncManager } from "../../src/sync/sync-manager.js";
import { Cluster } from "../helpers/cluster.js";
import { type Fork, forkMember } from "../helpers/faults.js";

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
  await copy.sync.close();
  copy.sync = await SyncManager.init({
    database: copy.db,
    transport: copy.view,
    folder: "memory:copy",
    clientId: "alice-copy",
    config: MEDIA_CONFIG,
    force: true,
    now: copy.now,
  });
  const report = await copy.sync.synchronize();
  expect(report.export.files).toEqual(["alice-copy-000000000001.ndjson"]);
}

describe("a copied database: what the documented recovery leaves stopped", () => {
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
    // FAILS today: bob's alice stream stays stopped (chain-broken at #3) forever, so bob never gets k-orig or the
    // original's later edits. ingestPeer (src/sync/ingest.ts, the `scan.header.prev !== cursor.hash` check) has
    // no way back once the file it applied at the cursor's seq was replaced in the folder. Suggested fix: keep the
    // hash of every applied peer file (seq -> sha256), and when the chain breaks at N+1 because the folder's file
    // at some applied seq k <= N now differs from the one applied (the service settled on the other copy's), re-apply
    // that peer from k with the folder's files: the lines of the losing copy's files stay in the registers but
    // are beaten by its re-export under the new id (stamped 1 ms later), so every replica converges.
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
    // FAILS today: the copy's alice #3 stays in the folder under alice's id, so the original's export stops
    // (COPIED_DATABASE "never wrote it", src/sync/export.ts, the `seq >= nextSeq` loop) on every pass, forever,
    // and peers stop alice's stream at #3 (its prev is the copy's #2). Suggested fix: when a copy takes a new id
    // (src/sync/rename-client.ts relabelForNewClient), remove from the folder the old id's files it published
    // after the divergence point that still hold its own bytes (their changes are re-exported under the new id),
    // so the other copy's sequence can continue; doctor should say so. (Peers that applied those files need the
    // rebase of the previous test.)
    expect(report.export.stopped).toBeUndefined();
    expect(report.export.files).toEqual([A3]);
  });
});
