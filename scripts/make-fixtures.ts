// Writes the bad-input corpus to fixtures/ (run: npx tsx scripts/make-fixtures.ts). Deterministic: the same
// bytes every run. The cases and their expected outcomes are in test/faults/corpus-cases.ts and junk-cases.ts.
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { fixtureFiles } from "../test/faults/corpus-cases.js";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures");

// Generated trees are rebuilt from scratch, so a case that was removed leaves no file behind.
await rm(path.join(root, "bad"), { recursive: true, force: true });
await rm(path.join(root, "good"), { recursive: true, force: true });
const files = fixtureFiles();
for (const [relative, bytes] of files) {
  const target = path.join(root, relative);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, bytes);
}
console.log(`wrote ${files.size} files under ${root}`);
