import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Builds dist/ once: the CLI tests run the built command as a user would.
    globalSetup: ["test/cli/global-setup.ts"],
    // Under CI a JSON report is written too; .ci/run reads its counts.
    reporters: process.env.CI ? ["default", ["json", { outputFile: ".tmp/vitest.json" }]] : ["default"],
  },
});
