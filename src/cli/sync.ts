// `folder-sync sync`: one pass (ingest every peer's files that can be applied, then export local changes),
// a one-line summary or the report as JSON, and exit 1 when a stream stopped. Long passes show progress on
// stderr, so stdout stays the summary (or the JSON) alone.
import type { SyncManager } from "../sync/sync-manager.js";
import type { FlagValues } from "./args.js";
import { type Command, EXIT, EXIT_LOCKED_LINE, EXIT_USAGE_LINE } from "./command.js";
import { detailLines, out, plural, summaryLine } from "./format.js";
import { databasePath, openLocked } from "./open.js";

/** Progress appears once a pass has applied this many changes: small passes print only the summary. */
export const PROGRESS_THRESHOLD = 2000;

/** Reports "applied" events: a rewritten line on a terminal, a plain line at most every 2 s otherwise. */
export function trackProgress(sync: SyncManager, stream: NodeJS.WriteStream = process.stderr): () => void {
  let total = 0;
  let files = 0;
  let lastPlain = 0;
  let shown = false;
  const listener = ({ client, seq, changes }: { client: string; seq: number; changes: number }) => {
    total += changes;
    files++;
    if (total < PROGRESS_THRESHOLD) return;
    const text = `applying: ${total.toLocaleString("en-US")} changes from ${plural(files, "file")} (last: ${client} #${seq})`;
    if (stream.isTTY) {
      stream.write(`\r${text.slice(0, (stream.columns ?? 80) - 1)}\x1b[K`);
      shown = true;
    } else if (Date.now() - lastPlain >= 2000) {
      stream.write(`${text}\n`);
      lastPlain = Date.now();
    }
  };
  sync.on("applied", listener);
  return () => {
    sync.off("applied", listener);
    if (shown) stream.write("\r\x1b[K");
  };
}

async function run(values: FlagValues): Promise<number> {
  const file = databasePath("sync", values);
  const sync = await openLocked(file);
  try {
    const stop = trackProgress(sync);
    let report: Awaited<ReturnType<SyncManager["synchronize"]>>;
    try {
      report = await sync.synchronize();
    } finally {
      stop();
    }
    out(values.json === true ? JSON.stringify(report, null, 2) : summaryLine(report));
    // Stopped streams and warnings go to stderr in both modes, so a failing pass always says why.
    for (const line of detailLines(report))
      process.stderr.write(`${line.startsWith(" ") ? "" : "folder-sync: "}${line}\n`);
    return report.failed ? EXIT.failure : EXIT.ok;
  } finally {
    await sync.close();
  }
}

export const syncCommand: Command = {
  name: "sync",
  summary: "Run one pass: apply peers' files, then publish local changes.",
  usage: "sync --db FILE [--json]",
  flags: {
    db: { type: "string", value: "FILE", description: "A database set up with `folder-sync init`." },
    json: { type: "boolean", description: "Print the pass's report as JSON." },
  },
  details: [
    "The summary says what was applied and exported, which peers wait for a file and why (a gap or a file",
    "still arriving: normal with sync services), which streams stopped with the file and the way out, and",
    "how many junk names (conflict copies, temp files, OS files) were skipped.",
  ],
  exitCodes: [
    "0  done (peers waiting on a file still arriving, and junk names, are normal)",
    "1  a peer's stream stopped (corrupt or bad file, broken chain), export stopped (a copied",
    "   database), the folder marker is missing, or another error",
    EXIT_USAGE_LINE,
    EXIT_LOCKED_LINE,
  ],
  run,
};
