// How a `.wgsl` import becomes a JS module, for esbuild (scripts/build.mjs) and vitest
// (vitest.config.ts) alike: the source text as the default export, and `reflection`, its bindings,
// params layout and overrides from src/runtime/reflect.ts (wgsl_reflect), computed here at build
// time so the bundles carry JSON instead of the WGSL parser. A kernel that does not reflect
// (a binding outside group 0, a non-scalar params field, …) fails the build with its message.
import { readFileSync } from "node:fs";
import { basename } from "node:path";

/** The module text for one WGSL file; `reflectKernel` is src/runtime/reflect.ts's. */
export function wgslModule(file, reflectKernel) {
  const source = readFileSync(file, "utf8");
  const reflection = reflectKernel(basename(file, ".wgsl"), source);
  return `export default ${JSON.stringify(source)};\nexport const reflection = ${JSON.stringify(reflection)};\n`;
}

/** An esbuild plugin that loads `.wgsl` files with wgslModule. */
export function wgslPlugin(reflectKernel) {
  return {
    name: "wgsl",
    setup(b) {
      b.onLoad({ filter: /\.wgsl$/ }, (args) => ({
        contents: wgslModule(args.path, reflectKernel),
        loader: "js",
      }));
    },
  };
}
