// init (DESIGN section 2): records the sync settings inside the database, creates the library tables,
// installs triggers when asked, adopts the rows an existing database holds, refuses a client id that already
// has files in the folder unless forced (then adopts them), and gives a copied database a new client id.
import { randomBytes } from "node:crypto";
import { resolveConfig } from "../config/schema.js";
import { installTriggers } from "../config/triggers.js";
import { FolderTransport } from "../transport/folder-transport.js";
import { clientIdProblem } from "../transport/names.js";
import { adoptExistingRows, readOwnFiles, recordAdoptedFiles } from "./adopt.js";
import { SyncError } from "./errors.js";
import { type DatabaseLock, lockDatabase } from "./lock.js";
import { type InitOptions, openDatabase } from "./options.js";
import { findDivergence, relabelForNewClient } from "./rename-client.js";
import { Replica } from "./replica.js";
import { readSettings, type Settings, writeSettings } from "./settings.js";

export async function setUpDatabase(options: InitOptions): Promise<void> {
  const problem = clientIdProblem(options.clientId);
  if (problem)
    throw new SyncError("CLIENT_ID_INVALID", `Client id ${JSON.stringify(options.clientId)}: ${problem}`);
  const config = resolveConfig(options.config);
  const { db, path, owned } = openDatabase(options.database);
  // Nothing may sync this database while its settings change.
  let lock: DatabaseLock | undefined;
  try {
    if (path) lock = await lockDatabase(path);
    const transport = options.transport ?? new FolderTransport(options.folder);
    let existing: Settings | undefined;
    try {
      existing = readSettings(db, path ?? "the database");
    } catch {
      existing = undefined;
    }
    // Refusals come before anything is written to the folder (a mistyped --folder gets no marker).
    const current = await transport.readMarker();
    if (
      existing &&
      !options.force &&
      (existing.folderId !== current?.id || existing.clientId !== options.clientId)
    )
      throw new SyncError(
        "ALREADY_INITIALIZED",
        `${path ?? "The database"} is already set up to sync as ${existing.clientId} with folder ${existing.folder}. Use --force to change that.`,
      );
    const listing = await transport.list();
    const own = listing.files.filter((f) => f.client === options.clientId);
    await transport.checkWritable();
    if (own.length > 0 && !options.force && !existing)
      throw new SyncError(
        "CLIENT_ID_IN_USE",
        `Client id ${options.clientId} already has ${own.length} file(s) in ${transport.location}: another database writes as it, or this is a rejoin. Choose another --client-id, or use --force if no other database writes as ${options.clientId}.`,
      );
    const renaming = existing !== undefined && existing.clientId !== options.clientId;
    if (renaming && own.length > 0)
      throw new SyncError(
        "CLIENT_ID_IN_USE",
        `Client id ${options.clientId} already has ${own.length} file(s) in ${transport.location}. Choose an id no database has used in this folder.`,
      );
    const marker =
      current ?? (await transport.ensureMarker({ format: 1, id: randomBytes(12).toString("hex") }));
    const adopted =
      own.length > 0 && options.force && !existing ? await readOwnFiles(transport, options.clientId) : [];
    // A copy taking a new id re-exports what the folder does not hold as it published it.
    const oldReplica =
      renaming && existing
        ? new Replica(db, existing.config, existing.clientId, options.now ?? Date.now)
        : undefined;
    const divergence = oldReplica ? await findDivergence(oldReplica, transport) : { from: 0, stale: [] };
    for (const name of divergence.stale) await transport.unpublish(name);
    db.exec("BEGIN IMMEDIATE");
    try {
      if (options.installTriggers) installTriggers(db, config);
      if (oldReplica) relabelForNewClient(oldReplica, options.clientId, divergence.from);
      writeSettings(db, {
        clientId: options.clientId,
        folder: options.folder,
        folderId: marker.id,
        configInput: options.config,
      });
      if (!existing) {
        // sync_log rows from before init are not exported.
        const replica = new Replica(db, config, options.clientId, options.now ?? Date.now);
        replica.capturer.skipToEnd();
        // Rows already in the database become local changes, exported by the first pass.
        adoptExistingRows(db, config);
        recordAdoptedFiles(db, adopted);
      }
      db.exec("COMMIT");
    } catch (error) {
      if (db.inTransaction) db.exec("ROLLBACK");
      throw error;
    }
  } finally {
    if (owned) db.close();
    await lock?.release();
  }
}
