// The SyncTransport contract: one suite, run against every transport (the folder and the in-memory one).

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TransportError } from "../../src/sync/errors.js";
import type { SyncTransport, Unsubscribe } from "../../src/transport/transport.js";

export interface ContractSetup {
  readonly transport: SyncTransport;
  /** Puts a file with any name and content into `changes/`. */
  putRaw(name: string, bytes: Uint8Array): Promise<void>;
  /** Makes `name` present in `changes/` but not a regular file (a FIFO, say). */
  makeNonRegular(name: string): Promise<void>;
  cleanup(): Promise<void>;
}

export const JUNK_SAMPLE = [
  "alice-000000000001.sync-conflict-20260101-101010-ABCDEFG.ndjson",
  ".syncthing.alice-000000000001.ndjson.tmp",
  "~syncthing~alice-000000000001.ndjson.tmp",
  "alice-000000000001 (bob's conflicted copy 2026-01-01).ndjson",
  "alice-000000000001 (Cópia em conflito de pc-saito 2014-08-14).ndjson",
  "alice-000000000001 (Case Conflict).ndjson",
  "alice-000000000001 (1).ndjson",
  "alice-000000000001-DESKTOP-AB12CD.ndjson",
  ".alice-000000000001.ndjson.icloud",
  "alice-000000000001 2.ndjson",
  "alice-000000000001 (conflicted copy 2026-01-01 101010).ndjson",
  "alice-000000000001.ndjson.1a2b3c4d.partial",
  ".alice-000000000001.ndjson.AbC123",
  "._alice-000000000001.ndjson",
  ".DS_Store",
  "Thumbs.db",
  "desktop.ini",
  "ALICE-000000000001.ndjson",
  "alice-000000000001.NDJSON",
];

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return decode(Buffer.concat(parts));
}

