// Names that sync services, operating systems and tools leave in a shared folder (research/folder-pitfalls.md
// section 1), for a valid changeset base x = bob-000000000001. scripts/make-fixtures.ts writes the names to
// fixtures/junk-names.txt; test/faults/junk.test.ts checks that none is ever ingested and how each is labelled.

export const JUNK_BASE = "bob-000000000001";
export const JUNK_VALID_NAME = `${JUNK_BASE}.ndjson`;

export interface JunkName {
  readonly name: string;
  /** Who leaves it, and why. */
  readonly source: string;
  /**
   * The label classifyJunk must give it. `null`: the research says what it is but the engine has no label for
   * it yet; any label other than "unknown" will do.
   */
  readonly kind: string | null;
}

const x = JUNK_BASE;
const j = (name: string, kind: string | null, source: string): JunkName => ({ name, kind, source });

export const JUNK_NAMES: readonly JunkName[] = [
  // Syncthing
  j(`${x}.sync-conflict-20260101-101010-ABCDEFG.ndjson`, "syncthing-conflict", "Syncthing conflict copy"),
  j(`.syncthing.${x}.ndjson.tmp`, "syncthing-temp", "Syncthing temp (Unix)"),
  j(`~syncthing~${x}.ndjson.tmp`, "syncthing-temp", "Syncthing temp (Windows)"),
  j(`.syncthing.${"5e".repeat(32)}.tmp`, "syncthing-temp", "Syncthing temp of a name over 145 bytes"),
  j(".stfolder", "sync-internal", "Syncthing folder marker"),
  j(".stignore", "sync-internal", "Syncthing ignore file"),
  j(".stversions", "sync-internal", "Syncthing versions folder"),
  // Dropbox (the conflict text is translated into the user's language)
  j(`${x} (alice's conflicted copy 2026-01-01).ndjson`, "dropbox-conflict", "Dropbox conflicted copy"),
  j(`${x} (Cópia em conflito de pc-saito 2014-08-14).ndjson`, "dropbox-conflict", "Dropbox, Portuguese"),
  j(`${x} (alice のコンフリクトコピー 2026-01-01).ndjson`, "dropbox-conflict", "Dropbox, Japanese-style"),
  j(`${x} (Case Conflict).ndjson`, "cloud-conflict", "Dropbox case conflict"),
  j(`${x} (Unicode Encoding Conflict).ndjson`, "cloud-conflict", "Dropbox Unicode conflict"),
  j(".dropbox", "sync-internal", "Dropbox shared-folder marker"),
  j(".dropbox.attr", "sync-internal", "Dropbox attributes"),
  j(".dropbox.cache", "sync-internal", "Dropbox staging folder"),
  // Google Drive
  j(`${x} (1).ndjson`, "duplicate-copy", "Google Drive for desktop duplicate name"),
  j(`${x} (a1b2c3d4).ndjson`, "duplicate-copy", "google-drive-ocamlfuse duplicate name"),
  j(".tmp.drivedownload", "sync-internal", "Google Drive download staging"),
  // OneDrive
  j(`${x}-DESKTOP-AB12CD.ndjson`, "duplicate-copy", "OneDrive keep-both copy (computer name)"),
  j(`${x}-DESKTOP-AB12CD-2.ndjson`, "duplicate-copy", "OneDrive keep-both copy, numbered"),
  j(`${x}-MacBook Pro de Charlyne.ndjson`, "duplicate-copy", "OneDrive keep-both copy (Mac name)"),
  j(`${x}-laptop-1.ndjson`, "duplicate-copy", "OneDrive Linux client (abraunegg) copy"),
  // iCloud Drive
  j(`.${x}.ndjson.icloud`, "icloud-placeholder", "iCloud placeholder of an evicted file"),
  j(`${x} 2.ndjson`, "duplicate-copy", "iCloud conflict duplicate"),
  // Nextcloud / ownCloud
  j(`${x} (conflicted copy 2026-01-01 101010).ndjson`, "cloud-conflict", "Nextcloud conflict"),
  j(`${x} (conflicted copy alice 2026-01-01 101010).ndjson`, "cloud-conflict", "Nextcloud conflict (user)"),
  j(`${x}_conflict-20260101-101010.ndjson`, "cloud-conflict", "Nextcloud conflict (old format)"),
  j(`${x} (case clash from alice).ndjson`, "cloud-conflict", "Nextcloud case clash"),
  j(`.${x}.ndjson.~1f2e3d4c`, "partial", "Nextcloud download temp"),
  j(".sync_0123456789ab.db", "sync-internal", "Nextcloud journal"),
  j("._sync_0123456789ab.db", "sync-internal", "Nextcloud journal (older name)"),
  j(".owncloudsync.log", "sync-internal", "Nextcloud/ownCloud sync log"),
  j(`${x}.ndjson.owncloud`, null, "Nextcloud/ownCloud suffix-VFS placeholder (file not downloaded)"),
  j(`${x}.ndjson.nextcloud`, null, "Nextcloud-branded suffix-VFS placeholder"),
  j(`${x}.ndjson.filepart`, "partial", "Nextcloud/ownCloud partial"),
  // rclone, rsync, browsers
  j(`${x}.ndjson.1a2b3c4d.partial`, "partial", "rclone partial download"),
  j(`.${x}.ndjson.AbC123`, "partial", "rsync temp (mkstemp)"),
  j(`${x}.ndjson.crdownload`, "partial", "Chrome partial download"),
  j(`${x}.ndjson.part`, "partial", "Firefox / KDE partial download"),
  // Operating systems and NAS
  j(`._${x}.ndjson`, "os", "macOS AppleDouble (FAT, exFAT, SMB, NFS)"),
  j(".DS_Store", "os", "macOS Finder"),
  j("Thumbs.db", "os", "Windows Explorer thumbnails"),
  j("desktop.ini", "os", "Windows Explorer folder settings"),
  j("ehthumbs.db", "os", "Windows Media Center thumbnails"),
  j(".Spotlight-V100", "os", "macOS Spotlight"),
  j(".fseventsd", "os", "macOS FSEvents"),
  j("$RECYCLE.BIN", "os", "Windows recycle bin"),
  j(".directory", "os", "KDE Dolphin folder settings"),
  j("@eaDir", "os", "Synology index"),
  j(".Trash-1000", null, "Linux desktop trash on a removable drive"),
  // Editors (someone opened a changeset file to look at it)
  j(`.${x}.ndjson.swp`, null, "vim swap file"),
  j(`${x}.ndjson~`, null, "editor backup"),
  j(`.~lock.${x}.ndjson#`, null, "LibreOffice lock"),
  j(`~$${x}.ndjson`, null, "Microsoft Office owner file"),
  // Case-folding tools and filesystems
  j("BOB-000000000001.ndjson", "wrong-case", "upper-case variant of a valid name"),
  j(`${x}.NDJSON`, "wrong-case", "upper-case extension"),
  j("Bob-000000000001.ndjson", "wrong-case", "capitalized variant"),
  // Another client's own temp file (ours are removed only by their owner)
  j(`.${x}.0badc0de.tmp`, "our-temp", "a folder-sync client's temp file, before its rename"),
];
