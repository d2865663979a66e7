/**
 * Vitest setup: .wgsl files import as their expanded source text and reflection
 * (scripts/wgsl-loader.mjs, as in the esbuild bundles; their includes are watched), and GPU
 * tests run one file at a time since lavapipe already uses every core. dist/ is built once per run
 * before the test files (test/global-setup.ts).
 */
import { defineConfig } from "vitest/config";
import { reflectKernel } from "./src/runtime/reflect";
import { expandWgsl, wgslModule } from "./scripts/wgsl-loader.mjs";

export default defineConfig({
  plugins: [
    {
      name: "wgsl-text",
      load(id: string) {
        if (!id.endsWith(".wgsl")) return null;
        for (const file of expandWgsl(id).files) this.addWatchFile(file);
        return wgslModule(id, reflectKernel);
      },
    },
  ],
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
