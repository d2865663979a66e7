// Builds dist/ with esbuild: dist/cli.js, the Node CLI (ESM, npm packages left external so Dawn's
// native module loads from node_modules), and dist/index.js, the platform-neutral library bundle
// that browsers, Node and Deno import (it must not need any Node built-in: esbuild's neutral platform
// fails the build if it does, which is the check we want). WGSL shaders are inlined
// as text in both. src/index.ts is skipped with a note while it does not exist yet.
import { build } from "esbuild";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const common = { bundle: true, format: "esm", sourcemap: true, loader: { ".wgsl": "text" }, logLevel: "warning", absWorkingDir: root };

await build({
  ...common,
  entryPoints: ["src/cli.ts"],
  outfile: "dist/cli.js",
  platform: "node",
  target: "node20",
  packages: "external",
});

await build({
  ...common,
  entryPoints: ["src/node/index.ts"],
  outfile: "dist/node.js",
  platform: "node",
  target: "node20",
  packages: "external",
});

await build({
  ...common,
  entryPoints: ["bench/bench.ts", "bench/conv.ts"],
  outdir: "dist/bench",
  platform: "node",
  target: "node20",
  packages: "external",
});

if (existsSync(join(root, "src/index.ts"))) {
  await build({
    ...common,
    entryPoints: ["src/index.ts"],
    outfile: "dist/index.js",
    platform: "neutral",
    target: "es2022",
    mainFields: ["module", "main"],
  });
} else {
  console.log("build: src/index.ts does not exist yet; skipping dist/index.js");
}
