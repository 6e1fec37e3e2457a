// What every command is (name, flags, help text, run) and the exit codes they share, with the mapping from
// errors to exit codes. Help text is built from the same flag specs the parser uses, so they cannot drift.
import { SyncError } from "../sync/errors.js";
import { type FlagSpecs, type FlagValues, HELP_FLAG, UsageError } from "./args.js";

export const EXIT = {
  ok: 0,
  /** A stopped stream, a missing folder marker, any other error. */
  failure: 1,
  usage: 2,
  /** Another process syncs this database. */
  locked: 3,
} as const;

export interface Command {
  readonly name: string;
  /** One line for the tool's help. */
  readonly summary: string;
  /** The usage line after `folder-sync `. */
  readonly usage: string;
  readonly flags: FlagSpecs;
  /** Paragraphs shown after the flags. */
  readonly details?: readonly string[];
  /** Exit codes this command uses, each "N  meaning". */
  readonly exitCodes: readonly string[];
  run(values: FlagValues): Promise<number>;
}

export const EXIT_LOCKED_LINE =
  "3  another process is syncing this database (e.g. a running `folder-sync watch`)";
export const EXIT_USAGE_LINE = "2  usage error: unknown flag, missing or invalid value";

function flagLines(flags: FlagSpecs): string[] {
  const rows = Object.entries({ ...flags, ...HELP_FLAG }).map(([name, f]) => {
    const short = f.short ? `-${f.short}, ` : "";
    const value = f.type === "string" ? ` ${f.value ?? "VALUE"}` : "";
    return [`${short}--${name}${value}`, f.description] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, text]) => `  ${left.padEnd(width)}  ${text}`);
}

export function commandHelp(c: Command): string {
  return [
    `Usage: folder-sync ${c.usage}`,
    "",
    c.summary,
    "",
    "Flags:",
    ...flagLines(c.flags),
    ...(c.details?.length ? ["", ...c.details] : []),
    "",
    "Exit codes:",
    ...c.exitCodes.map((line) => `  ${line}`),
    "",
  ].join("\n");
}

export function toolHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "Usage: folder-sync <command> [flags]",
    "",
    "Keep a SQLite database in sync with other devices through a shared folder (Dropbox, Syncthing,",
    "a network share, a USB stick). `init` once per database; later commands need only --db.",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `folder-sync <command> --help` for a command's flags.",
    "",
    "Exit codes:",
    "  0  success (peers waiting on a file still arriving, and junk names skipped, are normal)",
    "  1  failure: a peer's stream stopped (bad or corrupt file, broken chain, copied database),",
    "     the folder marker is missing, or another error; the message says what to do",
    `  ${EXIT_USAGE_LINE}`,
    `  ${EXIT_LOCKED_LINE}`,
    "",
  ].join("\n");
}

/** The exit code for an error a command let through. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof SyncError) {
    if (error.code === "LOCKED") return EXIT.locked;
    // A client id breaking the naming rule, or a config that does not validate, is a mistake in what was typed.
    if (error.code === "CLIENT_ID_INVALID" || error.code === "CONFIG_INVALID") return EXIT.usage;
  }
  return EXIT.failure;
}

export function printError(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`folder-sync: ${message}\n`);
  if (error instanceof UsageError)
    process.stderr.write(
      `Run \`folder-sync ${error.command ? `${error.command} ` : ""}--help\` for usage.\n`,
    );
}
