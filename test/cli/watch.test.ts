// `folder-sync watch`: two watch processes on two databases sharing one folder converge on edits their apps
// make through their own connections; SIGTERM stops each cleanly (exit 0, no temp file, no lock left). And
// watch pauses, saying why, while the folder marker is missing, and resumes when it is back.
import { existsSync, readdirSync, renameSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, eventually, hashOf, initClient, openApp, tempDir, WatchProcess } from "./helpers.js";

afterEach(cleanup);

describe("watch", () => {
  it("two watching databases converge on their apps' edits, and stop cleanly on SIGTERM", async () => {
    const dir = tempDir();
    const alicePath = await initClient(dir, "alice");
    const bobPath = await initClient(dir, "bob");
    const watchers = [
      await WatchProcess.start(alicePath, ["--rescan-interval", "2"]),
      await WatchProcess.start(bobPath, ["--rescan-interval", "2"]),
    ];
    const alice = openApp(alicePath, "alice");
    const bob = openApp(bobPath, "bob");
    const converged = (check: () => boolean) => () => hashOf(alicePath) === hashOf(bobPath) && check();

    alice.createMedia("m-alice", { title: "Alice's video" });
    alice.createKeyword("k-sqlite", "sqlite");
    bob.createMedia("m-bob", { title: "Bob's video" });
    bob.createKeyword("k-sync", "sync");
    const everywhere = (table: string, uuid: string) => alice.has(table, uuid) && bob.has(table, uuid);
    await eventually(
      converged(() => ["m-alice", "m-bob"].every((u) => everywhere("Media", u))),
      15_000,
      "the creates converge",
    );

    // Edits on rows that came from the other side: a link and a retitle.
    expect(alice.link("m-bob", "k-sqlite")).toBe(true);
    expect(bob.update("Media", "m-alice", "title", "Retitled by bob")).toBe(true);
    const title = (app: typeof alice) =>
      (app.db.prepare("SELECT title FROM Media WHERE uuid = 'm-alice'").get() as { title: string }).title;
    const links = (app: typeof alice) =>
      (app.db.prepare("SELECT count(*) AS n FROM MediaKeywords").get() as { n: number }).n;
    await eventually(
      converged(() => title(alice) === "Retitled by bob" && links(bob) === 1),
      15_000,
      "the edits converge",
    );
    for (const w of watchers) {
      expect(w.output).toMatch(/applied (alice|bob) #\d+/);
      expect(w.output).toMatch(/exported \d+ changes?: /);
    }

    const codes = await Promise.all(watchers.map((w) => w.stop("SIGTERM")));
    expect(codes).toEqual([0, 0]);
    for (const w of watchers) expect(w.output).toContain("stopped.");
    const names = readdirSync(path.join(dir, "shared", "changes"));
    expect(names.filter((n) => n.startsWith("."))).toEqual([]);
    expect(existsSync(`${alicePath}.lock`)).toBe(false);
    expect(existsSync(`${bobPath}.lock`)).toBe(false);
  });

  it("pauses while the folder marker is missing, and resumes when it is back", async () => {
    const dir = tempDir();
    const alicePath = await initClient(dir, "alice");
    const watch = await WatchProcess.start(alicePath, ["--rescan-interval", "0.3"]);
    const marker = path.join(dir, "shared", "folder-sync.json");
    renameSync(marker, path.join(dir, "marker.json"));
    await watch.waitFor("paused: ");
    expect(watch.output).toContain("has no folder-sync.json");
    const alice = openApp(alicePath, "alice");
    alice.createMedia("m1", { title: "Made while the folder was away" });
    await new Promise((r) => setTimeout(r, 800));
    expect(readdirSync(path.join(dir, "shared", "changes"))).toEqual([]);
    renameSync(path.join(dir, "marker.json"), marker);
    await watch.waitFor("resumed: ");
    await watch.waitFor("exported 1 change: alice-000000000001.ndjson");
    expect(await watch.stop("SIGINT")).toBe(0);
  });
});
