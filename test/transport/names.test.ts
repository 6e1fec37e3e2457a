// The folder's name rule (DESIGN section 3) and the junk labels.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CLIENT_ID_PATTERN,
  changeFileName,
  classifyJunk,
  clientIdProblem,
  isOwnTempFile,
  parseChangeFileName,
  parseMarker,
  tempFileName,
} from "../../src/transport/names.js";
import { JUNK_SAMPLE } from "./contract.js";

const clientId = fc
  .stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/)
  .filter((id) => !/-\d{12}$/.test(id));
const seq = fc.integer({ min: 1, max: 999_999_999_999 });

describe("clientIdProblem", () => {
  it.each([
    "a",
    "0",
    "alice",
    "pc-1",
    "a-b-c",
    "x".repeat(64),
    "a-12345678901",
    "a-1234567890123",
    "a-b00000000001",
  ])("accepts %j", (id) => {
    expect(clientIdProblem(id)).toBeUndefined();
    expect(CLIENT_ID_PATTERN.test(id)).toBe(true);
  });

  it.each([
    ["", /empty/],
    ["x".repeat(65), /65 characters/],
    ["Alice", /upper-case.*"alice"/],
    ["-alice", /starts or ends/],
    ["alice-", /starts or ends/],
    ["-", /starts or ends/],
    ["alice-000000000001", /ends in '-' followed by 12 digits/],
    ["a-b-123456789012", /12 digits/],
    ["..", /characters other than/],
    ["a/b", /characters other than/],
    ["a.b", /characters other than/],
    ["a_b", /characters other than/],
    ["a b", /characters other than/],
    ["é", /characters other than/],
  ])("rejects %j and says why", (id, why) => {
    const problem = clientIdProblem(id);
    expect(problem).toMatch(why);
    expect(problem).toMatch(/A client id is 1 to 64 characters/);
  });
});

describe("changeFileName / parseChangeFileName", () => {
  it("pads seq to 12 digits", () => {
    expect(changeFileName("alice", 1)).toBe("alice-000000000001.ndjson");
    expect(changeFileName("a-b", 999_999_999_999)).toBe("a-b-999999999999.ndjson");
    expect(parseChangeFileName("a-b-000000000042.ndjson")).toEqual({ client: "a-b", seq: 42 });
  });

  it("refuses to build a name from a bad client or seq", () => {
    expect(() => changeFileName("Alice", 1)).toThrow(expect.objectContaining({ code: "CLIENT_ID_INVALID" }));
    expect(() => changeFileName("alice", 0)).toThrow(RangeError);
    expect(() => changeFileName("alice", 1.5)).toThrow(RangeError);
    expect(() => changeFileName("alice", 1_000_000_000_000)).toThrow(RangeError);
  });

  it.each([
    "alice-000000000000.ndjson",
    "alice-00000000001.ndjson",
    "alice-0000000000001.ndjson",
    "alice-000000000001.ndjson ",
    " alice-000000000001.ndjson",
    "alice-000000000001.ndjson\n",
    "alice-000000000001.ndjson.tmp",
    "Alice-000000000001.ndjson",
    "alice-000000000001.NDJSON",
    "alice-000000000001.json",
    "-000000000001.ndjson",
    "-a-000000000001.ndjson",
    "a--000000000001.ndjson",
    "../alice-000000000001.ndjson",
    "x/alice-000000000001.ndjson",
    "alice-000000000001-123456789012.ndjson",
    "alice-١٢٣٤٥٦٧٨٩٠١٢.ndjson",
    `${"x".repeat(65)}-000000000001.ndjson`,
    ...JUNK_SAMPLE,
  ])("does not parse %j", (name) => {
    expect(parseChangeFileName(name)).toBeUndefined();
  });

  it("round-trips every valid client and seq, one way only", () => {
    fc.assert(
      fc.property(clientId, seq, (client, n) => {
        const name = changeFileName(client, n);
        expect(name).toMatch(/^[a-z0-9-]+-\d{12}\.ndjson$/);
        expect(parseChangeFileName(name)).toEqual({ client, seq: n });
        expect(parseChangeFileName(name.toUpperCase())).toBeUndefined();
      }),
    );
  });

  it("never parses a OneDrive-style '<name>-<host>' copy as another client's file", () => {
    fc.assert(
      fc.property(clientId, seq, fc.stringMatching(/^[a-z0-9-]{1,20}$/), (client, n, host) => {
        const copy = changeFileName(client, n).replace(/\.ndjson$/, `-${host}.ndjson`);
        const parsed = parseChangeFileName(copy);
        // A host ending in 12 digits would make "<client>-<seq>-<rest>" the client: the id rule forbids that.
        if (parsed !== undefined) expect(clientIdProblem(parsed.client)).toBeUndefined();
        if (parsed !== undefined) expect(parsed.client.startsWith(`${client}-`)).toBe(true);
      }),
    );
  });
});

