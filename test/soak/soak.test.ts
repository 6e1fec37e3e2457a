// The convergence soak, short (CI): the same schedules as `npm run soak` (scripts/soak.ts, 10,000 by default).
//   SFS_SOAK_SCHEDULES  number of schedules (default 300, about 40 s on 2 cores)
//   SOAK_SEED           base seed (default 1, so CI runs the same schedules every time; "random" for a new one);
//                       a failing schedule prints its own seed, which `SOAK_SEED=<seed> npm run soak -- 1` replays
import { describe, expect, it } from "vitest";
import { formatSummary, runSoak } from "./soak.js";

const SCHEDULES = Number(process.env.SFS_SOAK_SCHEDULES ?? 300);
const SEED =
  process.env.SOAK_SEED === "random"
    ? (Math.random() * 2 ** 32) >>> 0
    : Number(process.env.SOAK_SEED ?? 1) >>> 0;

describe("convergence soak (short)", () => {
  it(`${SCHEDULES} random schedules with every folder fault: no divergence, no loss`, {
    timeout: Math.max(120_000, SCHEDULES * 1_000),
  }, async () => {
    const lines: string[] = [];
    const summary = await runSoak({ schedules: SCHEDULES, seed: SEED, log: (l) => lines.push(l) });
    console.log(formatSummary(summary));
    const findings = lines.join("\n");
    expect(summary.divergences, findings).toEqual([]);
    expect(summary.losses, findings).toEqual([]);
    expect(summary.anomalies, findings).toEqual([]);
    // Every kind of fault was injected (a short run too).
    for (const kind of [
      "cut",
      "corrupt",
      "duplicate",
      "reorder",
      "sneakernet",
      "sneakernet-interrupted",
      "junk",
      "clock-skew",
      "placeholder",
      "stuck-read",
      "marker-removed",
      "publish-fail-after-rename",
      "cloned-database",
    ])
      expect(summary.faults[kind] ?? 0, kind).toBeGreaterThan(0);
    expect(summary.clone.detectedByPeer + summary.clone.detectedByOriginal).toBeGreaterThan(0);
  });
});
