// The names of the shared folder (DESIGN section 3): client ids, changeset names, our temp names, a label for every
// other name, and the marker's format. Pure. Ingest is decided by parseChangeFileName alone; classifyJunk only labels.

import { SyncError, TransportError } from "../sync/errors.js";
import type { FolderMarker } from "./transport.js";

export const MARKER_FILE = "folder-sync.json";
export const CHANGES_DIR = "changes";

export const CLIENT_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/** Largest seq that fits the 12 digits of a file name. */
export const MAX_SEQ = 999_999_999_999;

const CLIENT_ID_RULE =
  "A client id is 1 to 64 characters of a-z, 0-9 and '-', starts and ends with a letter or digit, " +
  "and does not end in '-' followed by 12 digits.";

// Ids may not end like a changeset suffix: otherwise `<id>-<12 digits>` (a OneDrive "-<host>" copy, say) could
// parse as another client's file.
const SEQ_SUFFIX = /-\d{12}$/;
const CHANGE_NAME = /^([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)-(\d{12})\.ndjson$/;
const TEMP_NAME = /^\.([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)-(\d{12})\.([0-9a-f]{8,32})\.tmp$/;
const TEMP_RANDOM = /^[0-9a-f]{8,32}$/;

/**
 * Why `id` is not a valid client id, or undefined when it is.
 * @example clientIdProblem("Alice") // "Client id "Alice" has upper-case letters. A client id is ..."
 */
export function clientIdProblem(id: string): string | undefined {
  const shown = JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}...` : id);
  let problem: string | undefined;
  if (id.length === 0) problem = "Client id is empty.";
  else if (id.length > 64) problem = `Client id ${shown} is ${id.length} characters long.`;
  else if (/[A-Z]/.test(id)) {
    // Case-folding filesystems (FAT, exFAT, APFS, NTFS) would merge "Alice" and "alice".
    const suggestion = id
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "");
    const hint =
      CLIENT_ID_PATTERN.test(suggestion) && !SEQ_SUFFIX.test(suggestion)
        ? ` (use ${JSON.stringify(suggestion)})`
        : "";
    problem = `Client id ${shown} has upper-case letters${hint}.`;
  } else if (/[^a-z0-9-]/.test(id))
    problem = `Client id ${shown} has characters other than a-z, 0-9 and '-'.`;
  else if (id.startsWith("-") || id.endsWith("-")) problem = `Client id ${shown} starts or ends with '-'.`;
  else if (SEQ_SUFFIX.test(id)) problem = `Client id ${shown} ends in '-' followed by 12 digits.`;
  else if (!CLIENT_ID_PATTERN.test(id)) problem = `Client id ${shown} is not valid.`;
  return problem === undefined ? undefined : `${problem} ${CLIENT_ID_RULE}`;
}

function assertClient(client: string): void {
  const problem = clientIdProblem(client);
  if (problem !== undefined) throw new SyncError("CLIENT_ID_INVALID", problem);
}

function pad12(seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 1 || seq > MAX_SEQ) {
    throw new RangeError(`A changeset seq must be an integer from 1 to ${MAX_SEQ}, got ${seq}.`);
  }
  return String(seq).padStart(12, "0");
}

/** @example changeFileName("alice", 1) // "alice-000000000001.ndjson" */
export function changeFileName(client: string, seq: number): string {
  assertClient(client);
  return `${client}-${pad12(seq)}.ndjson`;
}

/**
 * The client and seq of a changeset file name, or undefined for any other name. Exact: no trimming, no
 * lowercasing, no path separators.
 * @example parseChangeFileName("alice-000000000002.ndjson") // { client: "alice", seq: 2 }
 */
export function parseChangeFileName(name: string): { client: string; seq: number } | undefined {
  const match = CHANGE_NAME.exec(name);
  if (match === null) return undefined;
  const client = match[1]!;
  const seq = Number(match[2]!);
  if (seq < 1 || clientIdProblem(client) !== undefined) return undefined;
  return { client, seq };
}

/**
 * The temporary name a file is written under before its rename. Never `.syncthing.*`: Syncthing owns that prefix.
 * @param random 8 to 32 lowercase hex digits
 * @example tempFileName("alice", 1, "0badc0de") // ".alice-000000000001.0badc0de.tmp"
 */
export function tempFileName(client: string, seq: number, random: string): string {
  assertClient(client);
  if (!TEMP_RANDOM.test(random))
    throw new RangeError(`Temp file suffix must be 8-32 hex digits, got "${random}".`);
  return `.${client}-${pad12(seq)}.${random}.tmp`;
}

/** Whether `name` is a temporary file of `client` (which that client alone may remove). */
export function isOwnTempFile(name: string, client: string): boolean {
  const match = TEMP_NAME.exec(name);
  return match !== null && match[1] === client && clientIdProblem(client) === undefined;
}

// Classification below is for reports and advice only. Conflict names are localized (Dropbox translates
// "conflicted copy"), so copies are recognized by structure: a valid changeset base followed by a suffix.

const OS_NAMES = new Set([
  ".ds_store",
  "thumbs.db",
  "ehthumbs.db",
  "desktop.ini",
  "icon\r",
  ".spotlight-v100",
  ".trashes",
  ".fseventsd",
  ".temporaryitems",
  ".documentrevisions-v100",
  ".apdisk",
  "$recycle.bin",
  "system volume information",
  ".directory",
  "@eadir",
  "#recycle",
  ".@__thumb",
  ".appledouble",
  ".appledb",
]);

const SYNC_INTERNAL =
  /^(?:\.stfolder|\.stignore|\.stversions|\.dropbox|\.dropbox\.attr|\.dropbox\.cache|\.tmp\.drive(?:down|up)load|\.?_?\.sync_.*\.db.*|\._sync_.*\.db.*|\.csync_journal\.db.*|\.(?:owncloud|nextcloud)sync\.log.*)$/i;

/** A valid changeset base (`<client>-<seq12>`) at the start of `name`, and the rest. */
function splitValidBase(name: string): { rest: string } | undefined {
  const match = /^([a-z0-9-]+-\d{12})(.*)$/s.exec(name);
  if (match === null || parseChangeFileName(`${match[1]!}.ndjson`) === undefined) return undefined;
  return { rest: match[2]! };
}

function classifyCopy(name: string): string | undefined {
  const split = splitValidBase(name);
  if (split === undefined) return undefined;
  const { rest } = split;
  // `base (inner)` plus any extension: Dropbox, Nextcloud and Google Drive put the tag before the extension.
  const paren = /^ \((.*)\)(?:\.[^ ]*)?$/s.exec(rest);
  if (paren !== null) {
    const inner = paren[1]!;
    if (/^\d+$/.test(inner) || /^[0-9a-f]{8}$/.test(inner)) return "duplicate-copy";
    // Dropbox ends the tag in the save date; Nextcloud adds the time (HHMMSS); anything else is generic.
    if (/\d{4}-\d{2}-\d{2}$/.test(inner)) return "dropbox-conflict";
    return "cloud-conflict";
  }
  if (/^ \d+(?:\.[^ ]*)?$/.test(rest)) return "duplicate-copy"; // iCloud: "name 2.ext"
  if (/^_conflict-\d{8}-\d{6}/.test(rest)) return "cloud-conflict"; // old Nextcloud
  if (/^-.+\.ndjson$/s.test(rest)) return "duplicate-copy"; // OneDrive: "name-<host>.ext"
  return undefined;
}

/**
 * A short label for a name in `changes/` that is not a changeset file, for reports.
 * @example classifyJunk("alice-000000000001 (1).ndjson") // "duplicate-copy"
 */
export function classifyJunk(name: string): string {
  const lower = name.toLowerCase();
  // Before the AppleDouble test: Nextcloud's journal is "._sync_*.db".
  if (SYNC_INTERNAL.test(name)) return "sync-internal";
  if (name.startsWith("._") || OS_NAMES.has(lower) || /^\.trash-\d+$/.test(lower)) return "os";
  if (/\.(?:owncloud|nextcloud)$/i.test(name)) return "cloud-placeholder";
  // Editors: vim swap files and backups, LibreOffice and Office lock files.
  if (
    /^\..*\.sw[a-p]$/s.test(name) ||
    name.endsWith("~") ||
    /^\.~lock\..*#$/s.test(name) ||
    name.startsWith("~$")
  )
    return "editor";
  if (/^\.syncthing\..*\.tmp$/s.test(name) || /^~syncthing~.*\.tmp$/s.test(name)) return "syncthing-temp";
  if (name.includes(".sync-conflict-")) return "syncthing-conflict";
  if (TEMP_NAME.test(name)) return "our-temp";
  if (/^\..+\.icloud$/s.test(name)) return "icloud-placeholder";
  if (/\.(?:partial|part|filepart|crdownload)$/i.test(name) || /^\..+\.~[0-9a-f]{1,8}$/s.test(name)) {
    return "partial";
  }
  // rsync's mkstemp name: "." + the final name + "." + 6 random characters.
  const rsync = /^\.(.+)\.[A-Za-z0-9]{6}$/s.exec(name);
  if (rsync !== null && parseChangeFileName(rsync[1]!) !== undefined) return "partial";
  if (lower !== name && parseChangeFileName(lower) !== undefined) return "wrong-case";
  return classifyCopy(name) ?? "unknown";
}

/** Parses a marker file's text; throws FOLDER_MARKER_MISMATCH for anything that is not a marker. */
export function parseMarker(text: string, where: string): FolderMarker {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TransportError(
      "FOLDER_MARKER_MISMATCH",
      `${where} is not valid JSON. If a sync service is still downloading it, wait; otherwise restore it from ` +
        "another client's copy of the folder (it must keep the same id).",
      { cause: error },
    );
  }
  const record = value as { format?: unknown; id?: unknown } | null;
  if (
    typeof record !== "object" ||
    record === null ||
    !Number.isSafeInteger(record.format) ||
    (record.format as number) < 1 ||
    typeof record.id !== "string" ||
    record.id.length === 0
  ) {
    throw new TransportError(
      "FOLDER_MARKER_MISMATCH",
      `${where} is not a folder marker (expected {"format":1,"id":"..."}). Check that this is the sync folder; ` +
        "restore the file from another client's copy if it was damaged.",
    );
  }
  return { format: record.format as number, id: record.id };
}
