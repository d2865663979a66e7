// Builds the type declarations of the package's three entries, dist/index.d.ts ("funit-webgpu", the
// platform-neutral core), dist/node.d.ts ("funit-webgpu/node") and dist/font.d.ts
// ("funit-webgpu/font"), after scripts/build.mjs has
// built their JavaScript. tsc emits one .d.ts per source file into a temporary folder
// (tsconfig.types.json); rollup-plugin-dts then bundles each entry into one file, so the package
// ships no internal module paths (extensionless relative imports would not resolve under node16)
// and no .wgsl imports. dist/node.d.ts imports the core's types from ./index.js instead of copying
// them, so a Funit from either entry is the same type (dist/font.d.ts likewise for ImageRGBA and
// the errors). The core's declarations name WebGPU's types
// (GPUDevice, GPUTexture, …): a reference to @webgpu/types, a dependency, brings them to consumers.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { rollup } from "rollup";
import { dts } from "rollup-plugin-dts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = join(root, "node_modules/typescript/bin/tsc");

/** Bundles the declarations tsc emitted into `emitted`; returns the files written to dist/. */
async function bundleDeclarations(emitted) {
  // A .wgsl import is a build-time module (scripts/wgsl-loader.mjs) typed by src/wgsl.d.ts; public
  // types reach it through `keyof typeof KERNELS`, so every .wgsl import resolves to one
  // declaration file of that shape, which the bundle inlines.
  const wgslModule = join(emitted, "wgsl-module.d.ts");
  writeFileSync(
    wgslModule,
    'import type { ReflectedKernel } from "./runtime/reflect";\n' +
      "declare const source: string;\nexport default source;\n" +
      "export declare const reflection: ReflectedKernel;\n",
  );
  const core = await writeBundle(
    { index: join(emitted, "index.d.ts"), node: join(emitted, "node/index.d.ts") },
    [{ name: "wgsl-types", resolveId: (id) => (id.endsWith(".wgsl") ? wgslModule : null) }],
  );
  // The font entry is bundled on its own, its imports of core modules (../tensor, ../glyphs,
  // ../errors) taken from ./index.js, so the core entries share no hashed chunk with it and an
  // ImageRGBA or InputError from either entry is one type.
  const fontDir = join(emitted, "font");
  const font = await writeBundle({ font: join(fontDir, "index.d.ts") }, [
    {
      name: "core-from-index",
      resolveId: (id, importer) =>
        importer?.startsWith(fontDir) && id.startsWith("../")
          ? { id: "./index.js", external: true }
          : null,
    },
  ]);
  return [...core, ...font];
}

/** Bundles the declaration entries `input` into dist/; returns the files written. */
async function writeBundle(input, plugins) {
  const bundle = await rollup({ input, plugins: [...plugins, dts()] });
  const { output } = await bundle.write({
    dir: join(root, "dist"),
    format: "es",
    entryFileNames: "[name].d.ts",
    chunkFileNames: "[name]-[hash].d.ts",
  });
  await bundle.close();
  return output.map((chunk) => join(root, "dist", chunk.fileName));
}

// A folder per run, so two builds at once (a test rebuilding while another runs) cannot mix files.
const emitted = mkdtempSync(join(tmpdir(), "funit-types-"));
let files;
try {
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.types.json", "--outDir", emitted], {
    cwd: root,
    stdio: "inherit",
  });
  files = await bundleDeclarations(emitted);
} finally {
  rmSync(emitted, { recursive: true, force: true });
}

const reference = '/// <reference types="@webgpu/types" />\n';
for (const file of files) {
  const text = readFileSync(file, "utf8");
  if (!text.startsWith(reference)) writeFileSync(file, reference + text);
}
console.log(`build-types: ${files.map((f) => f.slice(root.length + 1)).join(", ")}`);
