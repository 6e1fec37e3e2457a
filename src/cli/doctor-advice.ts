// The explanations `folder-sync doctor` gives: per kind of junk name (classifyJunk's labels), per reason a
// peer waits, and per code (or reason) a stream stopped. Plain data, kept apart so doctor.ts stays readable.

const CONFLICT_COPY =
  "copies a sync service made when two versions of a name met. folder-sync never reads them (the checksum and chain decide which file is real); delete them once every device has synced, if you like.";
const TEMP =
  "files still being written or downloaded, or left by an interrupted transfer. Ignored; they go away by themselves (this client's own temp files are removed by its next sync).";

export const JUNK_ADVICE: Readonly<Record<string, string>> = {
  "syncthing-conflict": `Syncthing conflict ${CONFLICT_COPY}`,
  "dropbox-conflict": `Dropbox conflicted ${CONFLICT_COPY}`,
  "cloud-conflict": `cloud-service conflict ${CONFLICT_COPY}`,
  "duplicate-copy": `duplicate ${CONFLICT_COPY}`,
  "syncthing-temp": `Syncthing temp ${TEMP}`,
  "our-temp": `folder-sync temp ${TEMP}`,
  partial: `partial downloads: ${TEMP}`,
  "icloud-placeholder":
    "iCloud placeholders of files not downloaded yet. Mark the folder 'Keep Downloaded' so every file arrives.",
  os: "files the operating system keeps (Finder, Explorer, a NAS indexer). Harmless; ignored.",
  "sync-internal": "the sync service's own bookkeeping. Leave them alone; ignored.",
  "wrong-case":
    "changeset names whose letters were upper-cased by a filesystem or tool. Ignored; if a peer waits on one, rename it to lower case.",
  directory: "directories. Ignored; remove them if they were put there by mistake.",
  "not-regular": "names that are not regular files (links, devices). Ignored.",
  unknown: "names folder-sync does not know. Ignored; remove them if they were put there by mistake.",
};

export const WAIT_ADVICE: Readonly<Record<string, string>> = {
  gap: "Sync services deliver files out of order: the missing file usually arrives soon. If it never does, the peer's device has not uploaded it yet: run `folder-sync sync` there (a lost own file is republished).",
  incomplete:
    "The file is still arriving or was cut short (an unplugged stick). It is retried on every pass; if it stays cut short, run `folder-sync sync` on the peer's device, which republishes it.",
  "not-regular":
    "The name is not a regular file yet (an online-only placeholder?). Make the folder available offline so files are downloaded.",
  unreadable:
    "The file could not be read (permissions, an online-only file, a network hiccup). It is retried on every pass.",
};

/** What a stop means, where the library's own "what to do" does not already say it. */
export const STOP_ADVICE: Readonly<Record<string, string>> = {
  UNKNOWN_FORMAT:
    "The file was written by a newer version of folder-sync in a format this version cannot read. Upgrade folder-sync on this device; the stream then continues.",
  MISSING_COLUMN:
    "Schema mismatch: the peer's rows lack a column this database's sync config needs. Make every device use the same sync config (or give the new column a default in the config, so older files still apply).",
  CHAIN_BROKEN:
    "The file does not follow the peer's previous file: two databases write as that peer (a copied database or a restored backup). The peer must give one copy a new client id.",
};
