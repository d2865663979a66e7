// The game example's frame loop, without the page around it: text sprites whose glyphs come from
// translation jobs (Funit.createJob) recorded a few dispatches per frame, before the frame's render
// pass, in the frame's own encoder and submit. Each syllable is one layer of a glyph atlas (an
// rgba8unorm array texture); the layer starts as the source font's glyph and is overwritten by its
// job's last dispatch, so the styled glyph appears in the frame that finishes the job. One job is
// in flight at a time and gets `dispatchesPerFrame` dispatches a frame: the budget knob (see the
// README's "Games and real-time use" for GPU times per slice). Plain WebGPU and the library; the
// page (main.js) and the browser test both drive `frame()`.
import { createGlyphRenderer } from "../texture/draw.js";

/**
 * `contents`: the source glyphs (64×64 RGBA images), one sprite each; `style`: a class code.
 * Returns { atlas, frame(target), done, frames }: `frame(target)` records and submits one frame
 * drawn onto `target` (a texture with RENDER_ATTACHMENT usage) and resolves once any job it
 * finished has its result in.
 */
export async function createGame(device, funit, contents, style, options = {}) {
  const dispatchesPerFrame = options.dispatchesPerFrame ?? 4;
  const { width, height } = contents[0];
  const atlas = device.createTexture({
    label: "game:glyph-atlas",
    format: "rgba8unorm",
    size: [width, height, contents.length],
    usage:
      GPUTextureUsage.STORAGE_BINDING |
      GPUTextureUsage.TEXTURE_BINDING |
      GPUTextureUsage.COPY_DST |
      GPUTextureUsage.COPY_SRC,
  });
  contents.forEach((image, layer) =>
    device.queue.writeTexture(
      { texture: atlas, origin: [0, 0, layer] },
      image.data,
      { bytesPerRow: width * 4, rowsPerImage: height },
      [width, height, 1],
    ),
  );
  const renderer = await createGlyphRenderer(device, options.format ?? "rgba8unorm");
  // Every job is made now (inputs checked and copied); each starts when the one before it ends.
  const jobs = contents.map((image, layer) =>
    funit.createJob([image], style, { texture: atlas, layer }),
  );
  const game = {
    atlas,
    frames: 0,
    done: false,
    async frame(target) {
      const job = jobs[0];
      const encoder = device.createCommandEncoder({ label: `game:frame ${game.frames}` });
      // the jobs' slice first: the render pass below samples what it wrote, in the same submit
      const finished = job ? job.encode(encoder, { maxDispatches: dispatchesPerFrame }) : false;
      renderer.draw(encoder, atlas, target, options.draw);
      device.queue.submit([encoder.finish()]);
      game.frames++;
      if (finished) {
        jobs.shift();
        await job.result(); // after the submit: the job's plan goes back to the engine
        game.done = jobs.length === 0;
      }
    },
  };
  return game;
}
