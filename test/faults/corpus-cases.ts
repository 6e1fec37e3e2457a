// The bad-input corpus (fixtures/): a valid base changeset of client `mallory` for the media preset, written with
// the real encoder, and one mutation of it per case, with what must happen when a peer finds it in changes/
// (DESIGN sections 3, 4, 7). scripts/make-fixtures.ts writes these to fixtures/; test/faults/corpus.test.ts reads
// the committed files back and checks each outcome, and that the committed files are what this module builds.
// Pure and deterministic: no clock, no randomness, no disk.
import { createHash } from "node:crypto";
import { encodeChangeset } from "../../src/changeset/encode.js";
import { type ChangeLine, MAX_LINE_BYTES, type Payload } from "../../src/changeset/format.js";
import { mediaConfig } from "../../src/config/media-preset.js";
import { JUNK_NAMES } from "./junk-cases.js";

export const OWNER = "mallory";
export const NAME_1 = "mallory-000000000001.ndjson";
export const NAME_2 = "mallory-000000000002.ndjson";

const TS = "2026-01-01T10:00:00.000Z";
/** A Media uuid the good peer zed creates (test/faults/corpus.test.ts): zed's file is applied after mallory's. */
export const ZED_MEDIA = "zed-m1";
const MEDIA = "mallory-media-1";
const KEYWORD = "mallory-kw-1";
const TRANSCRIPT = "mallory-tr-1";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A row payload with every key of the entity's wire payload (RowEntity.payloadKeys), in the config's order. */
function rowPayload(entity: string, values: Record<string, string | number | null>): Payload {
  const e = mediaConfig().entities.get(entity);
  if (e?.kind !== "rows") throw new Error(`${entity} is not a row entity of the media preset`);
  const payload: Payload = {};
  for (const key of e.payloadKeys) {
    const v = values[key];
    if (v === undefined) throw new Error(`rowPayload(${entity}): no value for ${key}`);
    payload[key] = v;
  }
  return payload;
}

function row(
  entity: string,
  uuid: string,
  op: ChangeLine["op"],
  values: Record<string, string | number | null>,
) {
  const version = typeof values.version === "number" ? values.version : 1;
  const ts = typeof values.last_modified === "string" ? values.last_modified : TS;
  const bookkeeping = {
    uuid,
    last_modified: ts,
    version,
    client_id: OWNER,
    deleted: op === "delete" ? 1 : 0,
  };
  const line: ChangeLine = {
    type: "change",
    entity,
    uuid,
    op,
    ts,
    version,
    client: OWNER,
    payload: rowPayload(entity, { ...values, ...bookkeeping }),
  };
  return line;
}

const mediaValues = {
  url: "https://example.com/mallory-1",
  title: "Mallory's clip",
  type: "video",
  content: "a short clip",
  author: "mallory",
  ingestion_date: "2026-01-01 10:00:00",
  transcription_model: null,
  is_trash: 0,
  trash_date: null,
  content_hash: "hash-mallory-1",
};

/** The base file's change lines: a Media row, a keyword, their link, a transcript of the media. */
export function baseLines(): ChangeLine[] {
  return [
    row("Media", MEDIA, "create", mediaValues),
    row("Keywords", KEYWORD, "create", { keyword: "mallory-tag" }),
    {
      type: "change",
      entity: "MediaKeywords",
      uuid: `${MEDIA}_${KEYWORD}`,
      op: "link",
      ts: TS,
      version: 1,
      client: OWNER,
      payload: { media_uuid: MEDIA, keyword_uuid: KEYWORD },
    },
    row("Transcripts", TRANSCRIPT, "create", {
      media_uuid: MEDIA,
      whisper_model: "base",
      transcription: "hello from mallory",
      created_at: "2026-01-01",
    }),
  ];
}

function encode(seq: number, prev: string | null, lines: readonly ChangeLine[], first = 1) {
  return encodeChangeset(
    { client: OWNER, seq, prev, changes: [first, first + Math.max(lines.length, 1) - 1], created: TS },
    lines,
  );
}

/** mallory's valid file 1 (the base every case mutates). */
export const BASE = encode(1, null, baseLines());

