// The order key of DESIGN section 5: rows compare (ts, version, deleted, client), links (ts, linked, client),
// client ids as UTF-8 bytes; the key never depends on payload fields.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { keyOfLine } from "../../src/apply/apply-change.js";
import { compareKeys, compareUtf8, keysEqual, type OrderKey } from "../../src/apply/order-key.js";
import type { ChangeLine, ChangeOp, Payload } from "../../src/changeset/format.js";
import { parseTimestamp } from "../../src/changeset/timestamp.js";
import { mediaConfig } from "../../src/config/media-preset.js";

const T0 = parseTimestamp("2026-01-01T10:00:00.000Z")!;

function key(over: Partial<OrderKey> = {}): OrderKey {
  return { ts: T0, version: 1, flag: 0, client: "alice", ...over };
}

const sign = (n: number) => Math.sign(n) + 0;

function keywordLine(
  op: ChangeOp,
  ts: string,
  version: number,
  client: string,
  payload: Payload = {},
): ChangeLine {
  return {
    type: "change",
    entity: "Keywords",
    uuid: "k1",
    op,
    ts,
    version,
    client,
    payload: {
      uuid: "k1",
      keyword: "python",
      last_modified: ts,
      version,
      client_id: client,
      deleted: op === "delete" ? 1 : 0,
      ...payload,
    },
  };
}

function linkLine(op: "link" | "unlink", ts: string, version: number, client: string): ChangeLine {
  return {
    type: "change",
    entity: "MediaKeywords",
    uuid: "m1_k1",
    op,
    ts,
    version,
    client,
    payload: { media_uuid: "m1", keyword_uuid: "k1" },
  };
}

describe("compareKeys (rows)", () => {
  it("compares ts first, whatever the other fields", () => {
    const older = key({ ts: T0, version: 99, flag: 1, client: "zzz" });
    const newer = key({ ts: T0 + 1, version: 1, flag: 0, client: "aaa" });
    expect(compareKeys(newer, older)).toBeGreaterThan(0);
    expect(compareKeys(older, newer)).toBeLessThan(0);
  });

  it("at equal ts, the higher version wins, whatever the flag and client", () => {
    const v2 = key({ version: 2, flag: 0, client: "aaa" });
    const v1 = key({ version: 1, flag: 1, client: "zzz" });
    expect(compareKeys(v2, v1)).toBeGreaterThan(0);
    expect(compareKeys(v1, v2)).toBeLessThan(0);
  });

  it("at equal ts and version, a delete beats a live row, whatever the client", () => {
    const del = key({ flag: 1, client: "aaa" });
    const live = key({ flag: 0, client: "zzz" });
    expect(compareKeys(del, live)).toBeGreaterThan(0);
    expect(compareKeys(live, del)).toBeLessThan(0);
  });

  it("at equal ts, version and flag, the higher client id wins", () => {
    expect(compareKeys(key({ client: "bob" }), key({ client: "alice" }))).toBeGreaterThan(0);
    expect(compareKeys(key({ client: "alice" }), key({ client: "bob" }))).toBeLessThan(0);
    // A prefix is smaller.
    expect(compareKeys(key({ client: "bob" }), key({ client: "bob-2" }))).toBeLessThan(0);
  });

  it("compares client ids as UTF-8 bytes, not UTF-16 code units", () => {
    const fw = "\uFF21"; // U+FF21: UTF-16 0xFF21, UTF-8 EF BC A1
    const emoji = "\u{1F600}"; // U+1F600: UTF-16 0xD83D 0xDE00, UTF-8 F0 9F 98 80
    // The two orders really differ here.
    expect(fw > emoji).toBe(true);
    expect(Buffer.compare(Buffer.from(fw, "utf8"), Buffer.from(emoji, "utf8"))).toBeLessThan(0);
    expect(compareUtf8(fw, emoji)).toBeLessThan(0);
    expect(compareUtf8(emoji, fw)).toBeGreaterThan(0);
    expect(compareKeys(key({ client: emoji }), key({ client: fw }))).toBeGreaterThan(0);
    expect(compareKeys(key({ client: fw }), key({ client: emoji }))).toBeLessThan(0);
    // Mixed ASCII / non-ASCII takes the byte path too.
    expect(compareKeys(key({ client: `a${emoji}` }), key({ client: `a${fw}` }))).toBeGreaterThan(0);
  });

  it("equal keys compare 0 and are keysEqual", () => {
    expect(compareKeys(key(), key())).toBe(0);
    expect(keysEqual(key(), key())).toBe(true);
    const k = key({ ts: T0 + 5, version: 7, flag: 1, client: "\u{1F600}x" });
    expect(compareKeys(k, { ...k })).toBe(0);
    expect(keysEqual(k, { ...k })).toBe(true);
  });
});

const clientArb = fc.oneof(
  fc.constantFrom("alice", "bob", "\uFF21", "\u{1F600}", "a\u00e9", "a\uFF21"),
  fc.string({ unit: "binary", maxLength: 4 }),
);
const keyArb: fc.Arbitrary<OrderKey> = fc.record({
  ts: fc.integer({ min: T0, max: T0 + 3 }),
  version: fc.integer({ min: 0, max: 2 }),
  flag: fc.constantFrom<0 | 1>(0, 1),
  client: clientArb,
});

