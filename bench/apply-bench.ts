// Apply throughput: a peer's changeset file of N Media creates applied by the engine (validate, registers,
// rows, cursor, echo suppression) against the raw baseline of better-sqlite3 upserting the same rows in one
// transaction. Prints both and their ratio.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { MEDIA_CONFIG, MEDIA_SCHEMA_SQL, mediaConfig } from "../src/config/media-preset.js";
import { installTriggers } from "../src/config/triggers.js";
import type { Database } from "../src/db.js";
import { SyncManager } from "../src/sync/sync-manager.js";

const N = Number(process.env.BENCH_ROWS ?? 20_000);
const dir = mkdtempSync(path.join(tmpdir(), "sfs-bench-"));
const folder = path.join(dir, "shared");
mkdirSync(folder);

function openApp(file: string): Database {
  const db = new BetterSqlite3(file) as unknown as Database;
  db.pragma("journal_mode = WAL");
  db.exec(MEDIA_SCHEMA_SQL);
  installTriggers(db, mediaConfig());
  return db;
}

function rows() {
  return Array.from({ length: N }, (_, i) => ({
    uuid: `media-${String(i).padStart(8, "0")}`,
    url: `https://example.com/v/${i}`,
    title: `Video number ${i}`,
    type: "video",
    content: "x".repeat(200),
    content_hash: `hash-${i}`,
    last_modified: "2026-01-01T00:00:00.000Z",
  }));
}

async function main() {
  // The peer: writes N rows and exports them.
  const peer = openApp(path.join(dir, "peer.db"));
  const peerSync = await SyncManager.init({
    database: path.join(dir, "peer.db"),
    folder,
    clientId: "peer",
    config: MEDIA_CONFIG,
  });
  const insert = peer.prepare(
    `INSERT INTO Media (uuid, url, title, type, content, content_hash, last_modified, version, client_id)
     VALUES (@uuid, @url, @title, @type, @content, @content_hash, @last_modified, 1, 'peer')`,
  );
  peer.exec("BEGIN");
  for (const r of rows()) insert.run(r);
  peer.exec("COMMIT");
  await peerSync.synchronize();
  await peerSync.close();
  peer.close();

  // Ours: ingest the peer's files.
  const mine = openApp(path.join(dir, "mine.db"));
  const sync = await SyncManager.init({
    database: path.join(dir, "mine.db"),
    folder,
    clientId: "mine",
    config: MEDIA_CONFIG,
  });
  let t = performance.now();
  const report = await sync.synchronize();
  const ours = performance.now() - t;
  if (report.applied !== N) throw new Error(`applied ${report.applied}, expected ${N}`);
  await sync.close();
  mine.close();

  // Baseline: better-sqlite3 upserts of the same rows into the same schema (triggers included), one transaction.
  const raw = openApp(path.join(dir, "raw.db"));
  const upsert = raw.prepare(
    `INSERT INTO Media (uuid, url, title, type, content, content_hash, last_modified, version, client_id)
     VALUES (@uuid, @url, @title, @type, @content, @content_hash, @last_modified, 1, 'peer')
     ON CONFLICT(uuid) DO UPDATE SET title = excluded.title, content = excluded.content`,
  );
  const data = rows();
  t = performance.now();
  raw.exec("BEGIN");
  for (const r of data) upsert.run(r);
  raw.exec("COMMIT");
  const baseline = performance.now() - t;
  raw.close();

  const rate = (ms: number) => Math.round((N / ms) * 1000);
  console.log(`rows: ${N}`);
  console.log(
    `sqlite-folder-sync ingest: ${ours.toFixed(0)} ms (${rate(ours)} changes/s), file read, checked and applied`,
  );
  console.log(`better-sqlite3 upserts:    ${baseline.toFixed(0)} ms (${rate(baseline)} rows/s)`);
  console.log(`ratio (ours / baseline):   ${(ours / baseline).toFixed(1)}x`);
  rmSync(dir, { recursive: true, force: true });
}

await main();
