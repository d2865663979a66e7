// Builds dist/ with esbuild: dist/cli.js, the Node CLI (ESM, npm packages left external so Dawn's
// native module loads from node_modules), and dist/index.js, the platform-neutral library bundle
// that browsers, Node and Deno import, and dist/font.js, the font maker's entry (neither may need
// any Node built-in: esbuild's neutral platform fails the build if one does, which is the check
// we want). WGSL shaders are inlined as text with
// their reflection (scripts/wgsl-loader.mjs). Also the browser bundle, the demo page's, the numeric
// test bundles for Chromium and Deno, the benches, and dist/gpu/bench.mjs for a GPU machine.
// Every kernel's expanded WGSL (its includes in place) is written to dist/shaders/<kernel>.wgsl,
// the exact text the GPU compiles, for reading and for shader tools; a WGSL error fails the build
// naming the source file and line.
//
// Several builds may run at once (test files, or people sharing a checkout, each run one), so
// every output is written to a temp file beside it and renamed into place: a reader sees the old
// file or the new one, never half of one, and no folder is ever removed (only stale kernels in
// dist/shaders/ are). Under vitest the build runs once per test run (test/global-setup.ts), which
// sets FUNIT_DIST_BUILT=1 so that the builds test files start for themselves are no-ops;
// `npm test` builds first and sets it too.
import { build as esbuild } from "esbuild";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { loadWgsl, wgslPlugin } from "./wgsl-loader.mjs";
import { wawoff2BrowserPlugin } from "./wawoff2-browser.mjs";

if (process.env.FUNIT_DIST_BUILT === "1") process.exit(0); // built once for this test run

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Writes a file whole or not at all: a temp file in the same folder, renamed over the path. */
function writeFileAtomic(path, contents) {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    writeFileSync(temp, contents);
    renameSync(temp, path);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}

/** esbuild's build, its output files written atomically (writeFileAtomic) instead of in place. */
async function build(options) {
  const result = await esbuild({ ...options, write: false });
  for (const file of result.outputFiles) writeFileAtomic(file.path, file.contents);
  return result;
}
// WGSL files are reflected as they are bundled (scripts/wgsl-loader.mjs); the reflection code
// itself is TypeScript, so it is bundled first and imported from dist/tools/.
await build({
  entryPoints: ["src/runtime/reflect.ts"],
  outfile: "dist/tools/reflect.mjs",
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  logLevel: "warning",
  absWorkingDir: root,
});
const { reflectKernel } = await import(pathToFileURL(join(root, "dist/tools/reflect.mjs")).href);

// Each entry file in shaders/ is a kernel (shaders/include/ holds the bodies they include).
const kernels = readdirSync(join(root, "shaders")).filter((f) => f.endsWith(".wgsl"));
for (const file of kernels) {
  try {
    const { text } = loadWgsl(join(root, "shaders", file), reflectKernel);
    writeFileAtomic(join(root, "dist/shaders", file), text);
  } catch (e) {
    console.error(`build: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
}
// A kernel removed or renamed in shaders/ leaves no stale copy (another build's temp files stay).
for (const file of readdirSync(join(root, "dist/shaders")))
  if (file.endsWith(".wgsl") && !kernels.includes(file))
    rmSync(join(root, "dist/shaders", file), { force: true });
const common = {
  bundle: true,
  format: "esm",
  sourcemap: true,
  plugins: [wgslPlugin(reflectKernel)],
  logLevel: "warning",
  absWorkingDir: root,
};

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

await build({
  ...common,
  entryPoints: ["src/index.ts"],
  outfile: "dist/index.js",
  platform: "neutral",
  target: "es2022",
  mainFields: ["module", "main"],
});

// dist/font.js, the "funit-webgpu/font" entry: the font maker (src/font/index.ts), platform
// neutral like dist/index.js. Its font packages (esm-potrace-wasm, opentype.js, wawoff2) stay
// external, resolved from the user's node_modules as dependencies, so their WebAssembly glue loads
// as its authors shipped it (a bundler of the user's then applies what its target needs, as
// wawoff2BrowserPlugin does for the demo page). src/errors.ts is taken from ./index.js rather than
// copied, so an InputError from the font entry is the core's InputError (instanceof holds).
const errorsModule = join(root, "src/errors.ts");
await build({
  ...common,
  entryPoints: ["src/font/index.ts"],
  outfile: "dist/font.js",
  platform: "neutral",
  target: "es2022",
  mainFields: ["module", "main"],
  packages: "external",
  plugins: [
    ...common.plugins,
    {
      name: "core-errors-from-index",
      setup(b) {
        b.onResolve({ filter: /(^|\/)errors$/ }, (args) =>
          join(args.resolveDir, `${args.path}.ts`) === errorsModule
            ? { path: "./index.js", external: true }
            : undefined,
        );
      },
    },
  ],
});

// The browser bundles. dist/browser/funit.js is the library for pages (platform "browser": a Node
// built-in anywhere in its imports fails the build), minified, with its size printed on every
// build so the README's figure can be checked. dist/web/demo.js is the demo page's script
// (web/demo.ts with the library inside), loaded by web/index.html.
await build({
  ...common,
  entryPoints: ["src/index.ts"],
  outfile: "dist/browser/funit.js",
  platform: "browser",
  target: "es2022",
  minify: true,
});
const browserBytes = statSync(join(root, "dist/browser/funit.js")).size;
console.log(
  `build: dist/browser/funit.js ${browserBytes} bytes (${(browserBytes / 1024).toFixed(1)} KiB, minified)`,
);

await build({
  ...common,
  entryPoints: ["web/demo.ts"],
  outfile: "dist/web/demo.js",
  platform: "browser",
  target: "es2022",
  minify: true,
  // the font panel's WebAssembly glue (potrace, wawoff2) names Node modules only on Node's path
  external: ["fs", "path", "node:fs"],
  plugins: [...common.plugins, wawoff2BrowserPlugin()],
});
// The demo page's engine runs in a module worker (web/engine-worker.ts), which the page starts
// from dist/web/engine-worker.js, next to dist/web/demo.js.
await build({
  ...common,
  entryPoints: ["web/engine-worker.ts"],
  outfile: "dist/web/engine-worker.js",
  platform: "browser",
  target: "es2022",
  minify: true,
});

// The numeric test bundles (test/portable/, run by test/browser-numeric.test.ts and
// test/deno-numeric.test.ts): dist/test/browser-numeric.js for test/browser/numeric.html, and
// dist/test/deno-numeric.js for Deno (platform neutral: no Node built-in may sneak in).
await build({
  ...common,
  entryPoints: ["test/browser/numeric.ts"],
  outfile: "dist/test/browser-numeric.js",
  platform: "browser",
  target: "es2022",
});
await build({
  ...common,
  entryPoints: ["test/portable/deno-main.ts"],
  outfile: "dist/test/deno-numeric.js",
  platform: "neutral",
  target: "es2022",
  mainFields: ["module", "main"],
});

// The bench for a GPU machine (the device recipe brings only node and `webgpu` there):
// everything else, tfjs and onnxruntime-web's JS included, bundled into dist/gpu/bench.mjs. The
// banner gives the bundle a `require` for the CommonJS Node built-ins tfjs asks for. ORT's WASM
// runtime cannot be bundled; the bench takes its folder with --ort-dist, or skips that peer.
await build({
  ...common,
  entryPoints: ["bench/bench.ts"],
  outfile: "dist/gpu/bench.mjs",
  platform: "node",
  target: "node20",
  external: ["webgpu"],
  sourcemap: false,
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
});
