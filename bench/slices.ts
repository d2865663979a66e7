/**
 * The slices case (`npm run bench -- --case slices`): what a game pays per frame when it records
 * a glyph's translation a few dispatches at a time (Funit.createJob, src/job.ts). For each
 * maxDispatches asked (default 1, 4, 16) it runs G glyph jobs of the shipped Hangul model (one
 * 64×64 glyph each, a held-out font's class code), every slice in an encoder and a submit of its
 * own as a frame would, with timestamp queries around each slice's compute pass; it reports the
 * slices' GPU time (p50, p95, max), the GPU time per glyph, and the frames a glyph needs when each
 * frame gives the jobs a budget (default 4 ms): slices are packed into a frame, in order, while
 * their measured times fit the budget (a frame always takes at least one slice, so a slice longer
 * than the budget overruns it: counted). Every job's output is checked against translate() (bit
 * for bit); the exit status is 1 otherwise. Needs the `timestamp-query` feature.
 *
 *   node dist/bench/bench.js --case slices [--slices 1,4,16] [--glyphs G] [--budget-ms 4] [--json]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Funit } from "../src/engine";
import { demoReferences, glyphOf } from "../src/glyphs";
import { loadSourceAtlas, loadUnseenAtlas, packageRoot } from "../src/node/assets";
import { getNodeDevice } from "../src/node/gpu";
import type { ImageRGBA } from "../src/tensor";
import { sizeList, wholeNumber } from "./options";

interface SlicesResult {
  maxDispatches: number;
  slicesPerGlyph: number;
  sliceMs: { p50: number; p95: number; max: number };
  gpuMsPerGlyph: number;
  /** Frames per glyph at the budget (mean over the glyphs), and slices that overran it. */
  framesPerGlyph: number;
  overBudgetSlices: number;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Frames needed for one glyph's slices, packed in order while they fit `budget` ms. */
function framesFor(slices: number[], budget: number): number {
  let frames = 0;
  let used = Infinity;
  for (const ms of slices) {
    if (used + ms > budget) {
      frames++;
      used = 0;
    }
    used += ms;
  }
  return frames;
}

/** Runs one glyph's job, a slice a submit, and returns its output and each slice's GPU time. */
async function timedJob(
  funit: Funit,
  content: ImageRGBA,
  code: Float32Array,
  maxDispatches: number,
): Promise<{ output: ImageRGBA; ms: number[] }> {
  const { device } = funit;
  const job = funit.createJob([content], code);
  await job.ready;
  const capacity = 2 * 1024;
  const querySet = device.createQuerySet({
    label: "bench:slices",
    type: "timestamp",
    count: capacity,
  });
  let slices = 0;
  for (let done = false; !done; slices++) {
    if (2 * slices + 2 > capacity) throw new Error("more slices than the query set holds");
    const encoder = device.createCommandEncoder({ label: "bench:frame" });
    done = job.encode(encoder, {
      maxDispatches,
      timestampWrites: {
        querySet,
        beginningOfPassWriteIndex: 2 * slices,
        endOfPassWriteIndex: 2 * slices + 1,
      },
    });
    device.queue.submit([encoder.finish()]);
  }
  const [output] = await job.result();
  const bytes = 2 * slices * 8;
  const resolved = device.createBuffer({
    label: "bench:slices-resolve",
    size: bytes,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const readback = device.createBuffer({
    label: "bench:slices-readback",
    size: bytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder({ label: "bench:slices-resolve" });
  encoder.resolveQuerySet(querySet, 0, 2 * slices, resolved, 0);
  encoder.copyBufferToBuffer(resolved, 0, readback, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  const ns = new BigUint64Array(readback.getMappedRange().slice(0));
  readback.destroy();
  resolved.destroy();
  querySet.destroy();
  const ms = Array.from({ length: slices }, (_, i) => Number(ns[2 * i + 1]! - ns[2 * i]!) / 1e6);
  return { output: output!, ms };
}

export async function runSlicesBench(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      slices: { type: "string", default: "1,4,16" },
      glyphs: { type: "string", default: "8" },
      "budget-ms": { type: "string", default: "4" },
      json: { type: "boolean", default: false },
    },
  });
  const sizes = sizeList("slices", values.slices!, "1,4,16");
  const glyphs = wholeNumber("glyphs", values.glyphs!);
  const budget = Number(values["budget-ms"]);
  if (!(budget > 0)) throw new Error(`--budget-ms ${values["budget-ms"]}: use a positive number`);

  const device = await getNodeDevice();
  if (!device.features.has("timestamp-query"))
    throw new Error("the slices case needs the 'timestamp-query' feature on this adapter");
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const weights = readFileSync(join(packageRoot(), "weights/hangul64-f16.safetensors"));
  const funit = await Funit.create(device, new Uint8Array(weights));
  const source = await loadSourceAtlas();
  const contents = source.chars.slice(0, glyphs).map((ch) => glyphOf(source, ch));
  const code = await funit.encodeClass(demoReferences(await loadUnseenAtlas("Bandal"), 5));
  const want = await funit.translate(contents, code);
  const results: SlicesResult[] = [];
  let ok = true;
  try {
    // one untimed job first: the job plan is compiled and the caches are warm
    await timedJob(funit, contents[0]!, code, 1000);
    for (const maxDispatches of sizes) {
      const perGlyph: number[][] = [];
      for (let g = 0; g < glyphs; g++) {
        const { output, ms } = await timedJob(funit, contents[g]!, code, maxDispatches);
        if (!output.data.every((v, i) => v === want[g]!.data[i])) ok = false;
        perGlyph.push(ms);
      }
      const all = perGlyph.flat().sort((a, b) => a - b);
      results.push({
        maxDispatches,
        slicesPerGlyph: perGlyph[0]!.length,
        sliceMs: { p50: quantile(all, 0.5), p95: quantile(all, 0.95), max: all.at(-1)! },
        gpuMsPerGlyph: all.reduce((a, b) => a + b, 0) / glyphs,
        framesPerGlyph: perGlyph.reduce((a, s) => a + framesFor(s, budget), 0) / glyphs,
        overBudgetSlices: all.filter((ms) => ms > budget).length,
      });
    }
  } finally {
    funit.destroy();
    device.destroy();
  }

  const adapter = [info?.vendor, info?.architecture, info?.description].filter((s) => s).join(" ");
  if (values.json) console.log(JSON.stringify({ adapter, glyphs, budgetMs: budget, results, ok }));
  else {
    const f = (ms: number) => ms.toFixed(2).padStart(7);
    console.log(`slices case: ${glyphs} glyph jobs (1×64×64 each) on ${adapter || "?"}`);
    console.log(
      `maxDispatches  slices/glyph  slice p50 ms  p95 ms  max ms  GPU ms/glyph  ` +
        `frames/glyph @${budget} ms  slices over budget`,
    );
    for (const r of results)
      console.log(
        `${String(r.maxDispatches).padStart(13)}  ${String(r.slicesPerGlyph).padStart(12)}  ` +
          `${f(r.sliceMs.p50)}      ${f(r.sliceMs.p95)} ${f(r.sliceMs.max)}  ` +
          `${f(r.gpuMsPerGlyph)}       ${r.framesPerGlyph.toFixed(1).padStart(17)}  ` +
          `${String(r.overBudgetSlices).padStart(18)}`,
      );
    console.log(ok ? "outputs checked: ok (bit for bit)" : "outputs checked: FAILED");
  }
  return ok ? 0 : 1;
}
