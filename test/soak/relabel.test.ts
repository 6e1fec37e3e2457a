// A copy that takes a new client id (the way out of a copied database) re-exports its changes stamped 1 ms later
// (src/sync/rename-client.ts). Found by the fault soak (SOAK_SEED=1176): a change of the copy that had LOST, on the
// copy, to a peer's change whose key lies between the old key and the re-stamped one, wins on every other replica
// once re-exported, but the copy kept the peer's value: the replicas diverged. Re-stamped lines now go through
// last-writer-wins on the copy too.
import { afterEach, describe, expect, it } from "vitest";
import { Cluster } from "../helpers/cluster.js";
import { type Fork, forkMember, giveNewClientId } from "../helpers/faults.js";
import { runSchedule } from "./soak.js";

let cluster: Cluster | undefined;
const forks: Fork[] = [];
afterEach(async () => {
  for (const f of forks.splice(0)) await f.close();
  await cluster?.close();
  cluster = undefined;
});

describe("a copy's re-export under a new client id", () => {
  it("leaves the copy holding what every other replica holds", async () => {
    cluster = await Cluster.create(["alice", "bob"]);
    cluster.write(0, (app) => app.createKeyword("k1", "python"));
    await cluster.settle();
    // alice's database is copied; the copy and bob edit k1 in the same millisecond: bob's edit bumps the
    // version, the copy's does not, so bob's key (ts, 2, bob) beats the copy's (ts, 1, alice).
    const copy = await forkMember(cluster, 0);
    forks.push(copy);
    copy.write((app) => app.update("Keywords", "k1", "keyword", "edited on the copy", false));
    await copy.sync.synchronize();
    cluster.write(1, (app) => app.update("Keywords", "k1", "keyword", "edited by bob", true));
    await cluster.sync(1);
    for (const [name, bytes] of cluster.cloud) copy.view.putRaw(name, bytes);
    await copy.sync.synchronize();
    expect(copy.db.prepare("SELECT keyword FROM Keywords WHERE uuid = 'k1'").get()).toEqual({
      keyword: "edited by bob",
    });
    // The original publishes its own alice #2; the copy finds it, stops, and takes a new id.
    cluster.write(0, (app) => app.createKeyword("k2", "rust"));
    await cluster.sync(0);
    copy.view.putRaw("alice-000000000002.ndjson", cluster.cloud.get("alice-000000000002.ndjson")!);
    expect((await copy.sync.synchronize()).export.stopped?.code).toBe("COPIED_DATABASE");
    await giveNewClientId(copy, "alice-copy");
    await copy.sync.synchronize();
    for (const [name, bytes] of copy.view.snapshot())
      if (!cluster.cloud.has(name)) cluster.cloud.set(name, bytes);
    await cluster.settle();
    for (const [name, bytes] of cluster.cloud) copy.view.putRaw(name, bytes);
    await copy.sync.synchronize();
    const keyword = (db: typeof copy.db) =>
      db.prepare("SELECT keyword FROM Keywords WHERE uuid = 'k1'").get();
    // The re-exported line (ts + 1 ms, 1, alice-copy) beats bob's (ts, 2, bob) on the copy as everywhere else.
    expect(keyword(copy.db)).toEqual(keyword(cluster.members[1]!.db));
    expect(keyword(cluster.members[0]!.db)).toEqual(keyword(cluster.members[1]!.db));
  });

  it("soak schedule 1176 converges", async () => {
    const result = await runSchedule(1176, { schedules: 1, seed: 1176 });
    expect(result.divergences).toEqual([]);
    expect(result.losses).toEqual([]);
    expect(result.anomalies).toEqual([]);
  });
});
