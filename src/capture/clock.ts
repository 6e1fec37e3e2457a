// A hybrid clock for apps to stamp `last_modified`: wall time, but never below the newest timestamp it has
// seen (its own or a peer's), and strictly increasing, so an edit made after seeing a newer one is newer even
// on a machine whose clock is behind. The wall clock is passed in, so tests control it.
import { formatTimestamp, parseTimestamp } from "../changeset/timestamp.js";

export interface HybridClock {
  /** The next timestamp, `YYYY-MM-DDTHH:MM:SS.sssZ`, greater than every one before and every one observed. */
  now(): string;
  /** Takes a timestamp seen elsewhere into account (ignored when unreadable). */
  observe(ts: string | number): void;
  /** The newest instant seen or given out, in milliseconds. */
  readonly latestMs: number;
}

/**
 * @example
 * const clock = createHybridClock();
 * db.prepare("UPDATE Media SET title = ?, last_modified = ?, version = version + 1 WHERE uuid = ?")
 *   .run(title, clock.now(), uuid);
 */
export function createHybridClock(wall: () => number = Date.now, seenMs = 0): HybridClock {
  let latest = seenMs;
  return {
    now() {
      latest = Math.max(wall(), latest + 1);
      return formatTimestamp(latest * 1000);
    },
    observe(ts) {
      const ms = typeof ts === "number" ? ts : (parseTimestamp(ts) ?? Number.NaN) / 1000;
      if (Number.isFinite(ms)) latest = Math.max(latest, Math.floor(ms));
    },
    get latestMs() {
      return latest;
    },
  };
}