describe("temp names", () => {
  it("builds and recognizes own temp names only", () => {
    const name = tempFileName("alice", 3, "0123abcd");
    expect(name).toBe(".alice-000000000003.0123abcd.tmp");
    expect(isOwnTempFile(name, "alice")).toBe(true);
    expect(isOwnTempFile(name, "bob")).toBe(false);
    expect(isOwnTempFile(tempFileName("alice-x", 3, "0123abcd"), "alice")).toBe(false);
    expect(isOwnTempFile(".syncthing.alice-000000000003.ndjson.tmp", "alice")).toBe(false);
    expect(isOwnTempFile(".alice-000000000003.ndjson.AbC123", "alice")).toBe(false);
    expect(isOwnTempFile("alice-000000000003.ndjson", "alice")).toBe(false);
    expect(parseChangeFileName(name)).toBeUndefined();
    expect(classifyJunk(name)).toBe("our-temp");
    expect(() => tempFileName("alice", 1, "XYZ")).toThrow(RangeError);
  });

  it("never makes a temp name that parses as a changeset", () => {
    fc.assert(
      fc.property(clientId, seq, fc.stringMatching(/^[0-9a-f]{8,32}$/), (client, n, random) => {
        const name = tempFileName(client, n, random);
        expect(parseChangeFileName(name)).toBeUndefined();
        expect(name.startsWith(".syncthing.")).toBe(false);
        expect(isOwnTempFile(name, client)).toBe(true);
      }),
    );
  });
});

describe("classifyJunk", () => {
  it.each([
    ["alice-000000000001.sync-conflict-20260101-101010-ABCDEFG.ndjson", "syncthing-conflict"],
    [".syncthing.alice-000000000001.ndjson.tmp", "syncthing-temp"],
    ["~syncthing~alice-000000000001.ndjson.tmp", "syncthing-temp"],
    ["alice-000000000001 (bob's conflicted copy 2026-01-01).ndjson", "dropbox-conflict"],
    ["alice-000000000001 (Cópia em conflito de pc-saito 2014-08-14).ndjson", "dropbox-conflict"],
    ["alice-000000000001 (Case Conflict).ndjson", "cloud-conflict"],
    ["alice-000000000001 (conflicted copy 2026-01-01 101010).ndjson", "cloud-conflict"],
    ["alice-000000000001_conflict-20260101-101010.ndjson", "cloud-conflict"],
    ["alice-000000000001 (1).ndjson", "duplicate-copy"],
    ["alice-000000000001 (a1b2c3d4).ndjson", "duplicate-copy"],
    ["alice-000000000001 2.ndjson", "duplicate-copy"],
    ["alice-000000000001-DESKTOP-AB12CD.ndjson", "duplicate-copy"],
    ["alice-000000000001-laptop-2.ndjson", "duplicate-copy"],
    [".alice-000000000001.ndjson.icloud", "icloud-placeholder"],
    ["alice-000000000001.ndjson.1a2b3c4d.partial", "partial"],
    [".alice-000000000001.ndjson.AbC123", "partial"],
    [".alice-000000000001.ndjson.~1f2e", "partial"],
    ["._alice-000000000001.ndjson", "os"],
    [".DS_Store", "os"],
    ["Thumbs.db", "os"],
    ["desktop.ini", "os"],
    [".stfolder", "sync-internal"],
    ["ALICE-000000000001.ndjson", "wrong-case"],
    ["alice-000000000001.NDJSON", "wrong-case"],
    [".alice-000000000001.0123abcd.tmp", "our-temp"],
    ["notes.txt", "unknown"],
    ["alice-000000000000 (1).ndjson", "unknown"],
  ])("labels %j as %s", (name, kind) => {
    expect(classifyJunk(name)).toBe(kind);
  });
});

describe("parseMarker", () => {
  it("accepts a marker and drops unknown fields", () => {
    expect(parseMarker('{"format":1,"id":"abc","extra":true}', "m")).toEqual({ format: 1, id: "abc" });
  });

  it.each([
    "",
    "null",
    "[]",
    '{"format":1}',
    '{"format":"1","id":"a"}',
    '{"format":0,"id":"a"}',
    '{"format":1,"id":""}',
  ])("rejects %j with FOLDER_MARKER_MISMATCH", (text) => {
    expect(() => parseMarker(text, "m")).toThrow(expect.objectContaining({ code: "FOLDER_MARKER_MISMATCH" }));
  });
});
