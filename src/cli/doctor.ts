// `folder-sync doctor`: checks the database and the folder and explains each finding with what to do. Notes
// (junk names, peers waiting on a file still arriving, unpublished changes) are normal operation; failures
// (a stopped stream, a copied database, a missing marker, an unknown format, a schema mismatch) need the user
// and make the exit code 1. Read-only and lock-free, like status.
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import path from "node:path";
import type { StreamProblem } from "../sync/report.js";
import type { FlagValues } from "./args.js";
import { type Command, EXIT, EXIT_USAGE_LINE } from "./command.js";
import { JUNK_ADVICE, STOP_ADVICE, WAIT_ADVICE } from "./doctor-advice.js";
import { out, plural } from "./format.js";
import { defaultClientId } from "./init.js";
import { databasePath, openReadOnly } from "./open.js";
import { inspectFolder } from "./status.js";

interface Finding {
  readonly level: "ok" | "note" | "FAIL";
  readonly title: string;
  readonly lines?: readonly string[];
}

const MAX_NAMES_PER_KIND = 10;

function junkFindings(junk: readonly { name: string; kind: string }[]): Finding[] {
  if (junk.length === 0) return [];
  const byKind = new Map<string, string[]>();
  for (const j of junk) byKind.set(j.kind, [...(byKind.get(j.kind) ?? []), j.name]);
  const lines: string[] = [];
  for (const [kind, names] of byKind) {
    lines.push(`${kind} (${names.length}): ${JUNK_ADVICE[kind] ?? JUNK_ADVICE.unknown}`);
    for (const name of names.slice(0, MAX_NAMES_PER_KIND)) lines.push(`  ${JSON.stringify(name)}`);
    if (names.length > MAX_NAMES_PER_KIND) lines.push(`  ... and ${names.length - MAX_NAMES_PER_KIND} more`);
  }
  return [
    {
      level: "note",
      title: `${plural(junk.length, "name")} in changes/ ${junk.length === 1 ? "is" : "are"} not changeset files and are ignored (not a failure):`,
      lines,
    },
  ];
}

function stopFinding(who: string, p: StreamProblem, explain: string | undefined): Finding {
  return {
    level: "FAIL",
    title: `${who} is stopped at ${p.file} [${p.code}]`,
    lines: [p.message, ...(explain ? [explain] : []), `What to do: ${p.action}`],
  };
}