describe("compareKeys is a total order (properties)", () => {
  it("is antisymmetric, and 0 exactly for equal keys", () => {
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => {
        expect(sign(compareKeys(a, b))).toBe(0 - sign(compareKeys(b, a)));
        expect(compareKeys(a, b) === 0).toBe(keysEqual(a, b));
        expect(compareKeys(a, a)).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });

  it("is transitive", () => {
    fc.assert(
      fc.property(keyArb, keyArb, keyArb, (a, b, c) => {
        if (compareKeys(a, b) <= 0 && compareKeys(b, c) <= 0)
          expect(compareKeys(a, c)).toBeLessThanOrEqual(0);
        if (compareKeys(a, b) < 0 && compareKeys(b, c) <= 0) expect(compareKeys(a, c)).toBeLessThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it("orders client ids exactly as their UTF-8 bytes", () => {
    fc.assert(
      fc.property(clientArb, clientArb, (a, b) => {
        const bytes = sign(Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")));
        expect(sign(compareUtf8(a, b))).toBe(bytes);
        expect(sign(compareKeys(key({ client: a }), key({ client: b })))).toBe(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it("sorting by compareKeys does not depend on the input order", () => {
    fc.assert(
      fc.property(fc.array(keyArb, { maxLength: 12 }), (keys) => {
        const a = [...keys].sort(compareKeys);
        const b = [...keys].reverse().sort(compareKeys);
        expect(a).toEqual(b);
      }),
    );
  });
});

describe("keyOfLine", () => {
  const config = mediaConfig();

  it("row: (ts, version, deleted, client) from the line's fields, flag 1 only for delete", () => {
    const c = keywordLine("update", "2026-01-01T10:00:00.000Z", 3, "bob");
    expect(keyOfLine(config, c)).toEqual({ ts: T0, version: 3, flag: 0, client: "bob" });
    expect(keyOfLine(config, keywordLine("create", "2026-01-01T10:00:00.000Z", 1, "bob")).flag).toBe(0);
    expect(keyOfLine(config, keywordLine("delete", "2026-01-01T10:00:00.000Z", 3, "bob"))).toEqual({
      ts: T0,
      version: 3,
      flag: 1,
      client: "bob",
    });
  });

  it("row: payload fields never enter the key", () => {
    const a = keywordLine("update", "2026-01-01T10:00:00.000Z", 3, "bob");
    const b = keywordLine("update", "2026-01-01T10:00:00.000Z", 3, "bob", {
      keyword: "other",
      version: 42,
      client_id: "zzz",
      last_modified: "2030-01-01T00:00:00.000Z",
      deleted: 1,
    });
    expect(keyOfLine(config, a)).toEqual(keyOfLine(config, b));
  });

  it("row: reads every accepted timestamp form as the same instant", () => {
    const forms = [
      "2026-01-01T10:00:00.000Z",
      "2026-01-01T12:00:00+02:00",
      "2026-01-01T05:00:00-05:00",
      "2026-01-01 10:00:00",
      "2026-01-01 10:00:00.000",
      "2026-01-01T10:00:00Z",
    ];
    const keys = forms.map((ts) => keyOfLine(config, keywordLine("update", ts, 2, "bob")));
    for (const k of keys) {
      expect(k.ts).toBe(T0);
      expect(compareKeys(k, keys[0]!)).toBe(0);
    }
    // A later instant written with an offset that makes its text sort lower still compares greater.
    const later = keyOfLine(config, keywordLine("update", "2026-01-01T11:00:00.001+01:00", 2, "bob"));
    const earlier = keyOfLine(config, keywordLine("update", "2026-01-01 10:00:00.002", 2, "bob"));
    expect(compareKeys(later, earlier)).toBeLessThan(0);
  });

  it("row: a line with an unreadable ts is refused (it must have been validated)", () => {
    expect(() => keyOfLine(config, keywordLine("update", "yesterday", 2, "bob"))).toThrow();
  });

  it("link: (ts, linked, client), version ignored", () => {
    const ts = "2026-01-01T10:00:00.000Z";
    const link = keyOfLine(config, linkLine("link", ts, 99, "alice"));
    const unlink = keyOfLine(config, linkLine("unlink", ts, 0, "bob"));
    expect(link).toEqual({ ts: T0, version: 0, flag: 1, client: "alice" });
    expect(unlink).toEqual({ ts: T0, version: 0, flag: 0, client: "bob" });
    // At equal ts the link wins by its flag, though its client is lower.
    expect(compareKeys(link, unlink)).toBeGreaterThan(0);
    // Version does not matter either way round.
    const unlinkV99 = keyOfLine(config, linkLine("unlink", ts, 99, "bob"));
    const linkV0 = keyOfLine(config, linkLine("link", ts, 0, "alice"));
    expect(compareKeys(linkV0, unlinkV99)).toBeGreaterThan(0);
    expect(compareKeys(keyOfLine(config, linkLine("link", ts, 7, "alice")), linkV0)).toBe(0);
    // A later unlink beats an earlier link.
    const laterUnlink = keyOfLine(config, linkLine("unlink", "2026-01-01T10:00:00.001Z", 0, "alice"));
    expect(compareKeys(laterUnlink, link)).toBeGreaterThan(0);
    // At equal ts and flag, the higher client wins.
    expect(compareKeys(keyOfLine(config, linkLine("link", ts, 0, "bob")), link)).toBeGreaterThan(0);
  });
});
