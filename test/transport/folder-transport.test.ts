// The folder transport: the shared contract on a real temp directory, plus what only a real filesystem shows.

import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TransportError } from "../../src/sync/errors.js";
import { FolderTransport } from "../../src/transport/folder-transport.js";
import type { Unsubscribe } from "../../src/transport/transport.js";
import { eventually, runTransportContract } from "./contract.js";

async function freshDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), "folder-transport-"));
}

function inotifyWatches(): number {
  let count = 0;
  for (const fd of readdirSync("/proc/self/fdinfo")) {
    try {
      count += (readFileSync(`/proc/self/fdinfo/${fd}`, "utf8").match(/^inotify wd/gm) ?? []).length;
    } catch {
      // the fd closed meanwhile
    }
  }
  return count;
}

function makeFifo(file: string): void {
  execFileSync("mkfifo", [file]);
}

runTransportContract("FolderTransport", async () => {
  const dir = await freshDir();
  const changes = path.join(dir, "changes");
  return {
    transport: new FolderTransport(dir),
    async putRaw(name, bytes) {
      await mkdir(changes, { recursive: true });
      await writeFile(path.join(changes, name), bytes);
    },
    async makeNonRegular(name) {
      await mkdir(changes, { recursive: true });
      makeFifo(path.join(changes, name));
    },
    async cleanup() {
      await rm(dir, { recursive: true, force: true });
    },
  };
});