async function run(values: FlagValues): Promise<number> {
  const file = databasePath("doctor", values);
  const { sync, close } = await openReadOnly(file);
  const findings: Finding[] = [];
  try {
    const { report, folderProblem } = await inspectFolder(sync);
    const status = await sync.status(report);
    const folder = status.folder;
    out(`folder-sync doctor: ${file} (client ${status.clientId}, folder ${folder})`);
    findings.push({
      level: "ok",
      title: `database set up as ${status.clientId}; ${plural(status.publishedFiles, "file")} published`,
    });
    if (folderProblem) {
      findings.push({
        level: "FAIL",
        title: `the folder cannot be used [${folderProblem.code}]`,
        lines: [
          folderProblem.message,
          folderProblem.code === "FOLDER_MARKER_MISSING"
            ? `What to do: mount the drive or share, start the sync service or let the cloud folder finish downloading, so that ${path.join(folder, "folder-sync.json")} is there. If the folder moved, run \`folder-sync init --db ${file} --folder NEW_PATH\`. If the marker was deleted, copy it back from another device's copy of the folder (it must keep the same id).`
            : folderProblem.code === "FOLDER_MARKER_MISMATCH"
              ? `What to do: check that ${folder} is the folder this database syncs with; to move this database to that folder, run \`folder-sync init --db ${file} --folder ${folder} --force\`.`
              : "What to do: check that the folder is reachable and readable, then run doctor again.",
        ],
      });
    } else {
      findings.push({ level: "ok", title: `folder marker found (folder id ${status.folderId})` });
      const changes = path.join(folder, "changes");
      const writable = await access(changes, constants.W_OK).then(
        () => true,
        (error: NodeJS.ErrnoException) => error.code === "ENOENT",
      );
      if (!writable)
        findings.push({
          level: "FAIL",
          title: `${changes} is not writable`,
          lines: ["What to do: fix the folder's permissions; local changes cannot be published until then."],
        });
    }
    if (report) {
      findings.push(...junkFindings(report.junk));
      for (const p of report.peers) {
        if (p.waiting)
          findings.push({
            level: "note",
            title: `${p.client} waits at #${p.waiting.seq} (${p.waiting.reason}; not a failure)`,
            lines: [p.waiting.detail, WAIT_ADVICE[p.waiting.reason] ?? ""],
          });
        if (p.stopped)
          findings.push(stopFinding(`${p.client}'s stream`, p.stopped, STOP_ADVICE[p.stopped.code]));
      }
      const exp = report.export;
      if (exp.stopped) {
        const copied = exp.stopped.code === "COPIED_DATABASE";
        findings.push({
          level: "FAIL",
          title: `export is stopped at ${exp.stopped.file} [${exp.stopped.code}]`,
          lines: [
            exp.stopped.message,
            ...(copied
              ? [
                  `Two databases write as ${status.clientId}: this one and a copy of it (a copied database file or a restored backup), so their files collide in the folder.`,
                  "What to do: keep the id on one copy; on the OTHER copy, give it a new client id:",
                  `  folder-sync init --db ${file} --folder ${folder} --client-id NEW --force   (NEW e.g. ${defaultClientId()})`,
                  "Its changes not yet published are then exported under the new id. Then run `folder-sync sync` on both.",
                ]
              : [`What to do: ${exp.stopped.action}`]),
          ],
        });
      }
      if (exp.republished.length > 0)
        findings.push({
          level: "note",
          title: `${plural(exp.republished.length, "own file")} missing or cut short in the folder`,
          lines: [`${exp.republished.join(", ")}: the next sync republishes them byte-identical.`],
        });
      for (const w of report.warnings) findings.push({ level: "note", title: `warning: ${w}` });
    }
    if (status.pendingLocalChanges > 0)
      findings.push({
        level: "note",
        title: `${plural(status.pendingLocalChanges, "local change")} not yet published`,
        lines: [`Run \`folder-sync sync --db ${file}\` (or keep \`folder-sync watch\` running).`],
      });
    if (status.pendingRegisters > 0)
      findings.push({
        level: "note",
        title: `${plural(status.pendingRegisters, "change")} wait for their parent row`,
        lines: [
          "They are shown as soon as the parent arrives (a peer's file still on its way). Nothing is lost.",
        ],
      });
    for (const p of status.peers)
      if (p.clockSkewWarning) findings.push({ level: "note", title: `clock: ${p.clockSkewWarning}` });
    if (status.conflicts > 0)
      findings.push({
        level: "note",
        title: `${plural(status.conflicts, "losing change")} in the conflict log`,
        lines: [`Run \`folder-sync conflicts --db ${file}\` to see them and recover one if needed.`],
      });
  } finally {
    await close();
  }
  for (const f of findings) {
    out(`${f.level.padEnd(5)} ${f.title}`);
    for (const line of f.lines ?? []) if (line) out(`        ${line}`);
  }
  const failures = findings.filter((f) => f.level === "FAIL").length;
  const notes = findings.filter((f) => f.level === "note").length;
  out(
    failures > 0
      ? `${plural(failures, "problem")} need${failures === 1 ? "s" : ""} you (FAIL above).`
      : `Healthy${notes > 0 ? ` (${plural(notes, "note")}, nothing that needs you)` : ""}.`,
  );
  return failures > 0 ? EXIT.failure : EXIT.ok;
}

export const doctorCommand: Command = {
  name: "doctor",
  summary: "Check the database and folder, explaining each finding and what to do.",
  usage: "doctor --db FILE",
  flags: { db: { type: "string", value: "FILE", description: "A database set up with `folder-sync init`." } },
  details: [
    "Notes are normal operation: junk names in changes/ (conflict copies, temp files, placeholders, OS files),",
    "peers waiting on a file still arriving, changes not yet published. Failures need you: a stopped stream",
    "(corrupt or bad file, broken chain, unknown format, schema mismatch), a copied database writing as this",
    "client, a missing folder marker. Read-only; runs while `folder-sync watch` syncs the same database.",
  ],
  exitCodes: ["0  healthy (notes only)", "1  something needs you (a FAIL line)", EXIT_USAGE_LINE],
  run,
};
