// Wire timestamps: every accepted form compares as the same instant; impossible or zone-less forms are refused.
import { describe, expect, it } from "vitest";
import { floorToMillis, formatTimestamp, parseTimestamp } from "../../src/changeset/timestamp.js";

const BASE = Date.UTC(2026, 0, 2, 3, 4, 5, 678) * 1000;

describe("parseTimestamp", () => {
  it("reads Z as UTC, in microseconds", () => {
    expect(parseTimestamp("2026-01-02T03:04:05.678Z")).toBe(BASE);
    expect(parseTimestamp("2026-01-02T03:04:05Z")).toBe(BASE - 678_000);
  });

  it("takes offsets into account: +02:00 and -0530 are the same instants as their Z times", () => {
    expect(parseTimestamp("2026-01-02T05:04:05.678+02:00")).toBe(BASE);
    expect(parseTimestamp("2026-01-01T21:34:05.678-0530")).toBe(BASE);
    expect(parseTimestamp("2026-01-02T03:04:05.678+00:00")).toBe(BASE);
  });

  it("reads SQLite's form as UTC", () => {
    expect(parseTimestamp("2026-01-02 03:04:05.678")).toBe(BASE);
    expect(parseTimestamp("2026-01-02 03:04:05")).toBe(BASE - 678_000);
  });

  it("keeps microseconds and truncates finer fractions", () => {
    expect(parseTimestamp("2026-01-02T03:04:05.678123Z")).toBe(BASE + 123);
    expect(parseTimestamp("2026-01-02T03:04:05.6781239Z")).toBe(BASE + 123);
    expect(parseTimestamp("2026-01-02T03:04:05.6Z")).toBe(BASE - 78_000);
    const earlier = parseTimestamp("2026-01-02T03:04:05.678122Z")!;
    expect(earlier).toBeLessThan(parseTimestamp("2026-01-02T03:04:05.678123Z")!);
  });

  it("accepts February 29 in a leap year only", () => {
    expect(parseTimestamp("2028-02-29T00:00:00Z")).toBe(Date.UTC(2028, 1, 29) * 1000);
    expect(parseTimestamp("2026-02-29T00:00:00Z")).toBeUndefined();
  });

  it.each([
    "2026-02-30T00:00:00Z",
    "2026-01-01T00:00:00",
    "yesterday",
    "2026-13-01 00:00:00",
    "2026-00-10 00:00:00",
    "2026-01-01T24:00:00Z",
    "2026-01-01T00:60:00Z",
    "2026-01-01T00:00:00+24:00",
    "",
    " 2026-01-01T00:00:00Z",
  ])("refuses %j", (text) => {
    expect(parseTimestamp(text)).toBeUndefined();
  });
});

describe("formatTimestamp", () => {
  it("writes YYYY-MM-DDTHH:MM:SS.sssZ", () => {
    expect(formatTimestamp(BASE)).toBe("2026-01-02T03:04:05.678Z");
    expect(formatTimestamp(Date.UTC(2026, 0, 1) * 1000)).toBe("2026-01-01T00:00:00.000Z");
    expect(formatTimestamp(BASE)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it("round-trips through parseTimestamp at millisecond precision", () => {
    expect(parseTimestamp(formatTimestamp(BASE))).toBe(BASE);
    expect(parseTimestamp(formatTimestamp(BASE + 999))).toBe(floorToMillis(BASE + 999));
  });
});