runTransportContract("FolderTransport (polling)", async () => {
  const dir = await freshDir();
  const changes = path.join(dir, "changes");
  return {
    transport: new FolderTransport(dir, { usePolling: true }),
    async putRaw(name, bytes) {
      await mkdir(changes, { recursive: true });
      await writeFile(path.join(changes, name), bytes);
    },
    async makeNonRegular(name) {
      await mkdir(path.join(changes, name), { recursive: true });
    },
    async cleanup() {
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe("FolderTransport on disk", () => {
  let dir: string;
  let changes: string;
  const unsubscribes: Unsubscribe[] = [];

  beforeEach(async () => {
    dir = await freshDir();
    changes = path.join(dir, "changes");
  });

  afterEach(async () => {
    for (const unsubscribe of unsubscribes.splice(0)) await unsubscribe();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the marker and changes/ in the documented layout", async () => {
    await new FolderTransport(dir).ensureMarker({ format: 1, id: "abc" });
    expect(JSON.parse(await readFile(path.join(dir, "folder-sync.json"), "utf8"))).toEqual({
      format: 1,
      id: "abc",
    });
    expect((await readdir(dir)).sort()).toEqual(["changes", "folder-sync.json"]);
  });

  it("agrees on one marker when two clients create it at once", async () => {
    const results = await Promise.all(
      ["one", "two", "three", "four"].map((id) => new FolderTransport(dir).ensureMarker({ format: 1, id })),
    );
    const inForce = await new FolderTransport(dir).readMarker();
    for (const result of results) expect(result).toEqual(inForce);
    expect((await readdir(dir)).sort()).toEqual(["changes", "folder-sync.json"]);
  });

  it("rejects an unparseable or malformed marker with FOLDER_MARKER_MISMATCH", async () => {
    const transport = new FolderTransport(dir);
    await writeFile(path.join(dir, "folder-sync.json"), "{not json");
    await expect(transport.readMarker()).rejects.toMatchObject({ code: "FOLDER_MARKER_MISMATCH" });
    await writeFile(path.join(dir, "folder-sync.json"), '{"format":1}');
    await expect(transport.readMarker()).rejects.toMatchObject({ code: "FOLDER_MARKER_MISMATCH" });
    await expect(transport.ensureMarker({ format: 1, id: "x" })).rejects.toMatchObject({
      code: "FOLDER_MARKER_MISMATCH",
    });
  });

  it("reads no marker and creates nothing when the folder itself is missing (an unmounted stick)", async () => {
    const missing = path.join(dir, "not-mounted");
    const transport = new FolderTransport(missing);
    expect(await transport.readMarker()).toBeUndefined();
    expect(await transport.list()).toEqual({ files: [], junk: [] });
    await expect(transport.ensureMarker({ format: 1, id: "x" })).rejects.toBeInstanceOf(TransportError);
    await expect(transport.publish("alice-000000000001.ndjson", new Uint8Array(1))).rejects.toBeInstanceOf(
      TransportError,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it("treats a symlink to a regular file as not regular", async () => {
    await mkdir(changes);
    await writeFile(path.join(dir, "outside.ndjson"), "secret\n");
    await symlink(path.join(dir, "outside.ndjson"), path.join(changes, "alice-000000000001.ndjson"));
    const transport = new FolderTransport(dir);
    expect((await transport.list()).files).toMatchObject([
      { name: "alice-000000000001.ndjson", regular: false },
    ]);
    await expect(transport.read("alice-000000000001.ndjson")).rejects.toThrow(/symbolic link/);
  });

  it("treats a directory with a valid name as not regular, and labels junk directories", async () => {
    await mkdir(path.join(changes, "alice-000000000001.ndjson"), { recursive: true });
    await mkdir(path.join(changes, "some-folder"));
    const transport = new FolderTransport(dir);
    const listing = await transport.list();
    expect(listing.files).toMatchObject([{ name: "alice-000000000001.ndjson", regular: false, size: 0 }]);
    expect(listing.junk).toEqual([{ name: "some-folder", kind: "directory" }]);
    await expect(transport.read("alice-000000000001.ndjson")).rejects.toThrow(/directory/);
  });

  it("labels a junk FIFO as not-regular and lists it without opening it", async () => {
    await mkdir(changes);
    makeFifo(path.join(changes, "pipe"));
    expect((await new FolderTransport(dir).list()).junk).toEqual([{ name: "pipe", kind: "not-regular" }]);
  });

  it("removes its temp file and keeps the old content when the rename fails", async () => {
    await mkdir(path.join(changes, "alice-000000000001.ndjson", "inner"), { recursive: true });
    const transport = new FolderTransport(dir);
    await expect(transport.publish("alice-000000000001.ndjson", new Uint8Array([1]))).rejects.toMatchObject({
      code: "TRANSPORT_FAILED",
    });
    expect((await readdir(changes)).sort()).toEqual(["alice-000000000001.ndjson"]);
  });

  it("uses a temp name of the documented shape, never .syncthing.", async () => {
    // Catch the temp file by watching the directory listing during many publishes.
    const transport = new FolderTransport(dir);
    await transport.ensureMarker({ format: 1, id: "f" });
    const seen = new Set<string>();
    let done = false;
    const spy = (async () => {
      while (!done) for (const name of await readdir(changes)) seen.add(name);
    })();
    for (let seq = 1; seq <= 200; seq++) {
      await transport.publish(`alice-${String(seq).padStart(12, "0")}.ndjson`, new Uint8Array(4096));
    }
    done = true;
    await spy;
    for (const name of seen) {
      expect(name).toMatch(/^(?:alice-\d{12}\.ndjson|\.alice-\d{12}\.[0-9a-f]{16}\.tmp)$/);
    }
  });

  it("refuses a non-positive read timeout", () => {
    expect(() => new FolderTransport(dir, { readTimeoutMs: 0 })).toThrow(/readTimeoutMs/);
  });

  it("times out a read that takes too long", async () => {
    await mkdir(changes);
    await writeFile(path.join(changes, "alice-000000000001.ndjson"), new Uint8Array(64 * 1024 * 1024));
    const transport = new FolderTransport(dir, { readTimeoutMs: 1 });
    await expect(transport.read("alice-000000000001.ndjson")).rejects.toThrow(/took longer than 1 ms/);
  });

  // chokidar would otherwise hold one inotify watch per file: ENOSPC with many files on older kernels.
  it.runIf(process.platform === "linux")(
    "watches the directory with one handle, however many files",
    async () => {
      await mkdir(changes);
      for (let i = 1; i <= 100; i++) {
        await writeFile(path.join(changes, `bob-${String(i).padStart(12, "0")}.ndjson`), "x");
      }
      const before = inotifyWatches();
      let changed = 0;
      unsubscribes.push(
        await new FolderTransport(dir).watch({ onChange: () => changed++, onError: () => undefined }),
      );
      expect(inotifyWatches() - before).toBe(1);
      await writeFile(path.join(changes, "bob-000000000101.ndjson"), "y");
      await eventually(() => changed > 0);
    },
  );
});
