// The bad-input corpus (fixtures/, built by scripts/make-fixtures.ts from corpus-cases.ts): each committed file is
// delivered as client mallory's, next to valid files of alice and zed, to a replica over an in-memory folder and
// over a real temp folder. The expected stop, wait, skip or apply is reported (naming the file, the line and what
// to do), nothing of a bad file reaches the database, alice and zed still apply, and once the good file is
// delivered over the bad one the stream goes on (DESIGN sections 3, 4, 7).
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { MEDIA_CONFIG, mediaConfig } from "../../src/config/media-preset.js";
import type { Database } from "../../src/db.js";
import { canonicalDump } from "../../src/sync/dump.js";
import type { PeerReport, SyncReport } from "../../src/sync/report.js";
import { SyncManager } from "../../src/sync/sync-manager.js";
import { MemoryTransport } from "../../src/transport/memory-transport.js";
import { Cluster } from "../helpers/cluster.js";
import { createMediaDb } from "../helpers/media-app.js";
import {
  CORPUS,
  type CorpusCase,
  fixtureFiles,
  GOOD,
  longLineFile,
  OWNER,
  ZED_MEDIA,
} from "./corpus-cases.js";

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "fixtures");
const NOW = Date.parse("2026-03-02T00:00:00.000Z");
/** Raw control characters (a tab aside) in an error message can rewrite the user's terminal. */
function controlChars(text: string): string[] {
  return [...text].filter((ch) => {
    const code = ch.codePointAt(0) ?? 0;
    return (code < 0x20 && ch !== "\t") || code === 0x7f;
  });
}

type TransportKind = "memory" | "folder";

