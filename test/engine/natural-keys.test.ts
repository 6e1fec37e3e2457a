// Natural-key collisions from a user's view (DESIGN section 5): two devices create the same UNIQUE value
// under different uuids. Nothing aborts, every device shows the same rows, links follow the survivor, and the
// conflict log says what happened.
import { afterEach, describe, expect, it } from "vitest";
import { Cluster } from "../helpers/cluster.js";

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const keywords = (c: Cluster, i: number) =>
  c.members[i]!.db.prepare("SELECT uuid, keyword FROM Keywords ORDER BY uuid").all();
const linksOf = (c: Cluster, i: number) =>
  c.members[i]!.db.prepare(
    "SELECT m.uuid AS media, k.keyword FROM MediaKeywords mk JOIN Media m ON m.id = mk.media_id JOIN Keywords k ON k.id = mk.keyword_id ORDER BY 1, 2",
  ).all();

describe("natural-key collisions", () => {
  it("two laptops tag the same video 'Python' and 'python' offline: one keyword, both links survive, logged", async () => {
    cluster = await Cluster.create(["laptop-a", "laptop-b"]);
    cluster.write(0, (app) => app.createMedia("video", { title: "PyCon talk" }));
    await cluster.settle();
    // Offline, each laptop creates its own keyword and tags the video with it.
    cluster.write(0, (app) => {
      app.createKeyword("kw-a", "Python");
      app.link("video", "kw-a");
    });
    cluster.write(1, (app) => {
      app.createKeyword("kw-b", "python");
      app.link("video", "kw-b");
    });
    await cluster.sync(0);
    await cluster.sync(1);
    await cluster.settle();
    for (const i of [0, 1]) {
      expect(keywords(cluster, i)).toEqual([{ uuid: "kw-a", keyword: "Python" }]);
      expect(linksOf(cluster, i)).toEqual([{ media: "video", keyword: "Python" }]);
    }
    expect(cluster.dumps()[0]).toEqual(cluster.dumps()[1]);
    // Laptop B's own keyword row became kw-a in place: same local id, so its own references stay valid.
    const log = cluster.members[1]!.sync.conflicts();
    expect(log).toContainEqual(
      expect.objectContaining({
        kind: "shadowed",
        entity: "Keywords",
        uuid: "kw-b",
        source: expect.stringContaining("kw-a"),
      }),
    );
    // Laptop B renames the survivor: kw-b's "python" is free again, and both keywords show.
    cluster.write(1, (app) => app.update("Keywords", "kw-a", "keyword", "Python 3"));
    await cluster.settle();
    for (const i of [0, 1])
      expect(keywords(cluster, i)).toEqual([
        { uuid: "kw-a", keyword: "Python 3" },
        { uuid: "kw-b", keyword: "python" },
      ]);
    // (ORDER BY follows the column's NOCASE collation.)
    expect(linksOf(cluster, 0)).toEqual([
      { media: "video", keyword: "python" },
      { media: "video", keyword: "Python 3" },
    ]);
    expect(cluster.dumps()[0]).toEqual(cluster.dumps()[1]);
  });

  it("a deleted duplicate's links are not shown on the survivor", async () => {
    cluster = await Cluster.create(["laptop-a", "laptop-b"]);
    cluster.write(0, (app) => app.createMedia("video", { title: "Talk" }));
    await cluster.settle();
    // Laptop B tags the video "rust", then deletes that keyword; laptop A, offline all along, creates "Rust".
    cluster.write(1, (app) => {
      app.createKeyword("kw-b", "rust");
      app.link("video", "kw-b");
    });
    await cluster.sync(1);
    cluster.write(0, (app) => app.createKeyword("kw-a", "Rust"));
    cluster.write(1, (app) => app.setDeleted("Keywords", "kw-b", true));
    await cluster.settle();
    for (const i of [0, 1]) {
      expect(keywords(cluster, i)).toEqual([{ uuid: "kw-a", keyword: "Rust" }]);
      expect(linksOf(cluster, i)).toEqual([]);
    }
  });

  it("a chain across two UNIQUE columns comes out the same in every arrival order", async () => {
    // X and Y share a url; Y and Z share a content hash.
    const rows = [
      { uuid: "m-x", url: "https://v/1", content_hash: "hx" },
      { uuid: "m-y", url: "https://v/1", content_hash: "hyz" },
      { uuid: "m-z", url: "https://v/3", content_hash: "hyz" },
    ];
    const orders = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];
    const results: unknown[] = [];
    for (const order of orders) {
      const c = await Cluster.create(["a", "b", "c", "reader"]);
      try {
        rows.forEach((r, i) => {
          c.write(i, (app) =>
            app.createMedia(r.uuid, { title: r.uuid, url: r.url, content_hash: r.content_hash }),
          );
        });
        for (let i = 0; i < 3; i++) await c.sync(i);
        const reader = c.members[3]!;
        for (const i of order) {
          const name = `${["a", "b", "c"][i]}-000000000001.ndjson`;
          reader.transport.putRaw(name, c.cloud.get(name)!);
          await c.sync(3);
        }
        results.push({
          media: reader.db.prepare("SELECT id IS NOT NULL AS shown, uuid FROM Media ORDER BY uuid").all(),
          dump: c.dumps()[3],
        });
      } finally {
        await c.close();
      }
    }
    // X is shown (lowest uuid); Y collides with X on url and is shadowed; Z, free of shown rows, is shown.
    expect((results[0] as { media: unknown }).media).toEqual([
      { shown: 1, uuid: "m-x" },
      { shown: 1, uuid: "m-z" },
    ]);
    for (const r of results) expect(r).toEqual(results[0]);
  });
});
