// `folder-sync watch`: keeps one database in sync until SIGINT/SIGTERM, one line per event. A wait or a stop is
// printed when it starts or changes, not on every pass (passes repeat on every folder event and rescan). On a
// signal, close() waits for the pass in progress, so no half-written file is left, then the lock is released.
import type { StreamProblem } from "../sync/report.js";
import type { SyncManager } from "../sync/sync-manager.js";
import { type FlagValues, numberFlag } from "./args.js";
import { type Command, EXIT, EXIT_LOCKED_LINE, EXIT_USAGE_LINE } from "./command.js";
import { plural, stoppedLines, waitingText } from "./format.js";
import { databasePath, openLocked } from "./open.js";

function log(line: string): void {
  const t = new Date();
  const hms = [t.getHours(), t.getMinutes(), t.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
  process.stdout.write(`${hms} ${line}\n`);
}

/** Prints the sync's events; a condition already shown is not shown again until it changes or clears. */
function printEvents(sync: SyncManager): void {
  const shown = new Map<string, string>();
  const once = (who: string, key: string, lines: () => string[]) => {
    if (shown.get(who) === key) return;
    shown.set(who, key);
    for (const line of lines()) log(line);
  };
  const stopped = (who: string, p: StreamProblem) =>
    once(who, `stopped ${p.file} ${p.code}`, () => stoppedLines(who, p));
  sync.on("applied", ({ client, seq, changes }) => {
    shown.delete(client);
    log(`applied ${client} #${seq}: ${plural(changes, "change")}`);
  });
  sync.on("exported", ({ files, changes }) =>
    log(`exported ${plural(changes, "change")}: ${files.join(", ")}`),
  );
  sync.on("conflict", ({ count }) =>
    log(`conflict: ${plural(count, "losing change")} recorded (see folder-sync conflicts)`),
  );
  sync.on("waiting", ({ client, seq, reason, detail }) =>
    once(client, `waiting ${seq} ${reason}`, () => [waitingText(client, { seq, reason, detail })]),
  );
  sync.on("stopped", ({ client, problem }) => stopped(client, problem));
  sync.on("pass", (report) => {
    for (const p of report.peers) if (p.state === "up-to-date") shown.delete(p.client);
    if (report.export.stopped) stopped("export", report.export.stopped);
    else shown.delete("export");
    for (const w of report.warnings) log(`warning: ${w}`);
  });
  sync.on("paused", ({ reason }) => log(`paused: ${reason} Waiting for the folder to come back.`));
  sync.on("resumed", () => log("resumed: the folder is back."));
  sync.on("error", (error) => log(`error: ${error.message}`));
}

async function run(values: FlagValues): Promise<number> {
  const file = databasePath("watch", values);
  const rescanSeconds = numberFlag("watch", values, "rescan-interval", 30);
  const sync = await openLocked(file, {
    rescanIntervalMs: Math.round(rescanSeconds * 1000),
    // Local writes are exported about this soon after they are made (PRAGMA data_version is cheap).
    localPollMs: 250,
    usePolling: values.poll === true,
  });
  let signals = 0;
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals === 1) resolve(signal);
      else {
        // The user insists: leave now. At worst a temp file remains, which the next pass removes.
        process.stderr.write("folder-sync: stopping without waiting for the current pass.\n");
        process.exit(130);
      }
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  try {
    printEvents(sync);
    await sync.watch();
    log(
      `watching ${file} as ${sync.clientId} through ${sync.settings.folder} (rescan every ${rescanSeconds} s${
        values.poll === true ? ", polling" : ""
      }); Ctrl-C to stop`,
    );
    const signal = await stopped;
    log(`${signal}: finishing the current pass, then stopping.`);
  } finally {
    await sync.close();
  }
  log("stopped.");
  return EXIT.ok;
}

export const watchCommand: Command = {
  name: "watch",
  summary: "Keep a database in sync until stopped (Ctrl-C or SIGTERM).",
  usage: "watch --db FILE [--rescan-interval SECONDS] [--poll]",
  flags: {
    db: { type: "string", value: "FILE", description: "A database set up with `folder-sync init`." },
    "rescan-interval": {
      type: "string",
      value: "SECONDS",
      description: "Re-list the folder this often even without events (default 30).",
    },
    poll: {
      type: "boolean",
      description: "Poll the folder instead of native events (network shares, FUSE mounts).",
    },
  },
  details: [
    "Prints one line per event: applied, exported, conflict, waiting, stopped, paused, resumed, error.",
    "Local changes are exported within about a second of being made. While the folder's marker is",
    "missing (an unplugged stick, a share that is down) it pauses, saying why, and resumes when it is back.",
    "On SIGINT/SIGTERM it finishes the pass in progress, releases the lock and exits 0; a second signal",
    "exits at once (130).",
  ],
  exitCodes: [
    "0  stopped by SIGINT/SIGTERM",
    "1  the database cannot be opened (not set up, not a database)",
    EXIT_USAGE_LINE,
    EXIT_LOCKED_LINE,
  ],
  run,
};
