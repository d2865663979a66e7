// Regenerates weights/hangul64-f16.safetensors from test/fixtures/hangul64/gen.pt with the project's
// own converter (`funit convert --dtype f16`), then prints how far the f16 weights are from the f32
// ones of the training run (test/fixtures/hangul64/gen_test.safetensors). The TypeScript is bundled with esbuild into
// node_modules/.cache so that it runs without a dist/ build.
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = join(root, "node_modules/.cache/funit-convert-demo/convert.mjs");
await build({
  stdin: {
    contents: `export { runConvertCommand } from "./src/node/convert.ts"; export { parseSafetensors, tensorToFloat32 } from "./src/safetensors.ts";`,
    resolveDir: root,
    loader: "ts",
  },
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  outfile,
  logLevel: "warning",
});
const { runConvertCommand, parseSafetensors, tensorToFloat32 } = await import(
  pathToFileURL(outfile).href
);

const code = await runConvertCommand([
  "test/fixtures/hangul64/gen.pt",
  "weights/hangul64-f16.safetensors",
  "--dtype",
  "f16",
]);
if (code !== 0) process.exit(code);

const load = (path) => parseSafetensors(new Uint8Array(readFileSync(join(root, path))));
const f32 = load("test/fixtures/hangul64/gen_test.safetensors");
const f16 = load("weights/hangul64-f16.safetensors");
let maxAbs = 0,
  maxRel = 0,
  worst = "";
for (const [name, t] of f32.tensors) {
  const a = tensorToFloat32(name, t);
  const b = tensorToFloat32(name, f16.tensors.get(name));
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > maxAbs) {
      maxAbs = d;
      worst = name;
    }
    if (Math.abs(a[i]) > 6.2e-5) maxRel = Math.max(maxRel, d / Math.abs(a[i])); // normal f16 range
  }
}
console.log(
  `f16 vs f32 weights: max abs difference ${maxAbs.toExponential(3)} (in ${worst}), max relative ${maxRel.toExponential(3)} over normal-range values`,
);
