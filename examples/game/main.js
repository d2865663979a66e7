// The game example page: loads the shipped Hangul model, cuts "퓨샷폰트생성" out of the source-font
// atlas and encodes a held-out font's style from 5 of its glyphs, then runs the frame loop of
// game.js on requestAnimationFrame, drawing into the canvas: the sprites turn from the source font
// into the held-out font one by one while frames keep coming. With `?manual` it draws into an
// offscreen texture instead and runs no loop: `window.gameExample.step()` runs one frame (the
// browser test drives frames itself; headless Chromium cannot present a WebGPU canvas).
import { Funit, requestFunitDevice } from "../../dist/index.js";
import { createGame } from "./game.js";

const ROOT = new URL("../../", import.meta.url);
const CELL = 64;
const TEXT = "퓨샷폰트생성";
const REFERENCES = "쿤쿳퀄퀴큄"; // never used in training
const DRAW = { scale: 2, ink: [0.08, 0.12, 0.35], paper: [1, 0.97, 0.9] };
const manual = new URLSearchParams(location.search).has("manual");
const status = document.getElementById("status");

async function fetchOk(path) {
  const response = await fetch(new URL(path, ROOT));
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response;
}

/** The 64×64 cells of `chars` in an atlas whose characters are listed in `charsPath`. */
async function cells(imagePath, charsPath, perRow, chars) {
  const list = [...(await (await fetchOk(charsPath)).text())].filter((ch) => !/\s/u.test(ch));
  const bitmap = await createImageBitmap(await (await fetchOk(imagePath)).blob(), {
    colorSpaceConversion: "none",
    premultiplyAlpha: "none",
  });
  const ctx = new OffscreenCanvas(CELL, CELL).getContext("2d", { willReadFrequently: true });
  return [...chars].map((ch) => {
    const i = list.indexOf(ch);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, CELL, CELL);
    const [x, y] = [(i % perRow) * CELL, Math.floor(i / perRow) * CELL];
    ctx.drawImage(bitmap, x, y, CELL, CELL, 0, 0, CELL, CELL);
    return { width: CELL, height: CELL, data: ctx.getImageData(0, 0, CELL, CELL).data };
  });
}

async function main() {
  const device = await requestFunitDevice(navigator.gpu);
  const weights = await (await fetchOk("weights/hangul64-f16.safetensors")).arrayBuffer();
  // prepare: the jobs' shape (one 64×64 glyph from a code) compiles nothing mid-game
  const funit = await Funit.create(device, new Uint8Array(weights), {
    label: "game-example",
    prepare: [{ contents: { n: 1, height: CELL, width: CELL } }],
  });
  const contents = await cells(
    "assets/glyphs/source-NotoSansCJKkr-Regular-2350.png",
    "assets/glyphs/ks-x-1001.txt",
    50,
    TEXT,
  );
  const references = await cells(
    "assets/glyphs/unseen-Bandal-600.png",
    "assets/glyphs/chars-600.txt",
    25,
    REFERENCES,
  );
  const style = await funit.encodeClass(references);
  const canvas = document.getElementById("canvas");
  const format = manual ? "rgba8unorm" : navigator.gpu.getPreferredCanvasFormat();
  const game = await createGame(device, funit, contents, style, { format, draw: DRAW });
  const say = () =>
    (status.textContent = game.done
      ? `All ${contents.length} glyphs styled in ${game.frames} frames.`
      : `Frame ${game.frames}: styling glyphs a few dispatches per frame…`);

  if (manual) {
    const target = device.createTexture({
      label: "game:offscreen",
      format,
      size: [canvas.width, canvas.height],
      usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
    });
    window.gameExample = {
      device,
      funit,
      contents,
      style,
      game,
      target,
      step: async () => (await game.frame(target), say(), game.done),
    };
    return;
  }
  const context = canvas.getContext("webgpu");
  context.configure({ device, format, alphaMode: "opaque" });
  const loop = () =>
    game.frame(context.getCurrentTexture()).then(() => {
      say();
      requestAnimationFrame(loop);
    }, fail);
  requestAnimationFrame(loop);
}

function fail(e) {
  status.textContent = `Error: ${e instanceof Error ? e.message : String(e)}`;
  console.error(e);
}

window.gameReady = main().catch(fail);
