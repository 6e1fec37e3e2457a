// Stamping at capture (DESIGN section 5): a local change travels with a key greater than whatever its
// register held when the write was made, so every replica agrees that it won. Pure.
import { floorToMillis, MICROS_PER_MS, type Micros } from "../changeset/timestamp.js";

/** ts = max(min(logged ts, now), current key's ts + 1 ms), always a whole millisecond. */
export function stampTs(logged: Micros | undefined, now: Micros, current: Micros | undefined): Micros {
  const base = floorToMillis(Math.min(logged ?? now, now));
  if (current === undefined) return base;
  return Math.max(base, floorToMillis(current) + MICROS_PER_MS);
}
