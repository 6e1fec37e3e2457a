// The default resolver: the greater order key wins (DESIGN section 5).
import { compareKeys } from "./order-key.js";
import type { ConflictResolver } from "./resolver.js";

export const lastWriterWins: ConflictResolver = Object.freeze({
  name: "last-writer-wins",
  compare: compareKeys,
});
