// The in-memory transport: the shared contract, plus its fault-injection and sneakernet helpers.

import { describe, expect, it } from "vitest";
import { MemoryTransport } from "../../src/transport/memory-transport.js";
import { runTransportContract } from "./contract.js";

runTransportContract("MemoryTransport", async () => {
  const transport = new MemoryTransport({ chunkSize: 1000 });
  return {
    transport,
    async putRaw(name, bytes) {
      transport.putRaw(name, bytes);
    },
    async makeNonRegular(name) {
      transport.setNonRegular(name, true);
    },
    async cleanup() {},
  };
});

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

describe("MemoryTransport helpers", () => {
  it("copies a subset of files between folders (sneakernet)", async () => {
    const a = new MemoryTransport();
    const b = new MemoryTransport();
    await a.ensureMarker({ format: 1, id: "shared" });
    await a.publish("alice-000000000001.ndjson", text("1\n"));
    await a.publish("alice-000000000002.ndjson", text("2\n"));
    await b.ensureMarker((await a.readMarker())!);
    expect(b.copyFrom(a, ["alice-000000000002.ndjson", "missing-000000000001.ndjson"])).toEqual([
      "alice-000000000002.ndjson",
    ]);
    expect((await b.list()).files.map((f) => f.name)).toEqual(["alice-000000000002.ndjson"]);
    const c = MemoryTransport.fromSnapshot(a.snapshot(), { marker: { format: 1, id: "shared" } });
    expect((await c.list()).files.map((f) => f.name)).toEqual([
      "alice-000000000001.ndjson",
      "alice-000000000002.ndjson",
    ]);
    expect(await c.readMarker()).toEqual({ format: 1, id: "shared" });
  });

  it("keeps its bytes to itself", async () => {
    const t = new MemoryTransport();
    const bytes = text("abc\n");
    await t.publish("alice-000000000001.ndjson", bytes);
    bytes[0] = 0;
    (await t.read("alice-000000000001.ndjson"))[1] = 0;
    expect(new TextDecoder().decode(await t.read("alice-000000000001.ndjson"))).toBe("abc\n");
  });

  it("removes files and the marker, and reads a bad marker as a mismatch", async () => {
    const t = new MemoryTransport();
    await t.ensureMarker({ format: 1, id: "x" });
    t.putRaw("alice-000000000001.ndjson", "1\n");
    expect(t.remove("alice-000000000001.ndjson")).toBe(true);
    expect(t.remove("alice-000000000001.ndjson")).toBe(false);
    t.removeMarker();
    expect(await t.readMarker()).toBeUndefined();
    t.setMarkerRaw("{oops");
    await expect(t.readMarker()).rejects.toMatchObject({ code: "FOLDER_MARKER_MISMATCH" });
  });

  it("turns a file non-regular and back", async () => {
    const t = new MemoryTransport();
    await t.publish("alice-000000000001.ndjson", text("1\n"));
    t.setNonRegular("alice-000000000001.ndjson", true);
    await expect(t.read("alice-000000000001.ndjson")).rejects.toMatchObject({ code: "TRANSPORT_FAILED" });
    t.setNonRegular("alice-000000000001.ndjson", false);
    expect(new TextDecoder().decode(await t.read("alice-000000000001.ndjson"))).toBe("1\n");
  });

  it("times out a stuck read", async () => {
    const t = new MemoryTransport({ readTimeoutMs: 20 });
    await t.publish("alice-000000000001.ndjson", text("1\n"));
    t.setStuck("alice-000000000001.ndjson", true);
    await expect(t.read("alice-000000000001.ndjson")).rejects.toThrow(/took longer than 20 ms/);
    t.setStuck("alice-000000000001.ndjson", false);
    expect((await t.read("alice-000000000001.ndjson")).length).toBe(2);
  });

  it("fails injected publishes without writing", async () => {
    const t = new MemoryTransport();
    t.failNextPublishes(1);
    await expect(t.publish("alice-000000000001.ndjson", text("1\n"))).rejects.toMatchObject({
      code: "TRANSPORT_FAILED",
    });
    expect((await t.list()).files).toEqual([]);
    await t.publish("alice-000000000001.ndjson", text("1\n"));
    expect((await t.list()).files).toHaveLength(1);
  });

  it("streams in chunks of the configured size", async () => {
    const t = new MemoryTransport({ chunkSize: 3 });
    await t.publish("alice-000000000001.ndjson", text("abcdefgh"));
    const chunks: string[] = [];
    for await (const chunk of t.stream("alice-000000000001.ndjson", 1))
      chunks.push(new TextDecoder().decode(chunk));
    expect(chunks).toEqual(["bcd", "efg", "h"]);
  });
});
