// The one error family the library throws. Expected outcomes (a gap, an incomplete file, a bad line in a
// peer's file) are values in reports; these are for misuse and for failures the caller must act on.

export type SyncErrorCode =
  | "CONFIG_INVALID"
  | "NOT_INITIALIZED"
  | "ALREADY_INITIALIZED"
  | "CLIENT_ID_INVALID"
  | "CLIENT_ID_IN_USE"
  | "FOLDER_MARKER_MISSING"
  | "FOLDER_MARKER_MISMATCH"
  | "FOLDER_UNWRITABLE"
  | "LOCKED"
  | "COPIED_DATABASE"
  | "SCHEMA_MISMATCH"
  | "BAD_FILE"
  | "CORRUPT_FILE"
  | "CHAIN_BROKEN"
  | "LINE_TOO_LONG"
  | "TIMESTAMP_INVALID"
  | "CLOSED"
  | "TRANSPORT_FAILED";

export class SyncError extends Error {
  readonly code: SyncErrorCode;
  constructor(code: SyncErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SyncError";
    this.code = code;
  }
}

/** A change that cannot be applied or recorded consistently (never a normal lost LWW race, which is logged). */
export class ConflictError extends SyncError {
  constructor(code: SyncErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "ConflictError";
  }
}

/** The folder (or another transport) failed: unreadable, unwritable, marker missing. */
export class TransportError extends SyncError {
  constructor(code: SyncErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "TransportError";
  }
}
