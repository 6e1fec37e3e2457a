// The demo: three clients with the media preset converge through one temporary folder, with a concurrent
// edit of one row and a link whose keyword reaches one client later than the link itself.
import { mkdirSync, mkdtempSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { MEDIA_CONFIG, MEDIA_SCHEMA_SQL } from "../config/media-preset.js";
import { resolveConfig } from "../config/schema.js";
import type { Database } from "../db.js";
import { contentHash } from "../sync/dump.js";
import type { SyncReport } from "../sync/report.js";
import { SyncManager } from "../sync/sync-manager.js";
import { type FlagValues, stringFlag } from "./args.js";
import { type Command, EXIT, EXIT_USAGE_LINE } from "./command.js";

interface Client {
  readonly name: string;
  readonly app: Database;
  readonly sync: SyncManager;
}

function summary(r: SyncReport): string {
  const waiting = r.peers.filter((p) => p.state === "waiting").map((p) => p.client);
  return [
    `applied ${r.applied}`,
    `conflicts ${r.conflicts}`,
    `exported ${r.export.exportedChanges}${r.export.files.length ? ` (${r.export.files.join(", ")})` : ""}`,
    `pending ${r.pending}`,
    ...(waiting.length ? [`waiting on ${waiting.join(", ")}`] : []),
  ].join(", ");
}

export async function runDemo(
  options: { dir?: string; log?: (line: string) => void } = {},
): Promise<boolean> {
  const log = options.log ?? ((line: string) => console.log(line));
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), "folder-sync-demo-"));
  const folder = path.join(dir, "shared-folder");
  const aside = path.join(dir, "not-yet-delivered");
  mkdirSync(folder, { recursive: true });
  mkdirSync(aside, { recursive: true });
  log(`Demo folder: ${dir}`);
  log(`Shared folder (think Dropbox or a USB stick): ${folder}\n`);

  const clients: Record<string, Client> = {};
  for (const name of ["alice", "bob", "carol"]) {
    const file = path.join(dir, `${name}.db`);
    const app = new BetterSqlite3(file) as unknown as Database;
    app.pragma("journal_mode = WAL");
    app.exec(MEDIA_SCHEMA_SQL);
    const sync = await SyncManager.init({
      database: file,
      folder,
      clientId: name,
      config: MEDIA_CONFIG,
      installTriggers: true,
    });
    clients[name] = { name, app, sync };
  }
  const { alice, bob, carol } = clients as Record<"alice" | "bob" | "carol", Client>;
  const step = async (c: Client, what: string) =>
    log(`  ${c.name} syncs: ${summary(await c.sync.synchronize())}${what}`);
  const now = () => new Date().toISOString();

  log("1. alice adds a video; everyone syncs.");
  alice.app
    .prepare(
      `INSERT INTO Media (uuid, url, title, type, content_hash, last_modified, version, client_id)
       VALUES ('video-1', 'https://example.com/intro', 'Intro to SQLite', 'video', 'sha-intro', ?, 1, 'alice')`,
    )
    .run(now());
  await step(alice, "");
  await step(bob, "");
  await step(carol, "");

  log("\n2. Offline, alice and bob retitle the same video at the same moment (a conflict).");
  const same = now();
  alice.app
    .prepare(
      "UPDATE Media SET title = 'SQLite, the intro', version = 2, last_modified = ? WHERE uuid = 'video-1'",
    )
    .run(same);
  bob.app
    .prepare(
      "UPDATE Media SET title = 'Intro to SQLite (bob)', version = 2, last_modified = ?, client_id = 'bob' WHERE uuid = 'video-1'",
    )
    .run(same);
  log("   alice also creates the keyword 'databases'.");
  alice.app
    .prepare(
      "INSERT INTO Keywords (uuid, keyword, last_modified, version, client_id) VALUES ('kw-databases', 'databases', ?, 1, 'alice')",
    )
    .run(now());
  await step(alice, "");
  await step(bob, "  <- bob's own edit and alice's meet here");

  log("\n3. bob tags the video 'databases'. The sync service delivers bob's file to carol");
  log("   before alice's file with the keyword: carol keeps the link pending.");
  const hidden = "alice-000000000002.ndjson";
  renameSync(path.join(folder, "changes", hidden), path.join(aside, hidden));
  bob.app
    .prepare(
      "INSERT INTO MediaKeywords (media_id, keyword_id) SELECT m.id, k.id FROM Media m, Keywords k WHERE m.uuid = 'video-1' AND k.uuid = 'kw-databases'",
    )
    .run();
  await step(bob, "");
  await step(carol, "  <- the link waits for its keyword");
  const links = () => (carol.app.prepare("SELECT count(*) AS n FROM MediaKeywords").get() as { n: number }).n;
  log(`   carol's MediaKeywords rows: ${links()}`);

  log("\n4. alice's file arrives at carol; the pending link is shown.");
  renameSync(path.join(aside, hidden), path.join(folder, "changes", hidden));
  await step(carol, "");
  log(`   carol's MediaKeywords rows: ${links()}`);

  log("\n5. Everyone syncs until nothing is left to exchange.");
  for (let round = 0; round < 2; round++) for (const c of [alice, bob, carol]) await step(c, "");

  log("\nResult:");
  const config = resolveConfig(MEDIA_CONFIG);
  const hashes = [alice, bob, carol].map((c) => {
    const title = (c.app.prepare("SELECT title FROM Media WHERE uuid = 'video-1'").get() as { title: string })
      .title;
    const hash = contentHash(c.app, config);
    log(`  ${c.name.padEnd(5)} title "${title}", content hash ${hash.slice(0, 16)}`);
    return hash;
  });
  const same3 = hashes.every((h) => h === hashes[0]);
  log(same3 ? "  All three databases hold identical synced content." : "  The databases differ!");
  for (const c of [alice, bob, carol]) {
    for (const conflict of c.sync.conflicts()) {
      const payload = conflict.loserPayload as { title?: string } | null;
      log(
        `  ${c.name}'s conflict log: ${conflict.kind} ${conflict.entity} ${conflict.uuid}: "${payload?.title ?? ""}" lost to ${(conflict.winnerKey as { client: string }).client}'s edit`,
      );
    }
  }
  for (const c of [alice, bob, carol]) {
    await c.sync.close();
    c.app.close();
  }
  return same3;
}

export const demoCommand: Command = {
  name: "demo",
  summary: "Watch three clients converge through a temporary folder, with a conflict.",
  usage: "demo [--dir DIR]",
  flags: {
    dir: {
      type: "string",
      value: "DIR",
      description: "Where to put the demo's databases and folder (default: a new temp directory).",
    },
  },
  exitCodes: ["0  the three databases ended identical", "1  they did not (a bug)", EXIT_USAGE_LINE],
  run: async (values: FlagValues) => {
    const dir = stringFlag(values, "dir");
    return (await runDemo(dir ? { dir } : {})) ? EXIT.ok : EXIT.failure;
  },
};
