// Ingest (DESIGN section 4): per peer, apply files strictly in seq order, each (or each batch of a large
// one) in one transaction with its cursor advance. A gap or an incomplete file waits; a corrupt or bad
// file, or a broken chain, stops only that peer's stream.

import { validateChange } from "../apply/validate.js";
import { decodeChangeBatches, type ScanResult, scanChangeset } from "../changeset/decode.js";
import type { ChangeLine } from "../changeset/format.js";
import { sha256Hex } from "../changeset/hash.js";
import { parseTimestamp } from "../changeset/timestamp.js";
import type { ChangeFileEntry, SyncTransport } from "../transport/transport.js";
import type { CursorStore, PeerCursor } from "./cursors.js";
import type { Replica } from "./replica.js";
import type { PeerReport, StopReason, StreamProblem, WaitReason } from "./report.js";

/** Files up to this size are read once into memory, so the bytes checked are exactly the bytes applied. */
export const WHOLE_FILE_LIMIT = 8 * 1024 * 1024;
/** Larger files are applied in batches of this many changes, each with its cursor advance. */
export const BATCH_SIZE = 5000;

export interface IngestContext {
  readonly replica: Replica;
  readonly transport: SyncTransport;
  readonly cursors: CursorStore;
  readonly warnings: string[];
  readonly onApplied?: (client: string, seq: number, changes: number) => void;
  readonly onBatch?: (client: string, seq: number, changes: number) => void;
  readonly wholeFileLimit?: number;
  readonly batchSize?: number;
  /** Check files without applying them (status, doctor): a file that would apply counts as `ready`. */
  readonly dryRun?: boolean;
}

const WAIT_ACTIONS: Record<WaitReason, (client: string, seq: number) => string> = {
  gap: (c, n) =>
    `Nothing to do yet: the sync service has not delivered ${c}'s file ${n}. If it never comes, run \`folder-sync sync\` on ${c}'s device: a client republishes its own lost files.`,
  incomplete: () =>
    "Nothing to do yet: the file is still arriving, or was cut short (a stick pulled mid-copy). It is checked again on every pass; copy it again if it stays cut.",
  "not-regular": () =>
    "The file is not downloaded to this device yet (a cloud placeholder) or is not a regular file. Make the sync folder available offline on this device.",
  unreadable: () =>
    "Check that the folder's storage is online and readable by this user; the file is retried on every pass.",
};

const STOP_ACTIONS: Record<StopReason, string> = {
  corrupt:
    "The file's checksum does not match: it was damaged in transit or on disk. If the sync service still delivers it, wait; otherwise ask the peer to run `folder-sync doctor` (its own copy is republished when missing or cut short).",
  bad: "The file breaks the changeset format. Check that every client runs a compatible version of folder-sync; ask the peer to run `folder-sync doctor`.",
  "chain-broken":
    "Two databases are writing as this client (a copied database or a restored backup). Give one copy a new client id (`folder-sync init --client-id NEW --force`) and re-export its changes; see `folder-sync doctor`.",
  "copied-database":
    "Another database writes under this client id. Give one copy a new client id and re-export its unpublished changes; see `folder-sync doctor`.",
  "apply-failed":
    "This database's tables do not accept the change (a constraint or column the sync config does not describe). Compare the table with the other clients' schema; `folder-sync doctor` shows the details. The stream resumes when the file or the schema changes.",
  "changed-while-applying":
    "The file changed after part of it was applied. Make sure only its owner writes it; see `folder-sync doctor`.",
};

/**
 * When the chain breaks after file `upTo`, looks for the applied files the folder now holds with other
 * content: returns the seq (and hash) to go back to, or undefined when every applied file is still as applied
 * (a real break: stop).
 */
