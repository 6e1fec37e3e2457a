// What a pass reports. Expected outcomes (a gap, an incomplete file, a stopped stream) are values here,
// not exceptions.

export type WaitReason = "gap" | "incomplete" | "not-regular" | "unreadable";
export type StopReason =
  | "corrupt"
  | "bad"
  | "chain-broken"
  | "copied-database"
  | "changed-while-applying"
  | "apply-failed";

export interface StreamProblem {
  /** The file at fault, relative to the folder, e.g. `changes/bob-000000000004.ndjson`. */
  readonly file: string;
  readonly code: string;
  readonly line?: number;
  /** What happened, naming the file (and line). */
  readonly message: string;
  /** What to do about it. */
  readonly action: string;
}

export interface PeerReport {
  readonly client: string;
  readonly state: "up-to-date" | "waiting" | "stopped";
  /** Last applied seq after this pass. */
  readonly seq: number;
  /** Files checked and ready to apply (only when inspecting without applying). */
  readonly ready: number;
  /** The highest seq of this peer in the folder (0 when none): with `seq`, how far behind this client is. */
  readonly newest: number;
  readonly appliedFiles: number;
  readonly appliedChanges: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly waiting?: {
    readonly seq: number;
    readonly reason: WaitReason;
    readonly detail: string;
    /** What to do, if anything (waiting is normal operation). */
    readonly action: string;
  };
  readonly stopped?: StreamProblem & { readonly reason: StopReason };
}

export interface ExportReport {
  readonly captured: number;
  readonly exportedChanges: number;
  readonly files: readonly string[];
  readonly republished: readonly string[];
  readonly fastForwarded: readonly string[];
  readonly stopped?: StreamProblem;
}

export interface SyncReport {
  readonly peers: readonly PeerReport[];
  readonly applied: number;
  readonly conflicts: number;
  readonly export: ExportReport;
  readonly junk: readonly { readonly name: string; readonly kind: string }[];
  readonly warnings: readonly string[];
  readonly pending: number;
  /** True when a stream stopped or export stopped: the CLI exits 1. */
  readonly failed: boolean;
}
