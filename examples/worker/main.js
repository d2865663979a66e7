// The Worker example page: starts worker.js as a module Worker, has it load the shipped model,
// decodes glyph cells from the shipped atlases on the main thread (createImageBitmap and a canvas),
// sends them to the worker and draws the translated glyphs it sends back. The style is the last five
// cells of the held-out Bandal atlas (never seen in training); the content is the first two
// syllables of the source atlas (가, 각). `window.funitWorker` resolves to the run (inputs, class
// code, outputs) for the browser test (test/browser-worker.test.ts).
const ROOT = new URL("../../", import.meta.url);
const CELL = 64;
const status = document.getElementById("status");
const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });

/** Sends one message to the worker and resolves to its reply (a reply with `error` rejects). */
function ask(message) {
  return new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => (data.error ? reject(new Error(data.error)) : resolve(data));
    worker.onerror = (e) => reject(new Error(e.message));
    worker.postMessage(message);
  });
}

/** Cells `indices` (reading order) of an atlas of 64×64 cells, `perRow` a row, as RGBA images. */
async function cells(path, perRow, indices) {
  const response = await fetch(new URL(path, ROOT));
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  const bitmap = await createImageBitmap(await response.blob(), {
    colorSpaceConversion: "none",
    premultiplyAlpha: "none",
  });
  const ctx = new OffscreenCanvas(CELL, CELL).getContext("2d", { willReadFrequently: true });
  return indices.map((i) => {
    const [x, y] = [(i % perRow) * CELL, Math.floor(i / perRow) * CELL];
    ctx.clearRect(0, 0, CELL, CELL);
    ctx.drawImage(bitmap, x, y, CELL, CELL, 0, 0, CELL, CELL);
    return { width: CELL, height: CELL, data: ctx.getImageData(0, 0, CELL, CELL).data };
  });
}

function draw(images) {
  const canvas = document.getElementById("output");
  canvas.width = images.length * CELL;
  canvas.height = CELL;
  const ctx = canvas.getContext("2d");
  images.forEach((image, n) =>
    ctx.putImageData(new ImageData(new Uint8ClampedArray(image.data), CELL, CELL), n * CELL, 0),
  );
}

const plain = (image) => ({
  width: image.width,
  height: image.height,
  data: Array.from(image.data),
});

window.funitWorker = (async () => {
  try {
    status.textContent = "Loading the model in the worker…";
    await ask({ weights: new URL("weights/hangul64-f16.safetensors", ROOT).href });
    const contents = await cells("assets/glyphs/source-NotoSansCJKkr-Regular-2350.png", 50, [0, 1]);
    const references = await cells(
      "assets/glyphs/unseen-Bandal-600.png",
      25,
      [595, 596, 597, 598, 599],
    );
    status.textContent = "Translating in the worker…";
    const { code, outputs } = await ask({ contents, references });
    draw(outputs);
    status.textContent = `Translated ${outputs.length} glyphs in the worker.`;
    return {
      ok: true,
      contents: contents.map(plain),
      references: references.map(plain),
      code: Array.from(code),
      outputs: outputs.map(plain),
    };
  } catch (e) {
    status.textContent = `Failed: ${e.message}`;
    return { ok: false, message: String(e) };
  }
})();
