/** The README's API example runs as documented and writes what the engine computes. */
import { expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { Funit } from "../src/engine";
import { readImageFile } from "../src/node/images";
import { withDevice } from "./helpers/gpu";

it("examples/translate.mjs writes the two translated glyphs side by side", async () => {
  execFileSync("node", ["scripts/build.mjs"]);
  const dir = mkdtempSync(join(tmpdir(), "funit-example-"));
  try {
    const out = join(dir, "example.png");
    const stdout = execFileSync("node", ["examples/translate.mjs", out], { encoding: "utf8" });
    expect(stdout).toMatch(/style: 64 numbers/);
    const png = PNG.sync.read(readFileSync(out));
    expect([png.width, png.height]).toEqual([128, 64]);
    const want = await withDevice(async (device) => {
      const funit = await Funit.create(
        device,
        new Uint8Array(readFileSync("weights/hangul64-f16.safetensors")),
      );
      const refs = await Promise.all(
        [0, 1, 2, 3, 4].map((i) => readImageFile(`examples/glyphs/ref-${i}.png`)),
      );
      const contents = await Promise.all(
        [0, 1].map((i) => readImageFile(`examples/glyphs/content-${i}.png`)),
      );
      try {
        return await funit.translate(contents, await funit.encodeClass(refs));
      } finally {
        funit.destroy();
      }
    });
    for (let y = 0; y < 64; y++)
      for (let x = 0; x < 128; x++) {
        const src = want[x < 64 ? 0 : 1]!.data,
          i = (y * 64 + (x % 64)) * 4;
        expect(png.data[(y * 128 + x) * 4]).toBe(src[i]);
      }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
