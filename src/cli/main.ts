#!/usr/bin/env node
// The folder-sync command line: turns argv into library calls and results into text and exit codes.
import { runDemo } from "./demo.js";

const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "demo": {
      const i = rest.indexOf("--dir");
      const dir = i >= 0 ? rest[i + 1] : undefined;
      return (await runDemo(dir ? { dir } : {})) ? EXIT.ok : EXIT.failure;
    }
    default:
      process.stderr.write("usage: folder-sync demo [--dir DIR]\n");
      return EXIT.usage;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`folder-sync: ${(error as Error).message}\n`);
    process.exitCode = EXIT.failure;
  },
);
