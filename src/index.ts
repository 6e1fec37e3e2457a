// The public API (re-exports only).

export type { ConflictRecord } from "./apply/conflicts.js";
export { lastWriterWins } from "./apply/last-writer-wins.js";
export { compareKeys, type OrderKey } from "./apply/order-key.js";
export type { ConflictResolver } from "./apply/resolver.js";
export { createHybridClock, type HybridClock } from "./capture/clock.js";
export { decodeChangeBatches, scanChangeset } from "./changeset/decode.js";
export { encodeChangeset } from "./changeset/encode.js";
export type { ChangeLine, ChangeOp, FileProblem, Payload } from "./changeset/format.js";
export { formatTimestamp, parseTimestamp } from "./changeset/timestamp.js";
export { MEDIA_CONFIG, MEDIA_SCHEMA_SQL, mediaConfig } from "./config/media-preset.js";
export { type ResolvedConfig, resolveConfig, type SyncConfigInput } from "./config/schema.js";
export { installTriggers, triggersSql } from "./config/triggers.js";
export type { Database } from "./db.js";
export { canonicalDump, contentHash } from "./sync/dump.js";
export { ConflictError, SyncError, type SyncErrorCode, TransportError } from "./sync/errors.js";
export type { ExportReport, PeerReport, StreamProblem, SyncReport } from "./sync/report.js";
export type { PeerStatus, SyncStatus } from "./sync/status.js";
export {
  createSync,
  type InitOptions,
  type OpenOptions,
  type SyncEvents,
  SyncManager,
} from "./sync/sync-manager.js";
export { FolderTransport } from "./transport/folder-transport.js";
export { MemoryTransport } from "./transport/memory-transport.js";
export { changeFileName, clientIdProblem, parseChangeFileName } from "./transport/names.js";
export type { ChangeFileEntry, FolderMarker, Listing, SyncTransport } from "./transport/transport.js";
