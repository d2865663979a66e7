// The texture example page: loads the shipped Hangul model and the glyph atlases over http,
// encodes a held-out font's style from 5 reference glyphs (a class code: 64 numbers a game would
// store), translates 6 source-font syllables into an array texture (Funit.translateToTexture, one
// layer per syllable) and draws its layers as quads in a render pass (draw.js). Picking another
// font re-translates into the same texture and draws it in one command encoder and one submit
// (Funit.encodeTranslationToTexture). `window.textureExample` exposes the engine and inputs so the
// browser test can compare the canvas with translate().
import { Funit, requestFunitDevice } from "../../dist/index.js";
import { createGlyphRenderer } from "./draw.js";

const ROOT = new URL("../../", import.meta.url);
const CELL = 64;
const TEXT = "퓨샷폰트생성";
/** Among the last 100 syllables of each held-out atlas, which were never used in training. */
const REFERENCES = "쿤쿳퀄퀴큄";
const FONTS = [
  "NanumBrush",
  "Bandal",
  "NanumBarunpenR",
  "NanumPen",
  "NanumSquareRoundB",
  "NotoSerifCJK-SemiBold",
  "UnShinmun",
  "hline",
];
/** How the layers are drawn: 2 canvas pixels per glyph pixel, dark blue ink on warm paper. */
const DRAW = { scale: 2, ink: [0.08, 0.12, 0.35], paper: [1, 0.97, 0.9] };

const status = document.getElementById("status");
const fontSelect = document.getElementById("font");
const canvas = document.getElementById("canvas");

async function fetchOk(path) {
  const response = await fetch(new URL(path, ROOT));
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response;
}

/** An atlas of 64×64 cells: `glyph(ch)` cuts a syllable's cell out as an RGBA image. */
async function loadAtlas(imagePath, charsPath, perRow) {
  const chars = [...(await (await fetchOk(charsPath)).text())].filter((ch) => !/\s/u.test(ch));
  const bitmap = await createImageBitmap(await (await fetchOk(imagePath)).blob(), {
    colorSpaceConversion: "none",
    premultiplyAlpha: "none",
  });
  const ctx = new OffscreenCanvas(CELL, CELL).getContext("2d", { willReadFrequently: true });
  return {
    glyph(ch) {
      const i = chars.indexOf(ch);
      if (i < 0) throw new Error(`${imagePath} has no glyph for '${ch}'`);
      ctx.fillStyle = "#fff"; // transparency goes onto white, as the engine's other inputs do
      ctx.fillRect(0, 0, CELL, CELL);
      ctx.drawImage(
        bitmap,
        (i % perRow) * CELL,
        Math.floor(i / perRow) * CELL,
        CELL,
        CELL,
        0,
        0,
        CELL,
        CELL,
      );
      return { width: CELL, height: CELL, data: ctx.getImageData(0, 0, CELL, CELL).data };
    },
  };
}

async function main() {
  const device = await requestFunitDevice(navigator.gpu);
  const weights = new Uint8Array(
    await (await fetchOk("weights/hangul64-f16.safetensors")).arrayBuffer(),
  );
  const funit = await Funit.create(device, weights, { label: "texture-example" });
  const source = await loadAtlas(
    "assets/glyphs/source-NotoSansCJKkr-Regular-2350.png",
    "assets/glyphs/ks-x-1001.txt",
    50,
  );
  const contents = [...TEXT].map((ch) => source.glyph(ch));

  const format = navigator.gpu.getPreferredCanvasFormat();
  const context = canvas.getContext("webgpu");
  context.configure({ device, format, alphaMode: "opaque" });
  const renderer = await createGlyphRenderer(device, format);

  /** The class code of a held-out font: the mean over its 5 reference glyphs. */
  const styleOf = async (font) => {
    const atlas = await loadAtlas(
      `assets/glyphs/unseen-${font}-600.png`,
      "assets/glyphs/chars-600.txt",
      25,
    );
    return funit.encodeClass([...REFERENCES].map((ch) => atlas.glyph(ch)));
  };

  // First font: translateToTexture creates the texture (6 layers, 64×64, rgba8unorm) and submits.
  let style = await styleOf(FONTS[0]);
  const glyphs = await funit.translateToTexture(contents, style);
  const drawFrame = (encoder) => renderer.draw(encoder, glyphs, context.getCurrentTexture(), DRAW);
  let encoder = device.createCommandEncoder({ label: "texture-example:frame" });
  drawFrame(encoder);
  device.queue.submit([encoder.finish()]);
  window.textureExample = { device, funit, contents, style, glyphs, draw: DRAW };

  await device.queue.onSubmittedWorkDone();
  status.textContent = `${FONTS[0]}: ${contents.length} glyphs translated into a ${glyphs.width}×${glyphs.height}×${glyphs.depthOrArrayLayers} texture and drawn; nothing was read back.`;
  document.body.dataset.state = "drawn";

  for (const font of FONTS) fontSelect.add(new Option(font, font));
  fontSelect.disabled = false;
  fontSelect.addEventListener("change", async () => {
    const font = fontSelect.value;
    fontSelect.disabled = true;
    document.body.dataset.state = "busy";
    try {
      style = await styleOf(font);
      // Another font: the translation and the draw share one encoder and one submit, and the
      // translation rewrites the same texture in place.
      encoder = device.createCommandEncoder({ label: "texture-example:frame" });
      await funit.encodeTranslationToTexture(encoder, contents, style, { texture: glyphs });
      drawFrame(encoder); // getCurrentTexture after the await: the canvas texture of this task
      device.queue.submit([encoder.finish()]);
      Object.assign(window.textureExample, { style });
      await device.queue.onSubmittedWorkDone();
      status.textContent = `${font}: translated into the same texture and drawn in one submit.`;
      document.body.dataset.state = "drawn";
    } catch (e) {
      fail(e);
    } finally {
      fontSelect.disabled = false;
    }
  });
}

function fail(e) {
  status.textContent = `Error: ${e instanceof Error ? e.message : String(e)}`;
  document.body.dataset.state = "error";
  console.error(e);
}

main().catch(fail);
