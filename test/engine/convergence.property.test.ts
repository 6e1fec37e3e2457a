// The convergence property (DESIGN section 5): replicas of the media preset make random writes (creates,
// updates, deletes, undeletes, links, unlinks, children), with equal timestamps made likely, clocks behind,
// same-millisecond same-version rewrites, writes interleaved with ingest, and children and links whose parent
// arrives later; files are delivered in random order, duplicated and withheld. After everything is delivered,
// every replica holds identical synced content, the registers are the greatest change of every register over
// all published files, and every local change reached exactly one published file.
import fc from "fast-check";
import { describe, it } from "vitest";
import { type Action, actionArb, runScenario } from "../helpers/scenario.js";

const RUNS = Number(process.env.SFS_PROPERTY_RUNS ?? 300);
describe("convergence (property)", () => {
  // SFS_REPLAY='<counterexample JSON>' replays one failing case with full output.
  if (process.env.SFS_REPLAY) {
    it("replays SFS_REPLAY", async () => {
      const [replicas, skews, actions] = JSON.parse(process.env.SFS_REPLAY!) as [number, number[], Action[]];
      await runScenario(replicas, skews, actions);
    });
    return;
  }
  it(`replicas converge and lose no local change (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 3, max: 4 }),
        // A clock an hour behind, one a little behind, one a little ahead.
        fc.array(fc.constantFrom(0, 0, -3_600_000, -1500, 2000), { minLength: 4, maxLength: 4 }),
        fc.array(actionArb(4), { minLength: 10, maxLength: 80, size: "max" }),
        async (replicas, skews, actions) => {
          await runScenario(
            replicas,
            skews,
            actions.map((a) => ("r" in a ? { ...a, r: a.r % replicas } : a)),
          );
        },
      ),
      { numRuns: RUNS },
    );
  }, 600_000);
});