/** Polls `check` until it holds or `ms` pass; watchers give no timing guarantee, so no fixed sleep. */
export async function eventually(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function runTransportContract(name: string, setup: () => Promise<ContractSetup>): void {
  describe(`SyncTransport contract: ${name}`, () => {
    let ctx: ContractSetup;
    let transport: SyncTransport;
    const unsubscribes: Unsubscribe[] = [];

    beforeEach(async () => {
      ctx = await setup();
      transport = ctx.transport;
    });

    afterEach(async () => {
      for (const unsubscribe of unsubscribes.splice(0)) await unsubscribe();
      await ctx.cleanup();
    });

    it("has a location", () => {
      expect(transport.location.length).toBeGreaterThan(0);
    });

    it("reads no marker in a fresh folder, and lists nothing", async () => {
      expect(await transport.readMarker()).toBeUndefined();
      expect(await transport.list()).toEqual({ files: [], junk: [] });
    });

    it("writes the marker once; a second ensureMarker returns the first", async () => {
      const first = await transport.ensureMarker({ format: 1, id: "folder-one" });
      expect(first).toEqual({ format: 1, id: "folder-one" });
      expect(await transport.readMarker()).toEqual({ format: 1, id: "folder-one" });
      expect(await transport.ensureMarker({ format: 1, id: "folder-two" })).toEqual({
        format: 1,
        id: "folder-one",
      });
      expect(await transport.readMarker()).toEqual({ format: 1, id: "folder-one" });
    });

    it("publishes, lists, reads and streams a file", async () => {
      await transport.ensureMarker({ format: 1, id: "f" });
      const content = "line one\nline two\n";
      await transport.publish("alice-000000000001.ndjson", text(content));
      await transport.publish("bob-000000000002.ndjson", text("b\n"));
      const { files, junk } = await transport.list();
      expect(junk).toEqual([]);
      expect(files.map((f) => [f.name, f.client, f.seq, f.regular, f.size])).toEqual([
        ["alice-000000000001.ndjson", "alice", 1, true, content.length],
        ["bob-000000000002.ndjson", "bob", 2, true, 2],
      ]);
      expect(files[0]!.mtimeMs).toBeGreaterThan(0);
      expect(decode(await transport.read("alice-000000000001.ndjson"))).toBe(content);
      expect(await collect(transport.stream("alice-000000000001.ndjson"))).toBe(content);
      expect(await collect(transport.stream("alice-000000000001.ndjson", 9))).toBe("line two\n");
      expect(await collect(transport.stream("alice-000000000001.ndjson", content.length))).toBe("");
    });

    it("streams a file larger than one chunk intact", async () => {
      const big = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 7) % 251);
      await transport.publish("alice-000000000001.ndjson", big);
      const parts: Uint8Array[] = [];
      for await (const chunk of transport.stream("alice-000000000001.ndjson", 5)) parts.push(chunk);
      expect(parts.length).toBeGreaterThan(1);
      expect(Buffer.concat(parts).equals(Buffer.from(big.subarray(5)))).toBe(true);
    });

    it("replaces a published file whole (a cut-short file republished)", async () => {
      await transport.publish("alice-000000000001.ndjson", text("cut"));
      await transport.publish("alice-000000000001.ndjson", text("complete\n"));
      expect(decode(await transport.read("alice-000000000001.ndjson"))).toBe("complete\n");
    });

    it("leaves no temporary file behind after publishing", async () => {
      await transport.publish("alice-000000000001.ndjson", text("x\n"));
      expect(await transport.list()).toMatchObject({ junk: [] });
      expect(await transport.removeOwnTempFiles("alice")).toBe(0);
    });

    it("refuses to publish or read a name that is not a changeset name", async () => {
      await expect(transport.publish("../escape-000000000001.ndjson", text("x"))).rejects.toBeInstanceOf(
        TransportError,
      );
      await expect(transport.publish("Alice-000000000001.ndjson", text("x"))).rejects.toBeInstanceOf(
        TransportError,
      );
      await expect(transport.read("../folder-sync.json")).rejects.toBeInstanceOf(TransportError);
      expect((await transport.list()).files).toEqual([]);
    });

    it("rejects reading a missing file", async () => {
      await transport.publish("alice-000000000001.ndjson", text("x\n"));
      await expect(transport.read("alice-000000000002.ndjson")).rejects.toBeInstanceOf(TransportError);
      await expect(collect(transport.stream("alice-000000000002.ndjson"))).rejects.toBeInstanceOf(
        TransportError,
      );
    });

    it("lists junk names as junk, never as files", async () => {
      await transport.publish("alice-000000000001.ndjson", text("x\n"));
      for (const junkName of JUNK_SAMPLE) await ctx.putRaw(junkName, text("junk\n"));
      const { files, junk } = await transport.list();
      expect(files.map((f) => f.name)).toEqual(["alice-000000000001.ndjson"]);
      expect(junk.map((j) => j.name).sort()).toEqual([...JUNK_SAMPLE].sort());
      for (const entry of junk) expect(entry.kind).not.toBe("unknown");
    });

    it("lists a valid name that is not a regular file as regular:false, and read rejects without hanging", async () => {
      await ctx.makeNonRegular("bob-000000000001.ndjson");
      const { files } = await transport.list();
      expect(files).toHaveLength(1);
      expect(files[0]).toMatchObject({
        name: "bob-000000000001.ndjson",
        client: "bob",
        seq: 1,
        regular: false,
      });
      await expect(transport.read("bob-000000000001.ndjson")).rejects.toBeInstanceOf(TransportError);
      await expect(collect(transport.stream("bob-000000000001.ndjson"))).rejects.toBeInstanceOf(
        TransportError,
      );
    });

    it("removes only its own temporary files", async () => {
      const own = [".alice-000000000001.0123abcd.tmp", ".alice-000000000007.0123456789abcdef.tmp"];
      const others = [
        ".bob-000000000001.0123abcd.tmp",
        ".alice-bob-000000000001.0123abcd.tmp",
        ".syncthing.alice-000000000001.ndjson.tmp",
        ".alice-000000000001.ndjson.AbC123",
        "alice-000000000001.ndjson",
      ];
      for (const file of [...own, ...others]) await ctx.putRaw(file, text("t"));
      expect(await transport.removeOwnTempFiles("alice")).toBe(2);
      const { files, junk } = await transport.list();
      const left = [...files, ...junk].map((e) => e.name).sort();
      expect(left).toEqual([...others].sort());
      expect(await transport.removeOwnTempFiles("alice")).toBe(0);
    });

    it("calls onChange after a publish", async () => {
      await transport.ensureMarker({ format: 1, id: "f" });
      let changes = 0;
      const errors: Error[] = [];
      unsubscribes.push(
        await transport.watch({ onChange: () => changes++, onError: (error) => errors.push(error) }),
      );
      await transport.publish("alice-000000000001.ndjson", text("x\n"));
      await eventually(() => changes > 0);
      expect(errors).toEqual([]);
    });

    it("calls onChange when a file arrives from elsewhere", async () => {
      await transport.ensureMarker({ format: 1, id: "f" });
      let changes = 0;
      unsubscribes.push(await transport.watch({ onChange: () => changes++, onError: () => undefined }));
      await ctx.putRaw("bob-000000000001.ndjson", text("y\n"));
      await eventually(() => changes > 0);
    });

    it("calls onChange when changes/ appears after the watch started", async () => {
      let changes = 0;
      unsubscribes.push(await transport.watch({ onChange: () => changes++, onError: () => undefined }));
      await transport.publish("alice-000000000001.ndjson", text("x\n"));
      await eventually(() => changes > 0);
    });

    it("stops calling onChange after unsubscribing", async () => {
      await transport.ensureMarker({ format: 1, id: "f" });
      let changes = 0;
      const unsubscribe = await transport.watch({ onChange: () => changes++, onError: () => undefined });
      await unsubscribe();
      await unsubscribe(); // idempotent
      await transport.publish("alice-000000000001.ndjson", text("x\n"));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(changes).toBe(0);
    });
  });
}
