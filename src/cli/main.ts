#!/usr/bin/env node
// The folder-sync command line: turns argv into library calls and results into text and exit codes. One module
// per command; this one only dispatches, prints help, and maps errors to `folder-sync: <message>` and an exit code.
import { didYouMean, parseFlags, UsageError } from "./args.js";
import { type Command, commandHelp, EXIT, exitCodeFor, printError, toolHelp } from "./command.js";
import { conflictsCommand } from "./conflicts.js";
import { demoCommand } from "./demo.js";
import { doctorCommand } from "./doctor.js";
import { initCommand } from "./init.js";
import { statusCommand } from "./status.js";
import { syncCommand } from "./sync.js";
import { watchCommand } from "./watch.js";

const COMMANDS: readonly Command[] = [
  initCommand,
  syncCommand,
  watchCommand,
  statusCommand,
  doctorCommand,
  conflictsCommand,
  demoCommand,
];

function find(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (command) return command;
  const guess = didYouMean(
    name,
    COMMANDS.map((c) => c.name),
  );
  throw new UsageError(`unknown command ${JSON.stringify(name)}${guess ? ` (did you mean ${guess}?)` : ""}.`);
}

async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (
    first === undefined ||
    first === "--help" ||
    first === "-h" ||
    (first === "help" && rest.length === 0)
  ) {
    // Without a command it is a usage error: the help goes to stderr, so scripts see nothing on stdout.
    (first === undefined ? process.stderr : process.stdout).write(toolHelp(COMMANDS));
    return first === undefined ? EXIT.usage : EXIT.ok;
  }
  if (first === "--version" || first === "-v") {
    const { createRequire } = await import("node:module");
    const pkg = createRequire(import.meta.url)("../../package.json") as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return EXIT.ok;
  }
  if (first === "help") {
    process.stdout.write(commandHelp(find(rest[0]!)));
    return EXIT.ok;
  }
  if (first.startsWith("-"))
    throw new UsageError(`a command comes first, e.g. \`folder-sync sync ${first}\`.`);
  const command = find(first);
  const values = parseFlags(command.name, command.flags, rest);
  if (values.help === true) {
    process.stdout.write(commandHelp(command));
    return EXIT.ok;
  }
  return command.run(values);
}

// A reader that goes away (`folder-sync status | head`) must not crash the command mid-pass: output is
// dropped and the command finishes (and releases its lock) as usual.
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE" && error.code !== "ERR_STREAM_DESTROYED") throw error;
  });

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    printError(error);
    process.exitCode = exitCodeFor(error);
  },
);
