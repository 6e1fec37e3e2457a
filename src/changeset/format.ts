// The changeset file format (DESIGN section 3): line types, their zod schemas, and the limits.
// Pure: no disk, no clock.
import { z } from "zod";

export const FORMAT_VERSION = 1;
/** Readers accept lines up to this many bytes (the newline excluded); writers never write longer ones. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;
/** A writer starts a new file after this many bytes or change lines. */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;
export const MAX_FILE_CHANGES = 100_000;

export const CHANGE_OPS = ["create", "update", "delete", "link", "unlink"] as const;
export type ChangeOp = (typeof CHANGE_OPS)[number];

export type PayloadValue = string | number | null;
export type Payload = Record<string, PayloadValue>;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex sha256");
const seqNumber = z.number().int().min(1).max(999_999_999_999);

/** A header line. Unknown fields are ignored (forward compatibility). */
export const headerSchema = z.object({
  type: z.literal("header"),
  format: z.number().int(),
  client: z.string(),
  seq: seqNumber,
  prev: hex64.nullable(),
  changes: z.tuple([z.number().int().min(0), z.number().int().min(0)]),
  created: z.string(),
});
export type HeaderLine = z.infer<typeof headerSchema>;

const payloadValue = z.union([z.string(), z.number(), z.null()]);

export const changeSchema = z.object({
  type: z.literal("change"),
  entity: z.string().min(1).max(256),
  uuid: z.string().min(1).max(1024),
  op: z.enum(CHANGE_OPS),
  ts: z.string().max(64),
  version: z.number().int(),
  client: z.string(),
  payload: z.record(z.string(), payloadValue),
});
export type ChangeLine = z.infer<typeof changeSchema>;

export const trailerSchema = z.object({
  type: z.literal("end"),
  count: z.number().int().min(0),
  sha256: hex64,
});
export type TrailerLine = z.infer<typeof trailerSchema>;

/** Why a file cannot be applied. `incomplete` waits; `corrupt` and `bad` stop the peer's stream. */
export type FileProblemKind = "incomplete" | "corrupt" | "bad";

export type FileProblemCode =
  | "EMPTY"
  | "NO_TRAILING_NEWLINE"
  | "NO_TRAILER"
  | "CHECKSUM_MISMATCH"
  | "COUNT_MISMATCH"
  | "NOT_JSON"
  | "LINE_TOO_LONG"
  | "NO_HEADER"
  | "UNKNOWN_FORMAT"
  | "HEADER_CLIENT_MISMATCH"
  | "HEADER_SEQ_MISMATCH"
  | "INVALID_LINE"
  | "CHANGE_CLIENT_MISMATCH"
  | "UNKNOWN_ENTITY"
  | "BAD_TIMESTAMP"
  | "UUID_MISMATCH"
  | "MISSING_COLUMN"
  | "WRONG_OP";

export interface FileProblem {
  readonly kind: FileProblemKind;
  readonly code: FileProblemCode;
  /** 1-based line number, when one line is at fault. */
  readonly line?: number;
  /** What is wrong, in words, without the file name (the caller adds it). */
  readonly message: string;
}