/** mallory's valid file 2, following BASE: a title edit and an unlink. */
export const SECOND = encode(
  2,
  BASE.sha256,
  [
    row("Media", MEDIA, "update", {
      ...mediaValues,
      title: "Mallory's clip, edited",
      version: 2,
      last_modified: "2026-01-01T11:00:00.000Z",
    }),
    {
      type: "change",
      entity: "MediaKeywords",
      uuid: `${MEDIA}_${KEYWORD}`,
      op: "unlink",
      ts: "2026-01-01T11:00:00.000Z",
      version: 1,
      client: OWNER,
      payload: { media_uuid: MEDIA, keyword_uuid: KEYWORD },
    },
  ],
  5,
);

/** The good files a stopped or waiting case is repaired with, by name. */
export const GOOD: ReadonlyMap<string, Uint8Array> = new Map([
  [NAME_1, BASE.bytes],
  [NAME_2, SECOND.bytes],
]);

// ---- mutations ----

/** The file's lines without their newlines (the trailer included). */
function linesOf(bytes: Uint8Array): string[] {
  const text = dec.decode(bytes);
  if (!text.endsWith("\n")) throw new Error("linesOf: the file does not end with a newline");
  return text.slice(0, -1).split("\n");
}

/** Header and change lines (texts) plus a trailer whose count and checksum match them. */
function seal(lines: readonly string[], count = lines.length - 1): Uint8Array {
  const body = lines.map((l) => `${l}\n`).join("");
  const sha = createHash("sha256").update(body).digest("hex");
  return enc.encode(`${body}${JSON.stringify({ type: "end", count, sha256: sha })}\n`);
}

type Json = Record<string, unknown>;

/** Re-seals BASE after `edit` changed its parsed lines (0: header, 1..4: changes; the trailer is rebuilt). */
function mutate(edit: (lines: Json[]) => void, from: Uint8Array = BASE.bytes): Uint8Array {
  const lines = linesOf(from)
    .slice(0, -1)
    .map((l) => JSON.parse(l) as Json);
  edit(lines);
  return seal(lines.map((l) => JSON.stringify(l)));
}

/** Re-seals BASE after `edit` changed its line texts (for lines that are not JSON at all). */
function mutateText(edit: (lines: string[]) => void): Uint8Array {
  const lines = linesOf(BASE.bytes).slice(0, -1);
  edit(lines);
  return seal(lines);
}

function at(lines: Json[], i: number): Json {
  const line = lines[i];
  if (line === undefined) throw new Error(`no line ${i}`);
  return line;
}

