// `folder-sync conflicts`: the conflict log, newest first: every change that lost (lost), local state a
// peer's winner replaced (replaced) and rows hidden by a natural-key twin (shadowed), each with the loser's
// full payload so a user can write it back. Read-only and lock-free, like status.
import type { ConflictRecord } from "../apply/conflicts.js";
import { type FlagValues, numberFlag } from "./args.js";
import { type Command, EXIT, EXIT_USAGE_LINE } from "./command.js";
import { out, plural } from "./format.js";
import { databasePath, openReadOnly } from "./open.js";

const KIND_WORDS: Record<string, string> = {
  lost: "a change that lost and was not applied",
  replaced: "local state a peer's newer change replaced",
  shadowed: "a row hidden because another row holds the same unique value",
};

function keyText(key: unknown): string {
  if (typeof key !== "object" || key === null) return JSON.stringify(key);
  const k = key as { ts?: string; version?: number; flag?: number; client?: string };
  return `${k.ts ?? "?"} v${k.version ?? "?"}${k.flag === 1 ? " (delete/link)" : ""} by ${k.client ?? "?"}`;
}

function lines(c: ConflictRecord): string[] {
  return [
    `#${c.id} ${c.recordedAt} ${c.kind}: ${c.entity} ${c.uuid} (${KIND_WORDS[c.kind] ?? c.kind})`,
    `    loser:  ${keyText(c.loserKey)}`,
    `    winner: ${keyText(c.winnerKey)}`,
    ...(c.source ? [`    source: ${c.source}`] : []),
    `    loser's payload: ${JSON.stringify(c.loserPayload)}`,
  ];
}

async function run(values: FlagValues): Promise<number> {
  const file = databasePath("conflicts", values);
  const limit = numberFlag("conflicts", values, "limit", 100, true);
  const { sync, close } = await openReadOnly(file);
  try {
    const records = sync.conflicts(limit);
    if (values.json === true) {
      out(JSON.stringify(records, null, 2));
      return EXIT.ok;
    }
    if (records.length === 0) {
      out("No conflicts recorded.");
      return EXIT.ok;
    }
    const total = (await sync.status()).conflicts;
    out(
      `${plural(total, "conflict")} recorded${total > records.length ? `; the newest ${records.length} shown (--limit N)` : ""}:`,
    );
    for (const c of records) for (const line of lines(c)) out(line);
    out("To recover a losing change, write its payload back with your app (a new edit wins over both).");
    return EXIT.ok;
  } finally {
    await close();
  }
}

export const conflictsCommand: Command = {
  name: "conflicts",
  summary: "List recorded losing changes, so one can be recovered.",
  usage: "conflicts --db FILE [--json] [--limit N]",
  flags: {
    db: { type: "string", value: "FILE", description: "A database set up with `folder-sync init`." },
    json: { type: "boolean", description: "Print the records as JSON." },
    limit: { type: "string", value: "N", description: "Show the newest N records (default 100)." },
  },
  details: [
    "Kinds: lost (a change that lost to a newer one and was not applied), replaced (this device's state",
    "that a peer's newer change replaced), shadowed (a row hidden because another holds the same unique value).",
    "Each record has the entity, uuid, when, the loser's key and full payload, the winner's key and the source file.",
  ],
  exitCodes: ["0  listed", "1  the database cannot be read or is not set up", EXIT_USAGE_LINE],
  run,
};
