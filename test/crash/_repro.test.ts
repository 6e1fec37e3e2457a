import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { it, expect } from "vitest";
import { MEDIA_CONFIG } from "../../src/config/media-preset.js";
import { SyncManager } from "../../src/sync/sync-manager.js";
import { createMediaDb, MediaApp } from "../helpers/media-app.js";

for (const [a, b] of [["python", "python"], ["python", "Python"]] as const)
it(`collision ${a} ${b}`, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "sfs-r-"));
  const folder = path.join(dir, "shared"); mkdirSync(folder);
  const mk = async (id: string) => {
    const p = path.join(dir, `${id}.db`); const db = createMediaDb(p);
    const sync = await SyncManager.init({ database: p, folder, clientId: id, config: MEDIA_CONFIG });
    return { db, app: new MediaApp(db, id), sync };
  };
  const x = await mk("alice"), y = await mk("carol");
  x.app.createKeyword("k-a", a);
  y.app.createKeyword("k-c", b);
  await x.sync.synchronize();
  await y.sync.synchronize();
  await x.sync.synchronize();
  expect(1).toBe(1);
});