interface Replica {
  readonly db: Database;
  readonly sync: SyncManager;
  put(name: string, bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

const open: Replica[] = [];
const tempDirs: string[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) await r.close();
  for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A replica of the media preset (client "reader") over an empty folder, in memory or on disk. */
async function replica(kind: TransportKind): Promise<Replica> {
  const db = createMediaDb();
  let r: Replica;
  if (kind === "memory") {
    const transport = MemoryTransport.fromSnapshot(new Map(), { marker: { format: 1, id: "corpus" } });
    const sync = await SyncManager.init({
      database: db,
      transport,
      folder: "memory:corpus",
      clientId: "reader",
      config: MEDIA_CONFIG,
      now: () => NOW,
    });
    r = {
      db,
      sync,
      put: async (name, bytes) => transport.putRaw(name, bytes),
      close: async () => {
        await sync.close();
        db.close();
      },
    };
  } else {
    const folder = await mkdtemp(path.join(tmpdir(), "sfs-corpus-"));
    tempDirs.push(folder);
    const sync = await SyncManager.init({
      database: db,
      folder,
      clientId: "reader",
      config: MEDIA_CONFIG,
      now: () => NOW,
    });
    r = {
      db,
      sync,
      put: async (name, bytes) => {
        await mkdir(path.join(folder, "changes"), { recursive: true });
        await writeFile(path.join(folder, "changes", name), bytes);
      },
      close: async () => {
        await sync.close();
        db.close();
      },
    };
  }
  open.push(r);
  return r;
}

/** Valid files of the good peers alice and zed (zed comes after mallory in name order), made by real replicas. */
let peers: Map<string, Uint8Array>;
beforeAll(async () => {
  const cluster = await Cluster.create(["alice", "zed"]);
  try {
    cluster.write(0, (app) => {
      app.createMedia("alice-m1", { title: "Alice's talk" });
      app.createKeyword("alice-k1", "talks");
      app.link("alice-m1", "alice-k1");
    });
    cluster.write(1, (app) => {
      app.createMedia(ZED_MEDIA, { title: "Zed's song" });
      app.createTranscript("zed-t1", ZED_MEDIA, "la la la");
    });
    await cluster.sync(0);
    await cluster.sync(1);
    peers = new Map(cluster.cloud);
    expect([...peers.keys()].sort()).toEqual(["alice-000000000001.ndjson", "zed-000000000001.ndjson"]);
  } finally {
    await cluster.close();
  }
});

/** The files of a case as committed under fixtures/bad/<case>/changes/ (built here when not committed). */
async function caseFiles(c: CorpusCase): Promise<Array<{ name: string; bytes: Uint8Array }>> {
  if (c.testTimeOnly) return [{ name: `${OWNER}-000000000001.ndjson`, bytes: longLineFile() }];
  const dir = path.join(FIXTURES, "bad", c.id, "changes");
  const names = (await readdir(dir)).sort();
  return Promise.all(
    names.map(async (name) => ({ name, bytes: new Uint8Array(await readFile(dir + path.sep + name)) })),
  );
}

/** A replica that got only good files: the peers' and the named good files of mallory (by bytes). */
async function control(mallory: ReadonlyArray<{ name: string; bytes: Uint8Array }>): Promise<Database> {
  const r = await replica("memory");
  for (const [name, bytes] of peers) await r.put(name, bytes);
  for (const f of mallory) await r.put(f.name, f.bytes);
  const report = await r.sync.synchronize();
  expect(report.failed).toBe(false);
  expect(report.peers.every((p) => p.state === "up-to-date")).toBe(true);
  return r.db;
}

const dump = (db: Database) => canonicalDump(db, mediaConfig());
const schema = (db: Database) =>
  db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").all();

function peer(report: SyncReport, client: string): PeerReport | undefined {
  return report.peers.find((p) => p.client === client);
}

function expectGoodPeersApplied(report: SyncReport): void {
  for (const client of ["alice", "zed"]) {
    const p = peer(report, client);
    expect(p?.state, `${client}: ${JSON.stringify(p)}`).toBe("up-to-date");
    expect(p?.seq).toBe(1);
  }
}

/** Change lines in a valid file: every line but the header and the trailer. */
function changeCount(bytes: Uint8Array): number {
  return new TextDecoder().decode(bytes).split("\n").length - 3;
}

function goodFile(name: string): { name: string; bytes: Uint8Array } {
  const bytes = GOOD.get(name);
  if (bytes === undefined) throw new Error(`no good file ${name}`);
  return { name, bytes };
}

const ACTION: Record<string, RegExp> = {
  bad: /compatible version.*doctor/,
  corrupt: /damaged.*(doctor|republished)/,
  "chain-broken": /new client id/,
};

describe("the committed corpus is what scripts/make-fixtures.ts builds", () => {
  it("every generated file is committed byte for byte, and nothing else is there", async () => {
    const expected = fixtureFiles();
    for (const [relative, bytes] of expected) {
      const onDisk = new Uint8Array(await readFile(path.join(FIXTURES, relative)));
      expect(
        Buffer.from(onDisk).equals(Buffer.from(bytes)),
        `${relative} is stale: run scripts/make-fixtures.ts`,
      ).toBe(true);
    }
    const committed: string[] = [];
    for (const top of ["bad", "good"]) {
      const walk = async (dir: string): Promise<void> => {
        for (const e of await readdir(path.join(FIXTURES, dir), { withFileTypes: true })) {
          const rel = `${dir}/${e.name}`;
          if (e.isDirectory()) await walk(rel);
          else committed.push(rel);
        }
      };
      await walk(top);
    }
    expect(committed.sort()).toEqual([...expected.keys()].filter((k) => k.includes("/")).sort());
  });

  it("every case has a README line, and the good files apply cleanly", async () => {
    const readme = await readFile(path.join(FIXTURES, "README.md"), "utf8");
    for (const c of CORPUS) expect(readme).toContain(`| \`${c.id}\` |`);
    const db = await control([...GOOD].map(([name, bytes]) => ({ name, bytes })));
    expect(dump(db).tables.Media).toHaveLength(3);
  });
});

describe.each<TransportKind>(["memory", "folder"])("corpus, %s transport", (kind) => {
  it.each(CORPUS.map((c) => [c.id, c.outcome.kind, c] as const))("%s: %s", async (_id, _kind, c) => {
    const files = await caseFiles(c);
    expect(files.length, `fixtures/bad/${c.id}/changes/ is empty`).toBeGreaterThan(0);
    const subject = await replica(kind);
    const schemaBefore = schema(subject.db);
    for (const [name, bytes] of peers) await subject.put(name, bytes);
    for (const f of files) await subject.put(f.name, f.bytes);

    const report = await subject.sync.synchronize();
    const o = c.outcome;
    expectGoodPeersApplied(report);
    expect(report.failed, JSON.stringify(report.peers)).toBe(o.kind === "stopped");
    expect(schema(subject.db), "the app's tables are intact").toEqual(schemaBefore);
    const first = files.filter((f) => c.appliesFirst.includes(f.name));
    const m = peer(report, OWNER);

    if (o.kind === "stopped") {
      expect(m?.state).toBe("stopped");
      const s = m!.stopped!;
      expect(s.reason).toBe(o.reason);
      if (o.code !== undefined) expect(s.code).toBe(o.code);
      expect(s.file).toBe(`changes/${o.file}`);
      expect(s.message).toContain(`changes/${o.file}`);
      if (o.line !== undefined) {
        expect(s.line).toBe(o.line);
        expect(s.message).toContain(`changes/${o.file} line ${o.line}:`);
      }
      if (o.says) expect(s.message).toMatch(o.says);
      expect(controlChars(s.message), `raw control characters in ${JSON.stringify(s.message)}`).toEqual([]);
      expect(s.message.length, "the message is short enough to read").toBeLessThan(400);
      expect(s.action).toMatch(ACTION[o.reason]!);
      expect(m!.seq).toBe(first.length);
      expect(m!.appliedChanges).toBe(first.reduce((n, f) => n + changeCount(f.bytes), 0));
    } else if (o.kind === "waiting") {
      expect(m?.state).toBe("waiting");
      expect(m!.waiting?.reason).toBe(o.reason);
      expect(m!.waiting?.seq).toBe(first.length + 1);
      expect(m!.waiting?.detail).toContain(`changes/${o.file}`);
      expect(m!.waiting?.detail).toMatch(/still arriving/);
      if (o.says) expect(m!.waiting?.detail).toMatch(o.says);
      expect(m!.appliedChanges).toBe(0);
    } else if (o.kind === "junk") {
      expect(m).toBeUndefined();
      expect(report.junk).toContainEqual({ name: o.name, kind: o.junkKind });
    } else {
      expect(m?.state).toBe("up-to-date");
      expect(m!.appliedChanges).toBe(o.changes);
      expect(report.pending).toBe(o.pending);
      for (const r of o.rows ?? []) {
        const row = subject.db
          .prepare(`SELECT ${r.column} AS v FROM ${r.table} WHERE uuid = ?`)
          .get(r.uuid) as { v: unknown } | undefined;
        expect(row?.v, `${r.table} ${r.uuid} ${r.column}`).toEqual(r.value);
      }
    }

    // Nothing of the bad file is in the database: it holds what the good files alone give.
    if (o.kind === "applied") {
      if (o.sameAs) expect(dump(subject.db)).toEqual(dump(await control(o.sameAs.map(goodFile))));
      if (o.pending > 0) {
        const shown = dump(subject.db).tables;
        expect(shown).toEqual(dump(await control([])).tables);
      }
      return;
    }
    expect(report.pending).toBe(0);
    expect(dump(subject.db)).toEqual(dump(await control(first)));

    // A stopped stream stays stopped while the file is unchanged...
    const again = await subject.sync.synchronize();
    expect(peer(again, OWNER)?.state).toBe(m?.state);
    // ...and is checked again when the file changes: the good file delivered over the bad one applies.
    for (const name of c.repair) await subject.put(name, goodFile(name).bytes);
    const repaired = await subject.sync.synchronize();
    expect(repaired.failed, JSON.stringify(repaired.peers)).toBe(false);
    const after = peer(repaired, OWNER);
    expect(after?.state).toBe("up-to-date");
    expect(after?.seq).toBe(first.length + c.repair.length);
    expect(dump(subject.db)).toEqual(dump(await control([...first, ...c.repair.map(goodFile)])));
  });
});

describe("a stopped stream does not skip ahead", () => {
  it.each<TransportKind>(["memory", "folder"])(
    "%s transport: mallory's good file 2 waits behind a bad file 1",
    async (kind) => {
      const bad = CORPUS.find((c) => c.id === "unknown-entity")!;
      const subject = await replica(kind);
      for (const [name, bytes] of peers) await subject.put(name, bytes);
      for (const f of await caseFiles(bad)) await subject.put(f.name, f.bytes);
      const second = goodFile(`${OWNER}-000000000002.ndjson`);
      await subject.put(second.name, second.bytes);
      const report = await subject.sync.synchronize();
      expect(peer(report, OWNER)?.state).toBe("stopped");
      expect(peer(report, OWNER)?.seq).toBe(0);
      expect(dump(subject.db)).toEqual(dump(await control([])));
    },
  );
});
