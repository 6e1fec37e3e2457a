// `folder-sync status`: this client's state and, per peer, what is applied, ready, waiting (and why) or
// stopped (with the file and the way out). It checks the folder with inspect(), which applies nothing, and
// takes no lock, so it works while `folder-sync watch` runs.
import { SyncError } from "../sync/errors.js";
import type { SyncReport } from "../sync/report.js";
import type { SyncManager } from "../sync/sync-manager.js";
import type { FlagValues } from "./args.js";
import { type Command, EXIT, EXIT_USAGE_LINE } from "./command.js";
import { junkKinds, out, plural, stoppedLines, waitingText } from "./format.js";
import { databasePath, openReadOnly } from "./open.js";

/** The folder problems inspect() throws that status shows instead of failing. */
const FOLDER_CODES = new Set(["FOLDER_MARKER_MISSING", "FOLDER_MARKER_MISMATCH", "TRANSPORT_FAILED"]);

export interface Inspection {
  readonly report?: SyncReport;
  readonly folderProblem?: { readonly code: string; readonly message: string };
}

/** inspect(), with a folder that cannot be checked turned into a finding. */
export async function inspectFolder(sync: SyncManager): Promise<Inspection> {
  try {
    return { report: await sync.inspect() };
  } catch (error) {
    if (error instanceof SyncError && FOLDER_CODES.has(error.code))
      return { folderProblem: { code: error.code, message: error.message } };
    throw error;
  }
}

async function run(values: FlagValues): Promise<number> {
  const file = databasePath("status", values);
  const { sync, close } = await openReadOnly(file);
  try {
    const { report, folderProblem } = await inspectFolder(sync);
    const status = await sync.status(report);
    const ready = new Map((report?.peers ?? []).map((p) => [p.client, p.ready]));
    const peers = status.peers.map((p) => ({ ...p, ready: ready.get(p.client) ?? 0 }));
    if (values.json === true) {
      out(
        JSON.stringify(
          {
            database: file,
            ...status,
            peers,
            junk: report?.junk ?? [],
            warnings: report?.warnings ?? [],
            ...(folderProblem ? { folderProblem } : {}),
          },
          null,
          2,
        ),
      );
      return EXIT.ok;
    }
    out(`Client:     ${status.clientId}`);
    out(`Database:   ${file}`);
    out(`Folder:     ${status.folder} (id ${status.folderId})`);
    if (folderProblem) out(`  PROBLEM [${folderProblem.code}]: ${folderProblem.message}`);
    out(
      `Export:     cursor at change ${status.exportCursor}; ${plural(status.publishedFiles, "file")} published; ${plural(
        status.pendingLocalChanges,
        "local change",
      )} not yet published`,
    );
    if (status.exportStopped) for (const l of stoppedLines("export", status.exportStopped, "  ")) out(l);
    out(`Pending:    ${plural(status.pendingRegisters, "change")} waiting for a parent row`);
    out(
      `Conflicts:  ${plural(status.conflicts, "losing change")} recorded${
        status.conflicts > 0 ? ` (folder-sync conflicts --db ${file})` : ""
      }`,
    );
    if (report)
      out(
        `Junk:       ${plural(report.junk.length, "name")} in changes/ skipped${
          report.junk.length > 0 ? ` (${junkKinds(report.junk)}; see folder-sync doctor)` : ""
        }`,
      );
    out(peers.length === 0 ? "Peers:      none yet" : "Peers:");
    for (const p of peers) {
      const last = p.lastAppliedAt ? `, last applied ${p.lastAppliedAt}` : "";
      const state = p.state === "unknown" ? ", not checked (folder unavailable)" : "";
      const lag = p.behind > 0 ? ` (${plural(p.behind, "file")} behind)` : "";
      const seen = p.newestChangeAt ? `, newest change ${p.newestChangeAt}` : "";
      out(
        `  ${p.client}: applied up to #${p.seq}${lag}${last}${seen}; ${plural(p.ready, "file")} ready${state}`,
      );
      if (p.waiting) out(`    ${waitingText(p.client, p.waiting)}`);
      if (p.stopped) for (const l of stoppedLines("stream", p.stopped, "    ")) out(l);
      if (p.clockSkewWarning) out(`    clock: ${p.clockSkewWarning}`);
    }
    if (status.watcherProblem) out(`Watcher:    ${status.watcherProblem}`);
    for (const w of report?.warnings ?? []) out(`warning: ${w}`);
    return EXIT.ok;
  } finally {
    await close();
  }
}

export const statusCommand: Command = {
  name: "status",
  summary: "Show this client's state and what each peer waits for, without syncing.",
  usage: "status --db FILE [--json]",
  flags: {
    db: { type: "string", value: "FILE", description: "A database set up with `folder-sync init`." },
    json: { type: "boolean", description: "Print the status as JSON." },
  },
  details: [
    "Checks the folder as a pass would but applies and writes nothing, and takes no lock: it can run while",
    "`folder-sync watch` syncs the same database. Use `folder-sync doctor` for advice and a health exit code.",
  ],
  exitCodes: [
    "0  status shown (even when a peer waits or stopped, or the folder is missing: see doctor)",
    "1  the database cannot be read or is not set up",
    EXIT_USAGE_LINE,
  ],
  run,
};
