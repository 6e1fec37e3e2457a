// The convergence soak (not part of CI; test/soak/soak.test.ts runs a short one there): N random schedules over
// 3 to 5 in-memory replicas with every folder fault mixed in (test/soak/soak.ts says which), then heal, settle and
// compare. Prints the number of schedules, the faults injected by kind, divergences, losses and wall time, with a
// replay line per failing schedule; exits 1 if any schedule diverged, lost a local change or had an outcome no
// injected fault explains.
//
//   npm run soak                      10,000 schedules, random base seed (printed)
//   npm run soak -- 500               500 schedules
//   SOAK_SEED=123 npm run soak -- 1   replays schedule seed 123 alone (every schedule's seed is printed on failure)
//   SOAK_TRACE=1                      prints every step (use with one schedule)
//   SOAK_SCHEDULES=N                  same as the first argument
import { formatSummary, runSoak } from "../test/soak/soak.js";

function positiveInt(text: string | undefined, what: string): number | undefined {
  if (text === undefined || text === "") return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) {
    process.stderr.write(`soak: ${what} must be a positive integer, got ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return n;
}

const schedules =
  positiveInt(process.argv[2], "the schedule count") ??
  positiveInt(process.env.SOAK_SCHEDULES, "SOAK_SCHEDULES") ??
  10_000;
const seedText = process.env.SOAK_SEED;
if (seedText && seedText !== "random" && !Number.isFinite(Number(seedText))) {
  process.stderr.write(`soak: SOAK_SEED must be a number, got ${JSON.stringify(seedText)}\n`);
  process.exit(2);
}
const seed = seedText && seedText !== "random" ? Number(seedText) >>> 0 : (Math.random() * 2 ** 32) >>> 0;

const log = (line: string) => process.stdout.write(`${line}\n`);
log(`soak: ${schedules} schedules from seed ${seed} (schedule k runs seed ${seed}+k)`);
const summary = await runSoak({
  schedules,
  seed,
  log,
  progressEvery: schedules >= 200 ? Math.max(100, Math.round(schedules / 20)) : 0,
  trace: process.env.SOAK_TRACE === "1",
});
log(formatSummary(summary));
process.exitCode = summary.divergences.length + summary.losses.length + summary.anomalies.length > 0 ? 1 : 0;
