// Text for reports, shared by sync, watch, status and doctor: the one-line pass summary, what a peer waits
// for and why, a stopped stream with its file and the way out, and junk names grouped by kind.
import type { StreamProblem, SyncReport } from "../sync/report.js";

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

const WAIT_WORDS: Record<string, string> = {
  gap: "a file has not arrived yet",
  incomplete: "a file is still arriving",
  "not-regular": "a name is not a regular file yet (placeholder?)",
  unreadable: "a file cannot be read yet",
};

export function waitingText(client: string, w: { seq: number; reason: string; detail: string }): string {
  return `${client} waits at #${w.seq}: ${WAIT_WORDS[w.reason] ?? w.reason} (${w.detail})`;
}

export function stoppedLines(who: string, p: StreamProblem, indent = ""): string[] {
  return [
    `${indent}${who} stopped at ${p.file} [${p.code}]: ${p.message}`,
    `${indent}  what to do: ${p.action}`,
  ];
}

/** Junk names grouped by kind, e.g. "2 syncthing-conflict, 1 os". */
export function junkKinds(junk: SyncReport["junk"]): string {
  const counts = new Map<string, number>();
  for (const j of junk) counts.set(j.kind, (counts.get(j.kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${n} ${kind}`).join(", ");
}

/** The one-line summary of a pass. */
export function summaryLine(r: SyncReport): string {
  const files = r.peers.reduce((n, p) => n + p.appliedFiles, 0);
  const parts = [
    `applied ${plural(r.applied, "change")}${files > 0 ? ` from ${plural(files, "file")}` : ""}`,
    plural(r.conflicts, "conflict"),
    `exported ${plural(r.export.exportedChanges, "change")}${
      r.export.files.length > 0 ? ` (${r.export.files.join(", ")})` : ""
    }`,
  ];
  if (r.export.republished.length > 0) parts.push(`republished ${r.export.republished.join(", ")}`);
  if (r.pending > 0) parts.push(`${plural(r.pending, "change")} pending a parent row`);
  for (const p of r.peers) {
    if (p.waiting) parts.push(waitingText(p.client, p.waiting));
    if (p.stopped) parts.push(`${p.client} STOPPED at ${p.stopped.file}`);
  }
  if (r.export.stopped) parts.push(`export STOPPED (${r.export.stopped.code})`);
  if (r.junk.length > 0) parts.push(`${plural(r.junk.length, "junk name")} skipped (${junkKinds(r.junk)})`);
  return parts.join("; ");
}

/** Lines after the summary: each stopped stream with its way out, and warnings. */
export function detailLines(r: SyncReport): string[] {
  const lines: string[] = [];
  for (const p of r.peers) if (p.stopped) lines.push(...stoppedLines(`${p.client}'s stream`, p.stopped));
  if (r.export.stopped) lines.push(...stoppedLines("export", r.export.stopped));
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines;
}

export function out(line = ""): void {
  process.stdout.write(`${line}\n`);
}