function payloadOf(lines: Json[], i: number): Json {
  return at(lines, i).payload as Json;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

// ---- the cases ----

export type CorpusOutcome =
  /** The peer's stream stops at `file` (report.failed), with this reason and code, naming `line` when given. */
  | {
      readonly kind: "stopped";
      readonly reason: "corrupt" | "bad" | "chain-broken";
      /** The report's code; undefined: any code (the engine has none for this yet). */
      readonly code?: string;
      readonly file: string;
      readonly line?: number;
      /** Something the message must say besides the file and line. */
      readonly says?: RegExp;
    }
  /** The peer waits at `file` (not a failure), e.g. a file still arriving. */
  | { readonly kind: "waiting"; readonly reason: "incomplete"; readonly file: string; readonly says?: RegExp }
  /**
   * The file applies (odd but valid input): `changes` change lines; `pending` registers wait for parents that
   * never arrive. With `sameAs`, the database must end exactly as if those good files had applied instead.
   */
  | {
      readonly kind: "applied";
      readonly changes: number;
      readonly pending: number;
      readonly sameAs?: readonly string[];
      /** Values the app's tables must hold afterwards (uuid → column → value). */
      readonly rows?: ReadonlyArray<{ table: string; uuid: string; column: string; value: unknown }>;
    }
  /** The name is not a changeset name: skipped as junk of this kind, never read. */
  | { readonly kind: "junk"; readonly name: string; readonly junkKind: string };

export interface CorpusCase {
  /** Directory under fixtures/bad/. */
  readonly id: string;
  /** What the file is, for fixtures/README.md. */
  readonly what: string;
  /** Files delivered to changes/, by name (in seq order). */
  readonly files: ReadonlyArray<{ readonly name: string; readonly bytes: Uint8Array }>;
  /** Of `files`, the good ones that apply before the case's bad one. */
  readonly appliesFirst: readonly string[];
  readonly outcome: CorpusOutcome;
  /** The good files (GOOD) that repair a stopped or waiting stream when delivered over the bad ones. */
  readonly repair: readonly string[];
  /** Built at test time rather than committed (too big for the repository). */
  readonly testTimeOnly?: boolean;
}

const one = (bytes: Uint8Array) => [{ name: NAME_1, bytes }];
const stoppedBad = (code: string | undefined, line: number, says?: RegExp): CorpusOutcome => ({
  kind: "stopped",
  reason: "bad",
  ...(code === undefined ? {} : { code }),
  file: NAME_1,
  line,
  ...(says ? { says } : {}),
});

function badCase(id: string, what: string, bytes: Uint8Array, outcome: CorpusOutcome): CorpusCase {
  return { id, what, files: one(bytes), appliesFirst: [], outcome, repair: [NAME_1] };
}

function appliedCase(id: string, what: string, bytes: Uint8Array, outcome: CorpusOutcome): CorpusCase {
  return { id, what, files: one(bytes), appliesFirst: [], outcome, repair: [] };
}

const baseText = dec.decode(BASE.bytes);
const baseLinesText = linesOf(BASE.bytes);
// Cut in the middle of the keyword's line (line 3): no newline at the end.
const midLine = baseLinesText.slice(0, 2).join("\n").length + 1 + 20;
// Cut after the transcript's line (line 5): ends in a newline, but there is no trailer.
const atLineEnd = baseText.length - (baseLinesText.at(-1)?.length ?? 0) - 1;

export const CORPUS: readonly CorpusCase[] = [
  {
    id: "truncated-mid-line",
    what: "the base file cut short in the middle of line 3 (an unplugged stick, a file still arriving)",
    files: one(BASE.bytes.subarray(0, midLine)),
    appliesFirst: [],
    outcome: { kind: "waiting", reason: "incomplete", file: NAME_1, says: /newline/ },
    repair: [NAME_1],
  },
  {
    id: "truncated-at-line-end",
    what: "the base file cut short after a whole change line: it ends in a newline but has no trailer",
    files: one(BASE.bytes.subarray(0, atLineEnd)),
    appliesFirst: [],
    outcome: { kind: "waiting", reason: "incomplete", file: NAME_1, says: /not an end line/ },
    repair: [NAME_1],
  },
  {
    id: "empty",
    what: "a zero-byte file under a valid name (a sync service created the name before the content)",
    files: one(new Uint8Array(0)),
    appliesFirst: [],
    outcome: { kind: "waiting", reason: "incomplete", file: NAME_1, says: /empty/ },
    repair: [NAME_1],
  },
  badCase(
    "bad-checksum",
    "one byte of a payload value changed (Mallory's → Mallorx's) after the trailer was written",
    enc.encode(baseText.replace("Mallory's clip", "Mallorx's clip")),
    { kind: "stopped", reason: "corrupt", code: "CHECKSUM_MISMATCH", file: NAME_1, line: 6 },
  ),
  badCase(
    "crlf-line-endings",
    "the base file with every \\n turned into \\r\\n (a text-mode transfer, git autocrlf)",
    enc.encode(baseText.replaceAll("\n", "\r\n")),
    { kind: "stopped", reason: "corrupt", code: "CHECKSUM_MISMATCH", file: NAME_1, line: 6 },
  ),
  badCase(
    "count-mismatch",
    "the trailer's checksum matches but its count says 3 changes where the file has 4",
    seal(baseLinesText.slice(0, -1), 3),
    { kind: "stopped", reason: "corrupt", code: "COUNT_MISMATCH", file: NAME_1, line: 6 },
  ),
  badCase(
    "not-json",
    "line 3 (the keyword) cut off mid-object, then the trailer re-sealed so the checksum matches",
    mutateText((l) => {
      l[2] = (l[2] ?? "").slice(0, 40);
    }),
    stoppedBad("NOT_JSON", 3, /not JSON/),
  ),
  badCase(
    "blank-line",
    "an empty line between the change lines (checksum re-sealed)",
    mutateText((l) => {
      l.splice(3, 0, "");
    }),
    stoppedBad("NOT_JSON", 4),
  ),
  badCase(
    "invalid-utf8",
    "line 3 with a byte 0xFF inside the keyword string (not UTF-8; checksum re-sealed)",
    (() => {
      const lines = baseLinesText.slice(0, -1).map((l) => enc.encode(l));
      const i = dec.decode(lines[2]!).indexOf("mallory-tag");
      const bad = lines[2]!.slice();
      bad[i] = 0xff;
      lines[2] = bad;
      const body = concat(...lines.flatMap((l) => [l, enc.encode("\n")]));
      const sha = createHash("sha256").update(body).digest("hex");
      return concat(body, enc.encode(`${JSON.stringify({ type: "end", count: 4, sha256: sha })}\n`));
    })(),
    stoppedBad("NOT_JSON", 3, /UTF-8/),
  ),
  badCase(
    "bom",
    "a UTF-8 byte-order mark before the header (an editor saved it), checksum re-sealed",
    mutateText((l) => {
      l[0] = `\uFEFF${l[0] ?? ""}`;
    }),
    stoppedBad("NO_HEADER", 1),
  ),
  badCase(
    "no-header",
    "the header line removed: line 1 is a change (checksum and count re-sealed)",
    mutateText((l) => {
      l.shift();
    }),
    stoppedBad("NO_HEADER", 1),
  ),
  badCase(
    "end-line-early",
    "an end line between the change lines, and the real trailer after it (checksum re-sealed)",
    mutateText((l) => {
      l.splice(2, 0, JSON.stringify({ type: "end", count: 1, sha256: "0".repeat(64) }));
    }),
    stoppedBad("INVALID_LINE", 3, /end line before the end/),
  ),
  {
    id: "line-too-long",
    what: `one change line of ${MAX_LINE_BYTES + 1} bytes, over the 64 MiB line cap (valid JSON, valid checksum)`,
    files: [],
    appliesFirst: [],
    outcome: stoppedBad("LINE_TOO_LONG", 2, /longer than/),
    repair: [NAME_1],
    testTimeOnly: true,
  },
  badCase(
    "unknown-format",
    'header "format": 2, as a newer version would write (checksum re-sealed)',
    mutate((l) => {
      at(l, 0).format = 2;
    }),
    stoppedBad("UNKNOWN_FORMAT", 1, /format 2.*newer version/),
  ),
  badCase(
    "header-client-mismatch",
    'header "client": "eve" (and every change line too) in mallory-000000000001.ndjson',
    mutate((l) => {
      for (const line of l) line.client = "eve";
    }),
    stoppedBad("HEADER_CLIENT_MISMATCH", 1, /"eve".*"mallory"/),
  ),
  badCase(
    "header-seq-mismatch",
    'header "seq": 2 in mallory-000000000001.ndjson',
    mutate((l) => {
      at(l, 0).seq = 2;
    }),
    stoppedBad("HEADER_SEQ_MISMATCH", 1, /seq 2.*says 1/),
  ),
  badCase(
    "header-client-dotdot",
    'header "client": "../etc" (a path climbing out of the folder) in a validly named file',
    mutate((l) => {
      for (const line of l) line.client = "../etc";
    }),
    stoppedBad("HEADER_CLIENT_MISMATCH", 1, /\.\.\/etc/),
  ),
  badCase(
    "header-client-slash",
    'header "client": "mallory/../alice" (path separators) in a validly named file',
    mutate((l) => {
      for (const line of l) line.client = "mallory/../alice";
    }),
    stoppedBad("HEADER_CLIENT_MISMATCH", 1, /mallory\/\.\.\/alice/),
  ),
  badCase(
    "header-client-control-chars",
    'header "client" with a terminal escape and a newline ("\\u001b[2J\\nalice"): the message must not carry them raw',
    mutate((l) => {
      at(l, 0).client = "\u001b[2J\nalice";
    }),
    stoppedBad("HEADER_CLIENT_MISMATCH", 1),
  ),
  {
    id: "name-dotdot",
    what: 'a file named ..-000000000001.ndjson (client id ".." in the name) holding a file of client ".."',
    files: [
      {
        name: "..-000000000001.ndjson",
        bytes: mutate((l) => {
          for (const line of l) line.client = "..";
        }),
      },
    ],
    appliesFirst: [],
    outcome: { kind: "junk", name: "..-000000000001.ndjson", junkKind: "unknown" },
    repair: [NAME_1],
  },
  {
    id: "name-seq-zero",
    what: "a file named mallory-000000000000.ndjson (seq 0; seqs start at 1) holding a valid-looking seq-0 file",
    files: [
      {
        name: "mallory-000000000000.ndjson",
        bytes: mutate((l) => {
          at(l, 0).seq = 0;
        }),
      },
    ],
    appliesFirst: [],
    outcome: { kind: "junk", name: "mallory-000000000000.ndjson", junkKind: "unknown" },
    repair: [NAME_1],
  },
  badCase(
    "change-client-mismatch",
    'change line 3 says "client": "alice" in mallory\'s file (impersonating another peer)',
    mutate((l) => {
      at(l, 2).client = "alice";
    }),
    stoppedBad("CHANGE_CLIENT_MISMATCH", 3, /"alice".*"mallory"/),
  ),
  badCase(
    "change-client-slash",
    'change line 2 says "client": "../alice" in mallory\'s file',
    mutate((l) => {
      at(l, 1).client = "../alice";
    }),
    stoppedBad("CHANGE_CLIENT_MISMATCH", 2),
  ),
  badCase(
    "unknown-entity",
    'change line 3 names entity "Playlists", not a synced table',
    mutate((l) => {
      at(l, 2).entity = "Playlists";
    }),
    stoppedBad("UNKNOWN_ENTITY", 3, /Playlists/),
  ),
  badCase(
    "entity-wrong-case",
    'change line 2 names entity "media" (the table is "Media"; entity names are exact)',
    mutate((l) => {
      at(l, 1).entity = "media";
    }),
    stoppedBad("UNKNOWN_ENTITY", 2),
  ),
  badCase(
    "entity-sql",
    "change line 2 names entity `Media; DROP TABLE Media;--`",
    mutate((l) => {
      at(l, 1).entity = "Media; DROP TABLE Media;--";
    }),
    stoppedBad("UNKNOWN_ENTITY", 2),
  ),
  appliedCase(
    "unknown-column",
    'the Media payload carries an extra key "rating": 5 and the keyword one "color": "red" (a newer schema)',
    mutate((l) => {
      payloadOf(l, 1).rating = 5;
      payloadOf(l, 2).color = "red";
    }),
    { kind: "applied", changes: 4, pending: 0, sameAs: [NAME_1] },
  ),
  appliedCase(
    "local-only-columns",
    "payloads carry local-only and local id columns: Media vector_embedding, chunking_status, id; Transcripts media_id",
    mutate((l) => {
      Object.assign(payloadOf(l, 1), { id: 1, vector_embedding: "AAAA", chunking_status: "done" });
      payloadOf(l, 4).media_id = 999;
    }),
    { kind: "applied", changes: 4, pending: 0, sameAs: [NAME_1] },
  ),
  appliedCase(
    "column-sql",
    "payload keys carrying SQL: Media `title\" = 'x'; --` and Keywords `\"; DROP TABLE Keywords; --`",
    mutate((l) => {
      payloadOf(l, 1)[`title" = 'x'; --`] = "pwned";
      payloadOf(l, 2)[`"; DROP TABLE Keywords; --`] = "pwned";
      payloadOf(l, 2)["keyword) VALUES ('x'); DROP TABLE Media; --"] = 1;
    }),
    { kind: "applied", changes: 4, pending: 0, sameAs: [NAME_1] },
  ),
  badCase(
    "timestamp-no-zone",
    'change line 2 "ts": "2026-01-01T10:00:00" (no zone: local time of an unknown place)',
    mutate((l) => {
      at(l, 1).ts = "2026-01-01T10:00:00";
    }),
    stoppedBad("BAD_TIMESTAMP", 2, /2026-01-01T10:00:00/),
  ),
  badCase(
    "timestamp-impossible-date",
    'change line 3 "ts": "2026-02-30T10:00:00.000Z" (February 30)',
    mutate((l) => {
      at(l, 2).ts = "2026-02-30T10:00:00.000Z";
    }),
    stoppedBad("BAD_TIMESTAMP", 3),
  ),
  badCase(
    "timestamp-words",
    'change line 2 "ts": "yesterday"',
    mutate((l) => {
      at(l, 1).ts = "yesterday";
    }),
    stoppedBad("BAD_TIMESTAMP", 2, /yesterday/),
  ),
  badCase(
    "timestamp-number",
    'change line 2 "ts": 1767261600000 (epoch milliseconds as a number, not text)',
    mutate((l) => {
      at(l, 1).ts = 1767261600000;
    }),
    stoppedBad("INVALID_LINE", 2, /ts/),
  ),
  appliedCase(
    "timestamp-year-0099",
    'Media created at "1999-06-01T00:00:00.000Z", then updated at "0099-12-31T00:00:00.000Z" (ISO 8601, year 99): the update is older and loses',
    mutate((l) => {
      const create = at(l, 1);
      create.ts = "1999-06-01T00:00:00.000Z";
      Object.assign(payloadOf(l, 1), { title: "from 1999", last_modified: "1999-06-01T00:00:00.000Z" });
      const update = JSON.parse(JSON.stringify(create)) as Json;
      update.op = "update";
      update.ts = "0099-12-31T00:00:00.000Z";
      update.version = 2;
      Object.assign(update.payload as Json, {
        title: "from year 99",
        version: 2,
        last_modified: "0099-12-31T00:00:00.000Z",
      });
      l.splice(2, 0, update);
    }),
    {
      kind: "applied",
      changes: 5,
      pending: 0,
      rows: [{ table: "Media", uuid: MEDIA, column: "title", value: "from 1999" }],
    },
  ),
  badCase(
    "wrong-type-version-string",
    'change line 2 "version": "1" (a string)',
    mutate((l) => {
      at(l, 1).version = "1";
    }),
    stoppedBad("INVALID_LINE", 2, /version/),
  ),
  badCase(
    "wrong-type-payload-object",
    'change line 2 payload "title": {"$gt": ""} (an object where a scalar belongs)',
    mutate((l) => {
      payloadOf(l, 1).title = { $gt: "" };
    }),
    stoppedBad("INVALID_LINE", 2, /payload\.title/),
  ),
  badCase(
    "wrong-type-payload-boolean",
    'change line 2 payload "is_trash": false (JSON booleans are not payload values)',
    mutate((l) => {
      payloadOf(l, 1).is_trash = false;
    }),
    stoppedBad("INVALID_LINE", 2, /payload\.is_trash/),
  ),
  badCase(
    "wrong-type-op",
    'change line 3 "op": "upsert"',
    mutate((l) => {
      at(l, 2).op = "upsert";
    }),
    stoppedBad("INVALID_LINE", 3, /op/),
  ),
  badCase(
    "wrong-type-header-seq",
    'header "seq": "1" (a string)',
    mutate((l) => {
      at(l, 0).seq = "1";
    }),
    stoppedBad("INVALID_LINE", 1, /seq/),
  ),
  badCase(
    "line-not-object",
    "change line 3 is the JSON array [1,2,3]",
    mutateText((l) => {
      l[2] = "[1,2,3]";
    }),
    stoppedBad("INVALID_LINE", 3),
  ),
  badCase(
    "payload-uuid-mismatch",
    'change line 2 is for uuid mallory-media-1 but its payload says "uuid": "alice-media-1"',
    mutate((l) => {
      payloadOf(l, 1).uuid = "alice-media-1";
    }),
    stoppedBad("UUID_MISMATCH", 2),
  ),
  badCase(
    "link-uuid-mismatch",
    'the link line\'s uuid is "x_y", not <media_uuid>_<keyword_uuid>',
    mutate((l) => {
      at(l, 3).uuid = "x_y";
    }),
    stoppedBad("UUID_MISMATCH", 4),
  ),
  badCase(
    "payload-uuid-control-chars",
    'change line 2\'s uuid ends in a terminal escape ("mallory-media-1\\u001b[2J") and differs from its payload uuid',
    mutate((l) => {
      at(l, 1).uuid = "mallory-media-1\u001b[2J";
    }),
    stoppedBad("UUID_MISMATCH", 2),
  ),
  badCase(
    "link-uuid-long",
    'the link line\'s uuid is "x_y" and its media_uuid is 5000 characters long: the message must stay readable',
    mutate((l) => {
      at(l, 3).uuid = "x_y";
      payloadOf(l, 3).media_uuid = "m".repeat(5000);
    }),
    stoppedBad("UUID_MISMATCH", 4),
  ),
  badCase(
    "null-in-not-null-column",
    'the Media payload has "title": null; Media.title is NOT NULL in the app\'s table',
    mutate((l) => {
      payloadOf(l, 1).title = null;
    }),
    stoppedBad(undefined, 2),
  ),
  badCase(
    "null-bookkeeping-pending-child",
    `a transcript of zed's media ${ZED_MEDIA} (pending until zed's file applies) with "last_modified": null`,
    mutate((l) => {
      l.splice(1, 3);
      Object.assign(payloadOf(l, 1), { media_uuid: ZED_MEDIA, last_modified: null });
    }),
    stoppedBad(undefined, 2),
  ),
  badCase(
    "missing-column",
    'the Media payload lacks "title" (a synced column with no default): schema mismatch',
    mutate((l) => {
      delete payloadOf(l, 1).title;
    }),
    stoppedBad("MISSING_COLUMN", 2, /schema mismatch.*title/),
  ),
  badCase(
    "wrong-op",
    'change line 2 is "op": "link" on the row table Media',
    mutate((l) => {
      at(l, 1).op = "link";
    }),
    stoppedBad("WRONG_OP", 2),
  ),
  appliedCase(
    "link-to-missing",
    "a link and a transcript that refer to media and keyword uuids that never arrive",
    encode(1, null, [
      {
        type: "change",
        entity: "MediaKeywords",
        uuid: "never-media_never-kw",
        op: "link",
        ts: TS,
        version: 1,
        client: OWNER,
        payload: { media_uuid: "never-media", keyword_uuid: "never-kw" },
      },
      row("Transcripts", "orphan-tr", "create", {
        media_uuid: "never-media",
        whisper_model: "base",
        transcription: "for a media that never comes",
        created_at: "2026-01-01",
      }),
    ]).bytes,
    { kind: "applied", changes: 2, pending: 2 },
  ),
  {
    id: "chain-broken",
    what: "mallory's good file 1, then a file 2 whose prev is not file 1's hash (another database writing as mallory)",
    files: [
      { name: NAME_1, bytes: BASE.bytes },
      {
        name: NAME_2,
        bytes: mutate((l) => {
          at(l, 0).prev = "0".repeat(64);
        }, SECOND.bytes),
      },
    ],
    appliesFirst: [NAME_1],
    outcome: { kind: "stopped", reason: "chain-broken", code: "CHAIN_BROKEN", file: NAME_2, says: /prev/ },
    repair: [NAME_2],
  },
  badCase(
    "chain-first-prev",
    "file 1 whose prev is not null (it claims a predecessor that cannot exist)",
    mutate((l) => {
      at(l, 0).prev = "1".repeat(64);
    }),
    { kind: "stopped", reason: "chain-broken", code: "CHAIN_BROKEN", file: NAME_1, says: /prev/ },
  ),
];

/**
 * Writes the line-too-long case (not committed: it is over 64 MiB): a header, one change line of
 * MAX_LINE_BYTES + 1 bytes that is otherwise valid, and a trailer whose count and checksum match.
 */
export function longLineFile(): Uint8Array {
  const [header = ""] = baseLinesText;
  const change = baseLines()[0]!;
  const prefix = JSON.stringify({ ...change, payload: { ...change.payload, content: "" } });
  const at = prefix.indexOf('"content":""') + '"content":"'.length;
  const fill = MAX_LINE_BYTES + 1 - prefix.length;
  const line = new Uint8Array(MAX_LINE_BYTES + 1);
  line.set(enc.encode(prefix.slice(0, at)), 0);
  line.fill(0x61, at, at + fill); // "aaaa..."
  line.set(enc.encode(prefix.slice(at)), at + fill);
  const body = concat(enc.encode(`${header}\n`), line, enc.encode("\n"));
  const sha = createHash("sha256").update(body).digest("hex");
  return concat(body, enc.encode(`${JSON.stringify({ type: "end", count: 1, sha256: sha })}\n`));
}

function outcomeText(c: CorpusCase): string {
  const o = c.outcome;
  switch (o.kind) {
    case "stopped": {
      const where = o.line === undefined ? o.file : `${o.file} line ${o.line}`;
      const label = o.reason === "chain-broken" ? "stopped (chain-broken)" : `stopped as ${o.reason}`;
      const code = o.code === undefined ? "a code" : `code ${o.code}`;
      return `${label}, ${code}, naming ${where}; \`sync\` exits 1; nothing of the file applied; other peers go on`;
    }
    case "waiting":
      return `waits as incomplete (${o.file}; retried every pass); not a failure, \`sync\` exits 0; nothing applied`;
    case "applied": {
      const parts = [`applies (${o.changes} changes), not a failure`];
      if (o.sameAs)
        parts.push("the odd keys are ignored and never reach SQL: the database ends as with the base file");
      if (o.pending > 0)
        parts.push(`${o.pending} registers kept pending (report.pending), nothing shown, no error`);
      for (const r of o.rows ?? [])
        parts.push(`${r.table} ${r.uuid} ${r.column} = ${JSON.stringify(r.value)}`);
      return parts.join("; ");
    }
    case "junk":
      return `skipped as junk (kind ${o.junkKind}): never read or applied; not a failure`;
  }
}

/** fixtures/README.md */
export function readme(): string {
  const rows = CORPUS.flatMap((c) => {
    const files = c.testTimeOnly ? ["(built at test time)"] : c.files.map((f) => `\`${f.name}\``);
    return files.map((f) => `| \`${c.id}\` | ${f} | ${c.what.replaceAll("|", "\\|")} | ${outcomeText(c)} |`);
  });
  return [
    "# Bad-input corpus",
    "",
    "Generated by `npx tsx scripts/make-fixtures.ts` from `test/faults/corpus-cases.ts` and",
    "`test/faults/junk-cases.ts`; do not edit by hand. `test/faults/corpus.test.ts` checks that these files are",
    "what the generator builds, and that each has the outcome below (DESIGN sections 3, 4, 7).",
    "",
    "- `good/changes/`: client `mallory`'s valid files 1 and 2 of the media preset, written with the real encoder.",
    "  Every case below mutates file 1 (the base) and is repaired by delivering the good file(s) over it.",
    "- `bad/<case>/changes/<name>`: what a peer finds in `changes/`, under that name.",
    "- In every test a good peer (`alice`, and `zed` after `mallory` in name order) has a valid file in the same",
    "  folder: it is applied whatever mallory's file does, and the database ends as if mallory's bad file was",
    "  never there (compared with a replica that got only the good files).",
    "- `line-too-long` is not committed (a line over the 64 MiB cap makes a 64 MiB file, and the cap is not",
    "  settable through SyncManager): the test builds it in a temp folder with `longLineFile()`.",
    "- `junk-names.txt`: names sync services and systems leave in a folder (x = `bob-000000000001`), one per",
    "  line. Each is put in `changes/` at test time holding bob's valid file 1 and must never be ingested. They",
    "  are not committed as files: several differ only in case (they collide on macOS and Windows checkouts) and",
    "  `.DS_Store`, `Thumbs.db`, `desktop.ini`, `._*` are dropped by common global gitignores.",
    "",
    "| case | file | what it is | what must happen |",
    "|---|---|---|---|",
    ...rows,
    "",
    "## junk-names.txt",
    "",
    "Each name holds a valid changeset of bob at test time; every one must be skipped as junk: listed in",
    "`report.junk` with its kind, never read, nothing applied, not a failure; the same bytes under",
    "`bob-000000000001.ndjson` apply. Kind `(any but unknown)`: the research says what it is, the engine has no",
    "label for it yet.",
    "",
    "| name | left by | kind |",
    "|---|---|---|",
    ...JUNK_NAMES.map(
      (j) => `| \`${j.name.replaceAll("|", "\\|")}\` | ${j.source} | ${j.kind ?? "(any but unknown)"} |`,
    ),
    "",
  ].join("\n");
}

/** Every committed fixture file, by path relative to fixtures/. */
export function fixtureFiles(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const [name, bytes] of GOOD) files.set(`good/changes/${name}`, bytes);
  for (const c of CORPUS) {
    if (c.testTimeOnly) continue;
    for (const f of c.files) files.set(`bad/${c.id}/changes/${f.name}`, f.bytes);
  }
  files.set("junk-names.txt", enc.encode(`${JUNK_NAMES.map((j) => j.name).join("\n")}\n`));
  files.set("README.md", enc.encode(readme()));
  // Byte-exact: no line-ending conversion on checkout (a CRLF file is itself a case).
  files.set(".gitattributes", enc.encode("* -text\n"));
  return files;
}
