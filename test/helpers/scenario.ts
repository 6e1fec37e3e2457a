// The random scenarios of the convergence property tests: replicas of the media preset making random writes,
// syncing, and receiving files in random order, duplicated and withheld; then everything is delivered and the
// replicas are compared. Shared by the property test and by the replays of cases it once found.
import fc from "fast-check";
import { expect } from "vitest";
import { Cluster } from "./cluster.js";
import type { MediaApp } from "./media-app.js";

export const IDS = ["c1", "c2", "c3", "c4"];

export type Write =
  | { t: "media"; n: number; url?: number; hash?: number }
  | { t: "keyword"; n: number; name?: number }
  | { t: "rename"; table: number; target: number; col: number; pick: number }
  | { t: "embedding"; target: number }
  | { t: "transcript"; n: number; parent: number }
  | { t: "update"; table: number; target: number; value: number; bump: boolean; twice: boolean }
  | { t: "delete"; table: number; target: number; on: boolean }
  | { t: "link"; m: number; k: number; on: boolean };

export type Action =
  | { a: "write"; r: number; w: Write }
  | { a: "sync"; r: number; during?: Write }
  | { a: "deliver"; r: number; picks: number[] }
  | { a: "redeliver"; r: number; pick: number }
  | { a: "tick"; ms: number };

const small = fc.nat({ max: 40 });
const writeArb: fc.Arbitrary<Write> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ t: fc.constant("media" as const), n: small }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("keyword" as const), n: small }) },
  // Natural-key collisions: the same keyword in other case, Media sharing a url or a content hash.
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("keyword" as const), n: small, name: fc.nat({ max: 5 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("media" as const),
      n: small,
      url: fc.nat({ max: 3 }),
      hash: fc.nat({ max: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("rename" as const),
      table: fc.nat({ max: 1 }),
      target: small,
      col: fc.nat({ max: 1 }),
      pick: fc.nat({ max: 5 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("embedding" as const), target: small }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("transcript" as const), n: small, parent: small }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("update" as const),
      table: fc.nat({ max: 2 }),
      target: small,
      value: fc.nat({ max: 3 }),
      bump: fc.boolean(),
      twice: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("delete" as const),
      table: fc.nat({ max: 2 }),
      target: small,
      on: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ t: fc.constant("link" as const), m: small, k: small, on: fc.boolean() }),
  },
);

export function actionArb(replicas: number): fc.Arbitrary<Action> {
  const r = fc.nat({ max: replicas - 1 });
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ a: fc.constant("write" as const), r, w: writeArb }) },
    { weight: 3, arbitrary: fc.record({ a: fc.constant("sync" as const), r }) },
    { weight: 1, arbitrary: fc.record({ a: fc.constant("sync" as const), r, during: writeArb }) },
    {
      weight: 3,
      arbitrary: fc.record({
        a: fc.constant("deliver" as const),
        r,
        picks: fc.array(fc.nat(), { maxLength: 8, size: "max" }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ a: fc.constant("redeliver" as const), r, pick: fc.nat() }) },
    // Mostly no time passes, so equal timestamps are likely.
    {
      weight: 2,
      arbitrary: fc.record({ a: fc.constant("tick" as const), ms: fc.constantFrom(0, 1, 1000, 60_000) }),
    },
  );
}

/** Universe of uuids, shared by all replicas: a write on a row the replica does not have is a no-op. */
const TABLES = ["Media", "Keywords", "Transcripts"] as const;
const uuid = (table: string, n: number) => `${table.toLowerCase()}-${String(n).padStart(2, "0")}`;
const created = new Set<string>();
const NAMES = ["python", "Python", "PYTHON", "rust", "Rust", "sqlite"];
const URLS = ["https://a.example/1", "https://a.example/2", "https://a.example/3", "https://a.example/4"];
const HASHES = ["h1", "h2", "h3", "h4"];

/** The n-th (mod count) row of `table` present on this replica, so most writes hit a real row. */
function pickLocal(app: MediaApp, table: string, n: number): string {
  const rows = app.db.prepare(`SELECT uuid FROM ${table} ORDER BY uuid`).all() as Array<{ uuid: string }>;
  return rows.length === 0 ? uuid(table, n) : rows[n % rows.length]!.uuid;
}

