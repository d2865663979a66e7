/**
 * Vitest setup: .wgsl files import as their source text and reflection (scripts/wgsl-loader.mjs,
 * as in the esbuild bundles), and GPU tests run one file at a time since lavapipe already uses every core.
 */
import { defineConfig } from "vitest/config";
import { reflectKernel } from "./src/runtime/reflect";
import { wgslModule } from "./scripts/wgsl-loader.mjs";

export default defineConfig({
  plugins: [
    {
      name: "wgsl-text",
      load(id: string) {
        return id.endsWith(".wgsl") ? wgslModule(id, reflectKernel) : null;
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
