// `folder-sync init` as a user runs it: the media preset on a new database, a chosen client id, and each
// refusal with its exit code (a bad id: 2; a folder it cannot write, an id with files in the folder, a
// database set up for another folder: 1), plus the argv parser's help and its errors.
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { MEDIA_CONFIG, MEDIA_SCHEMA_SQL } from "../../src/config/media-preset.js";
import { clientIdProblem } from "../../src/transport/names.js";
import { cleanup, cli, initClient, ok, tempDir, withApp } from "./helpers.js";

afterEach(cleanup);

function tables(db: string): string[] {
  const conn = new BetterSqlite3(db, { readonly: true });
  try {
    return (
      conn.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')").all() as Array<{
        name: string;
      }>
    ).map((r) => r.name);
  } finally {
    conn.close();
  }
}

describe("init", () => {
  it("with the media preset on a new database creates the schema, triggers and a readable client id", async () => {
    const dir = tempDir();
    const db = path.join(dir, "new", "media.db");
    const folder = path.join(dir, "shared");
    const r = await ok(["init", "--db", db, "--folder", folder, "--preset", "media"]);
    const names = tables(db);
    expect(names).toEqual(expect.arrayContaining(["Media", "Keywords", "MediaKeywords", "sync_log"]));
    expect(names.some((n) => n.startsWith("fs_Media_"))).toBe(true);
    expect(existsSync(path.join(folder, "folder-sync.json"))).toBe(true);
    const status = JSON.parse((await ok(["status", "--db", db, "--json"])).stdout) as {
      clientId: string;
      folder: string;
    };
    expect(clientIdProblem(status.clientId)).toBeUndefined();
    expect(status.clientId).toMatch(/^[a-z0-9-]+-[0-9a-f]{6}$/);
    expect(status.folder).toBe(folder);
    expect(r.stdout).toContain(`to sync as ${status.clientId}`);
    // Later commands need only --db, whatever the working directory.
    await ok(["sync", "--db", db]);
  });

  it("adopts the rows a database already holds: the first sync publishes them", async () => {
    const dir = tempDir();
    const db = path.join(dir, "app.db");
    const conn = new BetterSqlite3(db);
    conn.exec(MEDIA_SCHEMA_SQL);
    conn
      .prepare(
        `INSERT INTO Media (uuid, url, title, type, content_hash, last_modified, version, client_id)
         VALUES ('m1', 'u1', 'One', 'video', 'h1', '2026-01-01T00:00:00.000Z', 1, 'old'),
                ('m2', 'u2', 'Two', 'video', 'h2', '2026-01-01T00:00:00.000Z', 1, 'old')`,
      )
      .run();
    conn.close();
    const r = await ok(["init", "--db", db, "--folder", path.join(dir, "shared"), "--preset", "media"]);
    expect(r.stdout).toContain("2 local changes will be published");
    expect((await ok(["sync", "--db", db])).stdout).toContain("exported 2 changes");
  });

  it("reads a config file asking for triggers", async () => {
    const dir = tempDir();
    const db = path.join(dir, "app.db");
    const conn = new BetterSqlite3(db);
    conn.exec(MEDIA_SCHEMA_SQL);
    conn.close();
    const config = path.join(dir, "sync.json");
    writeFileSync(config, JSON.stringify({ config: MEDIA_CONFIG, installTriggers: true }));
    await ok([
      "init",
      "--db",
      db,
      "--folder",
      path.join(dir, "shared"),
      "--config",
      config,
      "--client-id",
      "a",
    ]);
    expect(tables(db)).toContain("sync_log");
    writeFileSync(config, JSON.stringify({ tables: [{ kind: "rows", name: "No Such" }] }));
    const bad = await ok(["init", "--db", path.join(dir, "b.db"), "--folder", dir, "--config", config], 2);
    expect(bad.stderr).toMatch(/^folder-sync: .*sync\.json: Invalid sync config/);
  });

  it("refuses a client id that breaks the naming rule (exit 2) and creates nothing", async () => {
    const dir = tempDir();
    const db = path.join(dir, "a.db");
    const r = await ok(["init", "--db", db, "--folder", dir, "--preset", "media", "--client-id", "Alice"], 2);
    expect(r.stderr).toMatch(/^folder-sync: Client id "Alice" has upper-case letters/);
    expect(existsSync(db)).toBe(false);
  });

  it("refuses a folder it cannot write (exit 1)", async () => {
    const dir = tempDir();
    const file = path.join(dir, "a-file");
    writeFileSync(file, "");
    const folder = path.join(file, "sub");
    const db = path.join(dir, "a.db");
    const r = await ok(["init", "--db", db, "--folder", folder, "--preset", "media", "--client-id", "a"], 1);
    expect(r.stderr).toContain(`folder-sync: cannot write to the folder ${folder}`);
    expect(existsSync(db)).toBe(false);
  });

  it("refuses a client id that already has files in the folder (exit 1)", async () => {
    const dir = tempDir();
    const alice = await initClient(dir, "alice");
    withApp(alice, "alice", (app) => app.createMedia("m1", { title: "Intro" }));
    await ok(["sync", "--db", alice]);
    const other = path.join(dir, "other.db");
    const shared = path.join(dir, "shared");
    const r = await ok(
      ["init", "--db", other, "--folder", shared, "--preset", "media", "--client-id", "alice"],
      1,
    );
    expect(r.stderr).toContain("folder-sync: Client id alice already has 1 file(s)");
    expect(r.stderr).toContain("--client-id");
  });

  it("refuses a database set up for another folder (exit 1), and moves it with --force", async () => {
    const dir = tempDir();
    const db = await initClient(dir, "alice");
    const elsewhere = path.join(dir, "elsewhere");
    const args = ["init", "--db", db, "--folder", elsewhere];
    const r = await ok(args, 1);
    expect(r.stderr).toContain("is already set up to sync as alice");
    expect(r.stderr).toContain("--force");
    expect(existsSync(path.join(elsewhere, "folder-sync.json"))).toBe(false);
    await ok([...args, "--force"]);
    const status = JSON.parse((await ok(["status", "--db", db, "--json"])).stdout) as { folder: string };
    expect(status.folder).toBe(elsewhere);
    // Re-running init with the same settings is harmless.
    await ok(args);
  });
});

