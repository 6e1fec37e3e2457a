// ConflictResolver: decides which of two changes to one register wins. Whatever resolver is plugged in,
// it must be a total order that does not depend on which side is local, or replicas diverge.
import type { OrderKey } from "./order-key.js";

export interface ConflictResolver {
  readonly name: string;
  /** > 0 when `a` wins over `b`, < 0 when `b` wins, 0 when they are the same change. */
  compare(a: OrderKey, b: OrderKey): number;
}
