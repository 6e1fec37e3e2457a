// `folder-sync init`: records the sync settings inside the database (SyncManager.init), after the checks a
// user would want said plainly first: a valid client id, a folder that can be written, the tables the config
// names. With --preset media on a new or empty database it creates the media schema so the tool can be tried
// without an app.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { MEDIA_CONFIG, MEDIA_SCHEMA_SQL } from "../config/media-preset.js";
import { type ResolvedConfig, resolveConfig, type SyncConfigInput } from "../config/schema.js";
import type { Database } from "../db.js";
import { SyncError, TransportError } from "../sync/errors.js";
import { SyncManager } from "../sync/sync-manager.js";
import { FolderTransport } from "../transport/folder-transport.js";
import { clientIdProblem } from "../transport/names.js";
import { type FlagValues, requireFlag, stringFlag, UsageError } from "./args.js";
import { type Command, EXIT, EXIT_LOCKED_LINE, EXIT_USAGE_LINE } from "./command.js";
import { out, plural } from "./format.js";
import { databasePath, explainOpenError, openLocked } from "./open.js";

/** A readable, unique client id: the host name as a slug plus a random suffix. */
export function defaultClientId(host = hostname()): string {
  const slug =
    host
      .toLowerCase()
      .split(".")[0]!
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40)
      .replace(/-+$/, "") || "client";
  const id = `${slug}-${randomBytes(3).toString("hex")}`;
  return clientIdProblem(id) === undefined ? id : `client-${randomBytes(4).toString("hex")}`;
}

interface ConfigChoice {
  readonly input: SyncConfigInput;
  readonly installTriggers: boolean;
  readonly source: string;
}

function readConfigFile(file: string): ConfigChoice {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(`cannot read the config file ${file}: ${(error as Error).message}`, "init");
  }
  const wrapped =
    typeof value === "object" && value !== null && "config" in value
      ? (value as { config: unknown; installTriggers?: unknown })
      : undefined;
  const input = (wrapped ? wrapped.config : value) as SyncConfigInput;
  try {
    resolveConfig(input);
  } catch (error) {
    throw new SyncError("CONFIG_INVALID", `${file}: ${(error as Error).message}`);
  }
  return { input, installTriggers: wrapped?.installTriggers === true, source: file };
}

/** Creates the folder if needed and proves it can be written (init must not record a folder it cannot use). */
function checkFolderWritable(folder: string): boolean {
  const created = !existsSync(folder);
  const probe = path.join(folder, `.folder-sync-probe-${randomBytes(6).toString("hex")}.tmp`);
  try {
    mkdirSync(folder, { recursive: true });
    writeFileSync(probe, "");
    unlinkSync(probe);
    const changes = path.join(folder, "changes");
    if (existsSync(changes)) {
      const probe2 = path.join(changes, path.basename(probe));
      writeFileSync(probe2, "");
      unlinkSync(probe2);
    }
  } catch (error) {
    throw new TransportError(
      "FOLDER_UNWRITABLE",
      `cannot write to the folder ${folder}: ${(error as Error).message}. Choose a folder this user can write (and check that it is mounted).`,
      { cause: error },
    );
  }
  return created;
}

/** Creates the media schema on a database with no tables; checks that the config's tables exist. */
function prepareSchema(file: string, config: ResolvedConfig, preset: boolean): boolean {
  const db = new BetterSqlite3(file) as unknown as Database;
  try {
    return createAndCheck(db, file, config, preset);
  } catch (error) {
    throw explainOpenError(error, file);
  } finally {
    db.close();
  }
}