function runWrite(app: MediaApp, w: Write, seq: { n: number }): void {
  switch (w.t) {
    case "media": {
      const u = uuid("Media", w.n);
      if (created.has(u)) return;
      created.add(u);
      app.createMedia(u, {
        title: `title ${w.n}`,
        ...(w.url === undefined ? {} : { url: URLS[w.url]! }),
        ...(w.hash === undefined ? {} : { content_hash: HASHES[w.hash]! }),
      });
      return;
    }
    case "keyword": {
      const u = uuid("Keywords", w.n);
      if (created.has(u)) return;
      created.add(u);
      app.createKeyword(u, w.name === undefined ? `kw ${u}` : NAMES[w.name]!);
      return;
    }
    case "rename": {
      // To a value another row may hold: the app's own UNIQUE constraint refuses it when a shown row does.
      if (w.table === 0) {
        const col = w.col === 0 ? "url" : "content_hash";
        const value = (w.col === 0 ? URLS : HASHES)[w.pick % 4]!;
        app.update("Media", pickLocal(app, "Media", w.target), col, value);
      } else app.update("Keywords", pickLocal(app, "Keywords", w.target), "keyword", NAMES[w.pick]!);
      return;
    }
    case "embedding":
      app.setEmbedding(pickLocal(app, "Media", w.target), Buffer.from([1, 2, 3]));
      return;
    case "transcript": {
      const u = uuid("Transcripts", w.n);
      const parent = pickLocal(app, "Media", w.parent);
      if (created.has(u) || !app.has("Media", parent)) return;
      created.add(u);
      app.createTranscript(u, parent, `text ${w.n}`);
      return;
    }
    case "update": {
      const table = TABLES[w.table]!;
      const column = table === "Media" ? "title" : table === "Keywords" ? "keyword" : "transcription";
      const u = pickLocal(app, table, w.target);
      // Every update changes the value: an app that bumps version without changing a synced column keeps
      // that version local (DESIGN section 2). Keyword values stay unique per uuid here.
      const value =
        table === "Keywords" ? `kw ${u} v${seq.n++}` : `${column} ${w.value} by ${app.clientId} #${seq.n++}`;
      app.update(table, u, column, value, w.bump);
      if (w.twice) app.update(table, u, column, `${value} again`, false);
      return;
    }
    case "delete":
      app.setDeleted(TABLES[w.table]!, pickLocal(app, TABLES[w.table]!, w.target), w.on);
      return;
    case "link":
      if (w.on) app.link(pickLocal(app, "Media", w.m), pickLocal(app, "Keywords", w.k));
      else app.unlink(pickLocal(app, "Media", w.m), pickLocal(app, "Keywords", w.k));
      return;
  }
}

/** Forgets which uuids were created: call before each new scenario (runScenario does). */
export function resetUniverse(): void {
  created.clear();
}

/** A write the app's own UNIQUE constraint refuses fails in the app and changes nothing, as in a real app. */
export function tryWrite(app: MediaApp, w: Write, seq: { n: number }): void {
  try {
    runWrite(app, w, seq);
  } catch (error) {
    if (!String((error as Error).message).includes("UNIQUE constraint failed")) throw error;
  }
}

/** A common start: a few rows everyone has, so concurrent edits of one row are frequent. */
export async function commonStart(cluster: Cluster, seq: { n: number }): Promise<void> {
  const replicas = cluster.members.length;
  for (let i = 0; i < replicas; i++)
    cluster.write(i, (app) => {
      runWrite(app, { t: "media", n: 90 + i }, seq);
      runWrite(app, { t: "keyword", n: 90 + i }, seq);
    });
  for (let i = 0; i < replicas; i++) await cluster.sync(i);
  await cluster.settle();
}

/**
 * Runs one action. `sync` says how a pass runs: by default Cluster.sync (which fails on a stopped stream); the
 * fault soak passes its own, which accepts what the faults it injected explain.
 */
export async function runAction(
  cluster: Cluster,
  act: Action,
  seq: { n: number },
  sync: (r: number, during?: () => void) => Promise<unknown> = (r, during) => cluster.sync(r, during),
): Promise<void> {
  switch (act.a) {
    case "write":
      cluster.write(act.r, (app) => tryWrite(app, act.w, seq));
      return;
    case "sync": {
      const during = act.during;
      await sync(act.r, during ? () => cluster.write(act.r, (app) => tryWrite(app, during, seq)) : undefined);
      return;
    }
    case "deliver":
      cluster.deliver(act.r, act.picks);
      return;
    case "redeliver":
      cluster.redeliver(act.r, act.pick);
      return;
    case "tick":
      cluster.time += act.ms;
      return;
  }
}

export async function runScenario(replicas: number, skews: number[], actions: Action[]): Promise<void> {
  created.clear();
  const cluster = await Cluster.create(IDS.slice(0, replicas), skews);
  const seq = { n: 0 };
  try {
    await commonStart(cluster, seq);
    for (const act of actions) await runAction(cluster, act, seq);
    await cluster.settle();
    if (process.env.SFS_STATS) {
      const c = cluster.members.map((m) => m.sync.conflicts().length);
      const lines = cluster.allFiles().reduce((n, f) => n + f.changes.length, 0);
      const shadows = (
        cluster.members[0]!.db.prepare("SELECT count(*) AS n FROM sfs_shadow").get() as { n: number }
      ).n;
      console.log(`files=${cluster.cloud.size} lines=${lines} conflicts=${c.join(",")} shadows=${shadows}`);
    }
    const dumps = cluster.dumps();
    for (let i = 1; i < dumps.length; i++) expect(dumps[i]).toEqual(dumps[0]);
    const registers = (dumps[0] as { registers: unknown[] }).registers;
    expect(registers).toEqual(cluster.expectedRegisters());
    cluster.checkNoLocalChangeLost();
  } finally {
    await cluster.close();
  }
}
