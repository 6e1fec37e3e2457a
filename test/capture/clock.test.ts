// The hybrid clock apps use to stamp last_modified (DESIGN section 5): wall time, never below what it has seen,
// strictly increasing.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createHybridClock } from "../../src/capture/clock.js";
import { parseTimestamp } from "../../src/changeset/timestamp.js";

const WALL = Date.parse("2026-03-01T12:00:00.000Z");
const FORMAT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe("createHybridClock", () => {
  it("gives wall time when nothing newer was seen, formatted YYYY-MM-DDTHH:MM:SS.sssZ", () => {
    const clock = createHybridClock(() => WALL);
    const t = clock.now();
    expect(t).toBe("2026-03-01T12:00:00.000Z");
    expect(t).toMatch(FORMAT);
    expect(clock.latestMs).toBe(WALL);
    const early = createHybridClock(() => Date.parse("2026-01-02T03:04:05.006Z"));
    expect(early.now()).toBe("2026-01-02T03:04:05.006Z");
  });

  it("strictly increases for calls in the same millisecond", () => {
    const clock = createHybridClock(() => WALL);
    const got = Array.from({ length: 5 }, () => clock.now());
    expect(got).toEqual([
      "2026-03-01T12:00:00.000Z",
      "2026-03-01T12:00:00.001Z",
      "2026-03-01T12:00:00.002Z",
      "2026-03-01T12:00:00.003Z",
      "2026-03-01T12:00:00.004Z",
    ]);
    // Catches up with the wall clock once it passes.
    const wall = { ms: WALL };
    const c2 = createHybridClock(() => wall.ms);
    c2.now();
    c2.now();
    wall.ms = WALL + 100;
    expect(c2.now()).toBe("2026-03-01T12:00:00.100Z");
  });

  it("never goes below an observed timestamp (a peer ahead of us)", () => {
    const clock = createHybridClock(() => WALL);
    clock.observe("2026-03-01T13:00:00.000Z");
    expect(clock.now()).toBe("2026-03-01T13:00:00.001Z");
    expect(clock.now()).toBe("2026-03-01T13:00:00.002Z");
    // Every accepted form, and a millisecond number.
    clock.observe("2026-03-01T16:00:00+02:00");
    expect(clock.now()).toBe("2026-03-01T14:00:00.001Z");
    clock.observe("2026-03-01 15:00:00");
    expect(clock.now()).toBe("2026-03-01T15:00:00.001Z");
    clock.observe(Date.parse("2026-03-01T16:00:00.000Z"));
    expect(clock.now()).toBe("2026-03-01T16:00:00.001Z");
    // A sub-millisecond observation still gives a later millisecond.
    clock.observe("2026-03-01T17:00:00.000900Z");
    const t = clock.now();
    expect(parseTimestamp(t)!).toBeGreaterThan(parseTimestamp("2026-03-01T17:00:00.000900Z")!);
    expect(t).toMatch(FORMAT);
  });

  it("an older observation changes nothing", () => {
    const clock = createHybridClock(() => WALL);
    clock.observe("2020-01-01T00:00:00.000Z");
    clock.observe(0);
    expect(clock.now()).toBe("2026-03-01T12:00:00.000Z");
  });

  it("starts above a given seen instant", () => {
    const clock = createHybridClock(() => WALL, WALL + 5000);
    expect(clock.now()).toBe("2026-03-01T12:00:05.001Z");
  });

  it("ignores unreadable input", () => {
    const clock = createHybridClock(() => WALL);
    for (const bad of ["", "tomorrow", "2026-13-01T00:00:00Z", "2026-03-01T12:00:00", "9999-99-99 99:99:99"])
      clock.observe(bad);
    clock.observe(Number.NaN);
    clock.observe(Number.POSITIVE_INFINITY);
    expect(clock.latestMs).toBe(0);
    expect(clock.now()).toBe("2026-03-01T12:00:00.000Z");
  });

  it("is strictly increasing and above every observation, whatever the wall clock does (property)", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("now" as const),
        wall: fc.integer({ min: WALL - 10_000, max: WALL + 10_000 }),
      }),
      fc.record({
        kind: fc.constant("observe" as const),
        at: fc.integer({ min: WALL - 10_000, max: WALL + 10_000 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        let wall = WALL;
        const clock = createHybridClock(() => wall);
        let last = Number.NEGATIVE_INFINITY;
        let seen = Number.NEGATIVE_INFINITY;
        for (const o of ops) {
          if (o.kind === "observe") {
            clock.observe(new Date(o.at).toISOString());
            seen = Math.max(seen, o.at);
            continue;
          }
          wall = o.wall;
          const text = clock.now();
          expect(text).toMatch(FORMAT);
          const ms = Date.parse(text);
          expect(ms).toBeGreaterThan(last);
          expect(ms).toBeGreaterThan(seen);
          expect(ms).toBeGreaterThanOrEqual(wall);
          last = ms;
        }
      }),
    );
  });
});