function createAndCheck(db: Database, file: string, config: ResolvedConfig, preset: boolean): boolean {
  const tableNames = () =>
    (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map(
      (r) => r.name.toLowerCase(),
    );
  let created = false;
  if (preset && tableNames().length === 0) {
    db.pragma("journal_mode = WAL");
    db.exec(MEDIA_SCHEMA_SQL);
    created = true;
  }
  const have = new Set(tableNames());
  const missing = [...config.entities.keys()].filter((t) => !have.has(t.toLowerCase()));
  if (missing.length > 0)
    throw new SyncError(
      "SCHEMA_MISMATCH",
      `${file} has no table ${missing.join(", ")}, which the sync config names. ${
        preset
          ? "--preset media creates its schema only on a new or empty database; create the tables (or use --config FILE for your own schema)."
          : "Create the tables first, or fix the config."
      }`,
    );
  return created;
}

/**
 * The library refuses a database set up for another folder or id too, but only after it has written the
 * folder's marker; refusing here first leaves a wrongly typed folder untouched.
 */
async function refuseOtherSetup(
  file: string,
  existing: { clientId: string; folder: string; folderId: string },
  clientId: string,
  folder: string,
): Promise<void> {
  const marker = await new FolderTransport(folder).readMarker().catch(() => undefined);
  if (existing.clientId === clientId && marker?.id === existing.folderId) return;
  throw new SyncError(
    "ALREADY_INITIALIZED",
    `${file} is already set up to sync as ${existing.clientId} with folder ${existing.folder}. Use --force to change that.`,
  );
}

async function run(values: FlagValues): Promise<number> {
  const file = databasePath("init", values, false);
  const folder = path.resolve(requireFlag("init", values, "folder", "DIR"));
  const presetName = stringFlag(values, "preset");
  const configFile = stringFlag(values, "config");
  if (presetName !== undefined && configFile !== undefined)
    throw new UsageError("use either --preset or --config, not both.", "init");
  if (presetName !== undefined && presetName !== "media")
    throw new UsageError(`unknown preset ${JSON.stringify(presetName)} (the one preset is "media").`, "init");
  const wanted = stringFlag(values, "client-id");
  if (wanted !== undefined) {
    const problem = clientIdProblem(wanted);
    if (problem) throw new UsageError(problem, "init");
  }
  const force = values.force === true;

  // An initialised database keeps its client id and config unless told otherwise; reading them through
  // open() also refuses while another process syncs it.
  const existed = existsSync(file);
  let existing: { clientId: string; config: SyncConfigInput; folder: string; folderId: string } | undefined;
  if (existed) {
    try {
      const sync = await openLocked(file);
      existing = {
        clientId: sync.settings.clientId,
        config: sync.settings.configInput,
        folder: sync.settings.folder,
        folderId: sync.settings.folderId,
      };
      await sync.close();
    } catch (error) {
      if (!(error instanceof SyncError && error.code === "NOT_INITIALIZED")) throw error;
    }
  }
  const choice: ConfigChoice | undefined =
    presetName !== undefined
      ? { input: MEDIA_CONFIG, installTriggers: true, source: "the media preset" }
      : configFile !== undefined
        ? readConfigFile(path.resolve(configFile))
        : existing
          ? { input: existing.config, installTriggers: false, source: "the recorded config" }
          : undefined;
  if (choice === undefined)
    throw new UsageError(
      "say which tables to sync: --preset media, or --config FILE (a sync config as JSON).",
      "init",
    );
  const clientId = wanted ?? existing?.clientId ?? defaultClientId();
  const config = resolveConfig(choice.input);
  if (existing && !force) await refuseOtherSetup(file, existing, clientId, folder);

  const createdFolder = checkFolderWritable(folder);
  let createdSchema = false;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    createdSchema = prepareSchema(file, config, presetName !== undefined);
    const sync = await SyncManager.init({
      database: file,
      folder,
      clientId,
      config: choice.input,
      installTriggers: choice.installTriggers,
      force,
    });
    try {
      const status = await sync.status();
      out(
        `${existing ? "Updated" : "Set up"} ${file} to sync as ${clientId} through ${folder}${createdFolder ? " (created)" : ""}.`,
      );
      if (existing && existing.clientId !== clientId)
        out(`  client id changed from ${existing.clientId} to ${clientId}`);
      if (existing && existing.folder !== folder) out(`  folder changed from ${existing.folder}`);
      out(`  tables: ${[...config.entities.keys()].join(", ")} (${choice.source})`);
      if (createdSchema) out("  created the media schema in the new database");
      if (choice.installTriggers) out("  change triggers installed (they fill sync_log)");
      if (status.pendingLocalChanges > 0)
        out(`  ${plural(status.pendingLocalChanges, "local change")} will be published by the first sync`);
      out(`Next: folder-sync sync --db ${file}   (one pass), or folder-sync watch --db ${file}`);
    } finally {
      await sync.close();
    }
  } catch (error) {
    // A database file this command created and could not set up is not left behind.
    if (!existed)
      for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(`${file}${suffix}`, { force: true });
    throw error;
  }
  return EXIT.ok;
}

export const initCommand: Command = {
  name: "init",
  summary: "Set a database up to sync through a folder (once per database).",
  usage: "init --db FILE --folder DIR [--client-id ID] [--preset media | --config FILE] [--force]",
  flags: {
    db: { type: "string", value: "FILE", description: "The SQLite database (created when missing)." },
    folder: {
      type: "string",
      value: "DIR",
      description: "The shared folder (created when missing; must be writable).",
    },
    "client-id": {
      type: "string",
      value: "ID",
      description: "This database's id in the folder: a-z, 0-9, '-' (default: host name + random suffix).",
    },
    preset: {
      type: "string",
      value: "NAME",
      description: "A ready config: media (creates its schema on a new database, installs triggers).",
    },
    config: {
      type: "string",
      value: "FILE",
      description: 'Your sync config as JSON: a config, or {"config": ..., "installTriggers": true}.',
    },
    force: {
      type: "boolean",
      description: "Accept a client id with files in the folder, or move the database to another folder.",
    },
  },
  details: [
    "Settings are recorded inside the database; later commands need only --db.",
    "Rows already in the database are adopted: the first sync publishes them.",
    "--force on a client id that has files in the folder adopts them as this database's own: use it only",
    "when no other database writes as that id (a restored database rejoining).",
  ],
  exitCodes: [
    "0  set up",
    "1  the folder cannot be written, the client id has files in the folder (use another id),",
    "   the database syncs with another folder or id (use --force), or another error",
    EXIT_USAGE_LINE,
    "   also: a client id that breaks the naming rule, a config file that is not a valid config",
    EXIT_LOCKED_LINE,
  ],
  run,
};
