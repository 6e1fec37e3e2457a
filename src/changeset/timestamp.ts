// Timestamps on the wire and in sync_log. Instants are held as integer microseconds since the Unix epoch
// (UTC), which keeps every accepted input form comparable as an instant while fitting a JS number.

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})$/;
const SQLITE_RE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/;

/** Shows text from a file in a message: quoted, escaped, and cut short. */
export function quote(text: string, max = 80): string {
  const q = JSON.stringify(text);
  return q.length > max ? `${q.slice(0, max)}…"` : q;
}

/** Microseconds since the epoch. */
export type Micros = number;

/**
 * Parses ISO 8601 with `Z` or an offset, or SQLite's `YYYY-MM-DD HH:MM:SS[.fff]` taken as UTC.
 * Returns undefined for anything else (including impossible dates such as February 30).
 * Fractions finer than a microsecond are truncated.
 */
export function parseTimestamp(text: string): Micros | undefined {
  let m = ISO_RE.exec(text);
  let offsetMinutes = 0;
  if (m) {
    const zone = m[8]!;
    if (zone !== "Z") {
      const sign = zone[0] === "-" ? -1 : 1;
      const digits = zone.slice(1).replace(":", "");
      const hh = Number(digits.slice(0, 2));
      const mm = Number(digits.slice(2, 4));
      if (hh > 23 || mm > 59) return undefined;
      offsetMinutes = sign * (hh * 60 + mm);
    }
  } else {
    m = SQLITE_RE.exec(text);
    if (!m) return undefined;
  }
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  const check = new Date(0);
  check.setUTCFullYear(year, month - 1, day);
  check.setUTCHours(hour, minute, second, 0);
  const ms = check.getTime();
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return undefined;
  const fraction = (m[7] ?? "").padEnd(6, "0").slice(0, 6);
  return (ms - offsetMinutes * 60_000) * 1000 + Number(fraction);
}

/** Writers emit `YYYY-MM-DDTHH:MM:SS.sssZ`; the instant must be a whole millisecond. */
export function formatTimestamp(micros: Micros): string {
  return new Date(Math.floor(micros / 1000)).toISOString();
}

export function floorToMillis(micros: Micros): Micros {
  return Math.floor(micros / 1000) * 1000;
}

export const MICROS_PER_MS = 1000;
