import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Integration tests bind real sockets and spawn processes: keep files apart, two at a time (2 cores).
    pool: "forks",
    maxWorkers: 2,
  },
});
