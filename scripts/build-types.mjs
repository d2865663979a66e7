// Builds the type declarations of the package's two entries, dist/index.d.ts ("funit-webgpu", the
// platform-neutral core) and dist/node.d.ts ("funit-webgpu/node"), after scripts/build.mjs has built
// their JavaScript. tsc emits one .d.ts per source file into dist/.types/ (tsconfig.types.json);
// rollup-plugin-dts then bundles each entry into one file, so the package ships no internal module
// paths (extensionless relative imports would not resolve under node16) and no declarations of
// .wgsl imports. dist/node.d.ts imports the core's types from ./index.js instead of copying them, so
// a Funit from either entry is the same type. The core's declarations name WebGPU's types
// (GPUDevice, GPUTexture, …): a reference to @webgpu/types, a dependency, brings them to consumers.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { rollup } from "rollup";
import { dts } from "rollup-plugin-dts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const emitted = join(root, "dist/.types");

rmSync(emitted, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.types.json"],
  {
    cwd: root,
    stdio: "inherit",
  },
);

// A .wgsl import is a build-time module (scripts/wgsl-loader.mjs) typed by src/wgsl.d.ts; public
// types reach it through `keyof typeof KERNELS`, so every .wgsl import resolves to one declaration
// file with the same shape, which the bundle inlines (the package ships no .wgsl modules).
const wgslModule = join(emitted, "wgsl-module.d.ts");
writeFileSync(
  wgslModule,
  'import type { ReflectedKernel } from "./runtime/reflect";\n' +
    "declare const source: string;\nexport default source;\n" +
    "export declare const reflection: ReflectedKernel;\n",
);
const bundle = await rollup({
  input: { index: join(emitted, "index.d.ts"), node: join(emitted, "node/index.d.ts") },
  plugins: [
    { name: "wgsl-types", resolveId: (id) => (id.endsWith(".wgsl") ? wgslModule : null) },
    dts(),
  ],
});
const { output } = await bundle.write({
  dir: join(root, "dist"),
  format: "es",
  entryFileNames: "[name].d.ts",
  chunkFileNames: "[name]-[hash].d.ts",
});
await bundle.close();
rmSync(emitted, { recursive: true, force: true });

const reference = '/// <reference types="@webgpu/types" />\n';
for (const chunk of output) {
  const file = join(root, "dist", chunk.fileName);
  const text = readFileSync(file, "utf8");
  if (!text.startsWith(reference)) writeFileSync(file, reference + text);
}
console.log(`build-types: ${output.map((c) => `dist/${c.fileName}`).join(", ")}`);
