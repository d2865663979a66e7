/**
 * How Dawn's waits are polled, side by side (`npm run bench -- --case dawn-poll`): the engine
 * translates the same batch of glyphs (a held-out font's K = 5 style, encoded once) in pairs of
 * runs, one with Dawn's own polling (its event processing re-scheduled by setImmediate for the
 * whole wait) and one through the timer the Node seam installs (src/node/gpu.ts,
 * pollDawnEventsByTimer), the order alternating pair by pair. It reports the median time of each
 * and the median of the per-pair ratios, and checks that both give the same bitmaps.
 *
 *   node dist/bench/bench.js --case dawn-poll [--batch 8,32] [--repeats 7] [--json]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Funit } from "../src/engine";
import { cutCell, demoReferences } from "../src/glyphs";
import { type ImageRGBA } from "../src/tensor";
import { getNodeDevice, pollDawnEventsByTimer } from "../src/node/gpu";
import { loadSourceAtlas, loadUnseenAtlas, packageRoot } from "../src/node/assets";
import { median } from "./dispatches";
import { sizeList, wholeNumber } from "./options";

interface PollResult {
  batch: number;
  /** Medians over the repeats, in milliseconds, end to end (upload, run, readback). */
  setImmediateMs: number;
  timerMs: number;
  /** Median of the per-pair ratios setImmediate ÷ timer. */
  speedup: number;
  sameBitmaps: boolean;
}

const sameImages = (a: ImageRGBA[], b: ImageRGBA[]) =>
  a.every((img, i) => img.data.every((v, p) => v === b[i]!.data[p]));

export async function runDawnPollBench(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      batch: { type: "string", default: "8,32" },
      repeats: { type: "string", default: "7" },
      json: { type: "boolean", default: false },
    },
  });
  const batches = sizeList("batch", values.batch!, "8,32");
  const repeats = wholeNumber("repeats", values.repeats!, "of runs");
  const source = await loadSourceAtlas();
  const style = demoReferences(await loadUnseenAtlas("Bandal"), 5);
  const weights = readFileSync(join(packageRoot(), "weights/hangul64-f16.safetensors"));
  const device = await getNodeDevice();
  const funit = await Funit.create(device, new Uint8Array(weights));
  const code = await funit.encodeClass(style);
  const results: PollResult[] = [];
  try {
    for (const batch of batches) {
      const cells = Array.from({ length: batch }, (_, i) => cutCell(source, i * 11));
      const run = async (timer: boolean) => {
        pollDawnEventsByTimer(timer);
        const t = performance.now();
        const images = await funit.translate(cells, code);
        return { ms: performance.now() - t, images };
      };
      // the plan for this batch size is built before anything is timed
      const reference = (await run(true)).images;
      const times = { setImmediate: [] as number[], timer: [] as number[] };
      const ratios: number[] = [];
      let sameBitmaps = true;
      for (let r = 0; r < repeats; r++) {
        const order = r % 2 === 0 ? [false, true] : [true, false];
        const pair = { setImmediate: 0, timer: 0 };
        for (const timer of order) {
          const { ms, images } = await run(timer);
          const polling = timer ? "timer" : "setImmediate";
          pair[polling] = ms;
          times[polling].push(ms);
          sameBitmaps &&= sameImages(images, reference);
        }
        ratios.push(pair.setImmediate / pair.timer);
      }
      results.push({
        batch,
        setImmediateMs: median(times.setImmediate),
        timerMs: median(times.timer),
        speedup: median(ratios),
        sameBitmaps,
      });
    }
  } finally {
    pollDawnEventsByTimer(true);
    funit.destroy();
    device.destroy();
  }
  const ok = results.every((r) => r.sameBitmaps);
  if (values.json) console.log(JSON.stringify({ repeats, results, ok }));
  else {
    console.log(`dawn-poll case: K = 5 style, ${repeats} pairs of runs per batch size`);
    console.log("batch  setImmediate ms  timer ms  × (median of pairs)  same bitmaps");
    for (const r of results)
      console.log(
        `${String(r.batch).padStart(5)}  ${r.setImmediateMs.toFixed(1).padStart(15)} ` +
          `${r.timerMs.toFixed(1).padStart(9)}  ${r.speedup.toFixed(2).padStart(19)}  ` +
          `${r.sameBitmaps}`,
      );
  }
  return ok ? 0 : 1;
}
