/**
 * The game example (examples/game/) in headless Chromium (SwiftShader): the page runs with
 * `?manual`, drawing into an offscreen texture (this Chromium loses the device when it presents a
 * WebGPU canvas), and the test drives its frames one by one. Every frame records 4 dispatches of
 * the current glyph job before the render pass, in the frame's encoder; once every job is done, the
 * glyph atlas must hold exactly translate()'s bytes for the same glyphs and style on the same
 * device (tolerance 0: same plan math), the number of frames must be the jobs' slices (ceil of
 * dispatches / 4 per glyph, plus the frames a job waits for its plan), and no WebGPU error may
 * have been raised.
 */
import { expect, it } from "vitest";
import { withServedPage } from "./helpers/served-page";

it("the game example's frames style every glyph sprite; the atlas equals translate()", async () => {
  await withServedPage("examples/game/?manual", async (page, errors) => {
    // A string, so that vitest leaves the page's code alone.
    const result = (await page.evaluate(`(async () => {
      await window.gameReady;
      const { device, funit, contents, style, game, target } = window.gameExample;
      device.pushErrorScope("validation");
      let frames = 0;
      while (!(await window.gameExample.step())) {
        if (++frames > 5000) throw new Error("the jobs did not finish");
        await new Promise((r) => setTimeout(r, 0));
      }
      const want = await funit.translate(contents, style);
      const { width, height, depthOrArrayLayers: layers } = game.atlas;
      const bytesPerRow = Math.ceil((width * 4) / 256) * 256;
      const buffer = device.createBuffer({ size: bytesPerRow * height * layers, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const encoder = device.createCommandEncoder();
      encoder.copyTextureToBuffer({ texture: game.atlas }, { buffer, bytesPerRow, rowsPerImage: height }, [width, height, layers]);
      device.queue.submit([encoder.finish()]);
      await buffer.mapAsync(GPUMapMode.READ);
      const bytes = new Uint8Array(buffer.getMappedRange().slice(0));
      let maxDiff = 0, ink = 0, changed = 0;
      for (let l = 0; l < layers; l++)
        for (let y = 0; y < height; y++)
          for (let x = 0; x < width * 4; x++) {
            const got = bytes[(l * height + y) * bytesPerRow + x], w = want[l].data[y * width * 4 + x];
            maxDiff = Math.max(maxDiff, Math.abs(got - w));
            if (x % 4 === 0 && w < 128) ink++;
            if (got !== contents[l].data[y * width * 4 + x]) changed++;
          }
      const profile = funit.createJob(contents.slice(0, 1), style);
      await profile.ready;
      let dispatches = 0;
      const counter = device.createCommandEncoder();
      while (!profile.encode(counter, { maxDispatches: 1 })) dispatches++;
      profile.cancel();
      const error = await device.popErrorScope();
      return { layers, maxDiff, ink, changed, frames: game.frames, dispatches: dispatches + 1, error: error ? error.message : null };
    })()`)) as {
      layers: number;
      maxDiff: number;
      ink: number;
      changed: number;
      frames: number;
      dispatches: number;
      error: string | null;
    };
    expect(result).toMatchObject({ layers: 6, maxDiff: 0, error: null });
    expect(result.ink).toBeGreaterThan(300); // real glyphs
    expect(result.changed).toBeGreaterThan(1000); // the source glyphs were overwritten
    const slices = 6 * Math.ceil(result.dispatches / 4);
    expect(result.frames).toBeGreaterThanOrEqual(slices);
    expect(result.frames).toBeLessThan(slices + 6 * 50); // a few waiting frames per job at most
    expect(errors).toEqual([]);
  });
}, 300_000);
