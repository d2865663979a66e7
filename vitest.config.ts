/**
 * Vitest setup: .wgsl files import as their source text (esbuild does the same with its text
 * loader), and GPU tests run one file at a time since lavapipe already uses every core.
 */
import { defineConfig } from "vitest/config";
import { readFileSync } from "node:fs";

export default defineConfig({
  plugins: [
    {
      name: "wgsl-text",
      load(id: string) {
        if (id.endsWith(".wgsl")) return `export default ${JSON.stringify(readFileSync(id, "utf8"))};`;
        return null;
      },
    },
  ],
  test: {
    include: ["test/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
