// Junk names (fixtures/junk-names.txt, from junk-cases.ts): each is put in changes/ holding bob's valid file 1,
// which applies under its valid name. Under the junk name it is never ingested: nothing applied, not a failure,
// and report.junk lists it with a kind. classifyJunk labels every name the research explains (DESIGN section 3;
// research/folder-pitfalls.md section 1).
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { MEDIA_CONFIG, mediaConfig } from "../../src/config/media-preset.js";
import type { Database } from "../../src/db.js";
import { canonicalDump } from "../../src/sync/dump.js";
import { SyncManager } from "../../src/sync/sync-manager.js";
import { MemoryTransport } from "../../src/transport/memory-transport.js";
import { classifyJunk, parseChangeFileName } from "../../src/transport/names.js";
import { Cluster } from "../helpers/cluster.js";
import { createMediaDb } from "../helpers/media-app.js";
import { JUNK_NAMES, JUNK_VALID_NAME } from "./junk-cases.js";

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "fixtures");
const NAMES = readFileSync(path.join(FIXTURES, "junk-names.txt"), "utf8").split("\n").slice(0, -1);
const NOW = Date.parse("2026-03-02T00:00:00.000Z");

type TransportKind = "memory" | "folder";

interface Replica {
  readonly db: Database;
  readonly sync: SyncManager;
  put(name: string, bytes: Uint8Array): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function replica(kind: TransportKind): Promise<Replica> {
  const db = createMediaDb();
  cleanups.push(async () => {
    db.close();
  });
  let put: Replica["put"];
  let sync: SyncManager;
  if (kind === "memory") {
    const transport = MemoryTransport.fromSnapshot(new Map(), { marker: { format: 1, id: "junk" } });
    sync = await SyncManager.init({
      database: db,
      transport,
      folder: "memory:junk",
      clientId: "reader",
      config: MEDIA_CONFIG,
      now: () => NOW,
    });
    put = async (name, bytes) => transport.putRaw(name, bytes);
  } else {
    const folder = await mkdtemp(path.join(tmpdir(), "sfs-junk-"));
    cleanups.push(() => rm(folder, { recursive: true, force: true }));
    sync = await SyncManager.init({
      database: db,
      folder,
      clientId: "reader",
      config: MEDIA_CONFIG,
      now: () => NOW,
    });
    put = async (name, bytes) => {
      await mkdir(path.join(folder, "changes"), { recursive: true });
      await writeFile(path.join(folder, "changes", name), bytes);
    };
  }
  cleanups.push(() => sync.close());
  return { db, sync, put };
}

const dump = (db: Database) => canonicalDump(db, mediaConfig());

/** bob's valid file 1 (a media, a keyword, their link), published by a real replica. */
let bobFile: Uint8Array;
let bobChanges: number;
beforeAll(async () => {
  const cluster = await Cluster.create(["bob"]);
  try {
    cluster.write(0, (app) => {
      app.createMedia("bob-m1", { title: "Bob's film" });
      app.createKeyword("bob-k1", "films");
      app.link("bob-m1", "bob-k1");
    });
    await cluster.sync(0);
    bobFile = cluster.cloud.get(JUNK_VALID_NAME)!;
    bobChanges = cluster.members[0]!.localChanges;
    expect(bobFile).toBeDefined();
    expect(bobChanges).toBe(3);
  } finally {
    await cluster.close();
  }
});

describe("fixtures/junk-names.txt", () => {
  it("lists the names of junk-cases.ts, none of which parses as a changeset name", () => {
    expect(NAMES).toEqual(JUNK_NAMES.map((j) => j.name));
    expect(new Set(NAMES).size).toBe(NAMES.length);
    for (const name of NAMES) expect(parseChangeFileName(name), name).toBeUndefined();
  });

  it("classifyJunk labels each name the research explains (name → kind)", () => {
    const actual = Object.fromEntries(NAMES.map((name) => [name, classifyJunk(name)]));
    const expected = Object.fromEntries(
      JUNK_NAMES.map((j) => [j.name, j.kind ?? expect.not.stringMatching(/^unknown$/)]),
    );
    expect(actual).toEqual(expected);
  });
});

describe.each<TransportKind>(["memory", "folder"])("junk names, %s transport", (kind) => {
  it.each(JUNK_NAMES.map((j) => [j.name, j.kind ?? "(any but unknown)", j.source] as const))(
    "%j (%s, %s) holding a valid file is never ingested",
    async (name) => {
      const r = await replica(kind);
      const empty = dump(r.db);
      await r.put(name, bobFile);
      const report = await r.sync.synchronize();
      expect(report.failed).toBe(false);
      expect(report.peers).toEqual([]);
      expect(report.applied).toBe(0);
      const listed = report.junk.find((j) => j.name === name);
      expect(listed, JSON.stringify(report.junk)).toBeDefined();
      expect(listed?.kind).toBe(classifyJunk(name));
      expect(dump(r.db)).toEqual(empty);

      // The same bytes under the valid name apply (so it was the name alone that kept them out).
      await r.put(JUNK_VALID_NAME, bobFile);
      const valid = await r.sync.synchronize();
      expect(valid.failed).toBe(false);
      expect(valid.peers).toMatchObject([
        { client: "bob", state: "up-to-date", seq: 1, appliedChanges: bobChanges },
      ]);
      expect(valid.junk.map((j) => j.name)).toContain(name);
    },
  );

  it("all junk names at once, beside bob's valid file: only the valid file applies, every name is listed", async () => {
    const r = await replica(kind);
    for (const name of NAMES) await r.put(name, bobFile);
    await r.put(JUNK_VALID_NAME, bobFile);
    const report = await r.sync.synchronize();
    expect(report.failed).toBe(false);
    expect(report.peers).toMatchObject([{ client: "bob", appliedFiles: 1, appliedChanges: bobChanges }]);
    expect(report.junk.map((j) => j.name).sort()).toEqual([...NAMES].sort());
    const control = await replica("memory");
    await control.put(JUNK_VALID_NAME, bobFile);
    await control.sync.synchronize();
    expect(dump(r.db)).toEqual(dump(control.db));
  });
});
