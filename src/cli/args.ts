// The argv parser of the CLI: node:util parseArgs, run non-strict so that every mistake (an unknown or
// misspelled flag, a missing value, a stray argument) becomes a UsageError that says what to type instead.
import { parseArgs } from "node:util";

export interface FlagSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  /** Placeholder shown in help for a string flag, e.g. "FILE". */
  readonly value?: string;
  readonly description: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

export type FlagValues = Readonly<Record<string, string | boolean | undefined>>;

/** A mistake on the command line: exit code 2, with a pointer to --help. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

/** Flags every command accepts. */
export const HELP_FLAG: FlagSpecs = {
  help: { type: "boolean", short: "h", description: "Show this help." },
};

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The candidate closest to `word`, when it is close enough to be a likely typo. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of candidates) {
    const d = name.startsWith(word) && word.length >= 2 ? 0.5 : distance(word, name);
    if (best === undefined || d < best.d) best = { name, d };
  }
  return best !== undefined && best.d <= Math.max(1, Math.floor(best.name.length / 3))
    ? best.name
    : undefined;
}

/** Parses `args` against `flags` (plus --help); throws UsageError for anything it does not understand. */
export function parseFlags(command: string, flags: FlagSpecs, args: readonly string[]): FlagValues {
  const all: FlagSpecs = { ...flags, ...HELP_FLAG };
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [name, spec] of Object.entries(all))
    options[name] = spec.short ? { type: spec.type, short: spec.short } : { type: spec.type };
  const { values, tokens } = parseArgs({
    args: [...args],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const names = Object.keys(all);
  for (const token of tokens) {
    if (token.kind === "positional")
      throw new UsageError(`unexpected argument ${JSON.stringify(token.value)}.`, command);
    if (token.kind !== "option") continue;
    const spec = all[token.name];
    if (spec === undefined) {
      const guess = didYouMean(token.name, names);
      throw new UsageError(
        `unknown flag ${token.rawName}${guess ? ` (did you mean --${guess}?)` : ""}.`,
        command,
      );
    }
    if (spec.type === "boolean" && token.value !== undefined)
      throw new UsageError(`--${token.name} takes no value.`, command);
    // `--db --json` would otherwise read "--json" as the file name.
    const swallowed = !token.inlineValue && /^-./.test(token.value ?? "");
    if (spec.type === "string" && (token.value === undefined || swallowed))
      throw new UsageError(`--${token.name} needs a value (${spec.value ?? "VALUE"}).`, command);
  }
  return values as FlagValues;
}

export function stringFlag(values: FlagValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

export function requireFlag(command: string, values: FlagValues, name: string, placeholder: string): string {
  const v = stringFlag(values, name);
  if (v === undefined || v === "") throw new UsageError(`missing --${name} ${placeholder}.`, command);
  return v;
}

/** A positive number flag (a whole one when `integer`), or `fallback` when absent. */
export function numberFlag(
  command: string,
  values: FlagValues,
  name: string,
  fallback: number,
  integer = false,
): number {
  const v = stringFlag(values, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new UsageError(
      `--${name} must be a positive ${integer ? "whole " : ""}number, got ${JSON.stringify(v)}.`,
      command,
    );
  return n;
}