async function findReplaced(
  ctx: IngestContext,
  client: string,
  files: ReadonlyMap<number, ChangeFileEntry>,
  upTo: number,
): Promise<{ seq: number; hash: string | null } | undefined> {
  let replacedFrom: number | undefined;
  for (let k = upTo; k >= 1; k--) {
    const applied = ctx.cursors.appliedHash(client, k);
    const entry = files.get(k);
    if (applied === undefined || !entry?.regular) break;
    let bytes: Uint8Array;
    try {
      bytes = await ctx.transport.read(entry.name);
    } catch {
      break;
    }
    if (sha256Hex(bytes) === applied) break;
    replacedFrom = k;
  }
  if (replacedFrom === undefined) return undefined;
  const seq = replacedFrom - 1;
  return { seq, hash: seq === 0 ? null : (ctx.cursors.appliedHash(client, seq) ?? null) };
}

export async function ingestPeer(
  ctx: IngestContext,
  client: string,
  files: ReadonlyMap<number, ChangeFileEntry>,
): Promise<PeerReport> {
  const { replica } = ctx;
  let cursor = ctx.cursors.get(client);
  let appliedFiles = 0;
  let appliedChanges = 0;
  let lost = 0;
  let duplicates = 0;
  let ready = 0;
  let rewound = false;
  const report = (extra: Partial<PeerReport>): PeerReport => ({
    client,
    state: "up-to-date",
    seq: ctx.dryRun ? ctx.cursors.get(client).seq : cursor.seq,
    ready,
    newest: maxSeq,
    appliedFiles,
    appliedChanges,
    lost,
    duplicates,
    ...extra,
  });
  const wait = (seq: number, reason: WaitReason, detail: string) =>
    report({ state: "waiting", waiting: { seq, reason, detail, action: WAIT_ACTIONS[reason](client, seq) } });
  const stop = (reason: StopReason, p: Omit<StreamProblem, "action">) =>
    report({ state: "stopped", stopped: { ...p, reason, action: STOP_ACTIONS[reason] } });
  const maxSeq = Math.max(0, ...files.keys());

  for (;;) {
    const seq = cursor.seq + 1;
    const entry = files.get(seq);
    if (!entry) {
      if (maxSeq > seq) return wait(seq, "gap", `file ${seq} of ${client} has not arrived; ${maxSeq} has`);
      return report({});
    }
    const file = `changes/${entry.name}`;
    if (!entry.regular)
      return wait(seq, "not-regular", `${file} is not a regular file (a placeholder not yet downloaded?)`);
    let bytes: Uint8Array | undefined;
    let scan: ScanResult;
    const validate = (c: ChangeLine, line: number) =>
      validateChange(replica.config, c, line, replica.notNull);
    try {
      if (entry.size <= (ctx.wholeFileLimit ?? WHOLE_FILE_LIMIT)) {
        bytes = await ctx.transport.read(entry.name);
        scan = await scanChangeset(bytes, { client, seq }, { validateChange: validate });
      } else {
        scan = await scanChangeset(
          ctx.transport.stream(entry.name),
          { client, seq },
          { validateChange: validate },
        );
      }
    } catch (error) {
      return wait(seq, "unreadable", `${file} cannot be read: ${(error as Error).message}`);
    }
    if (!scan.ok) {
      const p = scan.problem;
      const where = p.line === undefined ? file : `${file} line ${p.line}`;
      if (p.kind === "incomplete") return wait(seq, "incomplete", `${where}: ${p.message} (still arriving?)`);
      return stop(p.kind, {
        file,
        code: p.code,
        ...(p.line === undefined ? {} : { line: p.line }),
        message: `${where}: ${p.message}`,
      });
    }
    if (scan.header.prev !== cursor.hash && !ctx.dryRun && !rewound) {
      const back = await findReplaced(ctx, client, files, seq - 1);
      if (back !== undefined) {
        // Files applied here were replaced in the folder (a sync service settled on the other copy of a
        // copied database's file): re-apply from there. Applying is idempotent; the losing copy's changes
        // stay in the registers until its re-export under a new id beats them.
        rewound = true;
        replica.transaction(() => ctx.cursors.rewind(client, back.seq, back.hash));
        ctx.warnings.push(
          `${client}'s file ${back.seq + 1} in the folder is not the one applied here: two databases wrote as ${client}. Re-applied ${client} from file ${back.seq + 1}; see \`folder-sync doctor\` on ${client}'s devices.`,
        );
        cursor = ctx.cursors.get(client);
        continue;
      }
    }
    if (scan.header.prev !== cursor.hash)
      return stop("chain-broken", {
        file,
        code: "CHAIN_BROKEN",
        message: `${file}: its header's prev (${scan.header.prev ?? "null"}) is not the hash of ${client}'s file ${seq - 1} applied here (${cursor.hash ?? "null"}): two databases write as ${client}`,
      });
    if (cursor.partialOffset > 0 && cursor.partialHash !== scan.sha256)
      return stop("changed-while-applying", {
        file,
        code: "CHANGED_WHILE_APPLYING",
        message: `${file} differs from the copy whose first ${cursor.partialOffset} bytes were applied`,
      });

    if (ctx.dryRun) {
      ready++;
      cursor = { client, seq, hash: scan.sha256, partialOffset: 0, partialHash: null };
      continue;
    }
    const source = entry.name;
    const start = cursor.partialOffset;
    const appliedBefore = appliedChanges;
    const batches = decodeChangeBatches(
      bytes ? bytes.subarray(start) : ctx.transport.stream(entry.name, start),
      {
        startOffset: start,
        batchSize: ctx.batchSize ?? BATCH_SIZE,
      },
    );
    let held: { changes: ChangeLine[]; endOffset: number } | undefined;
    const commit = (batch: ChangeLine[], final: boolean, endOffset: number) => {
      const at = new Date(replica.now()).toISOString();
      const { result, warnings } = replica.applyTransaction(() => {
        let maxTs: number | null = null;
        for (const c of batch) {
          const outcome = replica.applier.apply(c, source);
          if (outcome === "lost") lost++;
          else if (outcome === "duplicate") duplicates++;
          const t = parseTimestamp(c.ts)!;
          if (maxTs === null || t > maxTs) maxTs = t;
        }
        const next: PeerCursor = final
          ? { client, seq, hash: scan.ok ? scan.sha256 : null, partialOffset: 0, partialHash: null }
          : {
              client,
              seq: seq - 1,
              hash: cursor.hash,
              partialOffset: endOffset,
              partialHash: scan.ok ? scan.sha256 : null,
            };
        ctx.cursors.put(next, batch.length, at, maxTs);
        if (final && scan.ok) ctx.cursors.recordFile(client, seq, scan.sha256);
        return next;
      });
      ctx.warnings.push(...warnings);
      cursor = result;
      appliedChanges += batch.length;
      ctx.onBatch?.(client, seq, batch.length);
    };
    // A change the database refuses (a constraint the config does not know of) stops this stream only.
    let refused: Error | undefined;
    const tryCommit = (batch: ChangeLine[], final: boolean, endOffset: number): boolean => {
      try {
        commit(batch, final, endOffset);
        return true;
      } catch (error) {
        refused = error as Error;
        return false;
      }
    };
    const refusedReport = () =>
      stop("apply-failed", {
        file,
        code: "APPLY_FAILED",
        message: `${file}: this database refused a change of it (${refused?.message}); nothing of that batch was applied`,
      });
    try {
      for await (const batch of batches) {
        if (held && !tryCommit(held.changes, false, held.endOffset)) return refusedReport();
        held = batch;
      }
    } catch (error) {
      // What was read before the failure is kept: the held batch is a whole number of valid lines.
      if (held && !tryCommit(held.changes, false, held.endOffset)) return refusedReport();
      return wait(seq, "unreadable", `${file} could not be read to the end: ${(error as Error).message}`);
    }
    if (!tryCommit(held?.changes ?? [], true, held?.endOffset ?? 0)) return refusedReport();
    appliedFiles++;
    ctx.onApplied?.(client, seq, appliedChanges - appliedBefore);
  }
}