describe("the command line", () => {
  it("documents every command's flags and the exit codes", async () => {
    const tool = await ok(["--help"]);
    for (const c of ["init", "sync", "watch", "status", "doctor", "conflicts", "demo"])
      expect(tool.stdout).toContain(`  ${c} `);
    expect(tool.stdout).toMatch(/Exit codes:[\s\S]*3 {2}another process/);
    for (const [command, flag] of [
      ["init", "--client-id ID"],
      ["sync", "--json"],
      ["watch", "--rescan-interval SECONDS"],
      ["status", "--json"],
      ["doctor", "--db FILE"],
      ["conflicts", "--limit N"],
      ["demo", "--dir DIR"],
    ] as const) {
      const r = await ok([command, "--help"]);
      expect(r.stdout).toContain(`Usage: folder-sync ${command}`);
      expect(r.stdout).toContain(flag);
      expect(r.stdout).toContain("Exit codes:");
    }
  });

  it("says what was meant for a misspelled flag or command (exit 2)", async () => {
    const flag = await cli(["sync", "--db", "x.db", "--jsn"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("folder-sync: unknown flag --jsn (did you mean --json?)");
    const command = await cli(["synk"]);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('unknown command "synk" (did you mean sync?)');
    const missing = await cli(["status"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing --db FILE");
    const value = await cli(["sync", "--db", "--json"]);
    expect(value.code).toBe(2);
    expect(value.stderr).toContain("--db needs a value");
    expect((await cli([])).code).toBe(2);
  });

  it("says how to set up a database that is not set up (exit 1)", async () => {
    const dir = tempDir();
    const r = await cli(["sync", "--db", path.join(dir, "nothing.db")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("folder-sync init");
    const empty = path.join(dir, "empty.db");
    new BetterSqlite3(empty).close();
    const s = await cli(["status", "--db", empty]);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain(`folder-sync: ${empty} is not set up for sync`);
  });
});
