// `npm run soak`: thousands of engine calls on one engine (Dawn in Node), mixing call kinds
// (translate, translateTensor, encodeClass, translateToTexture, aborted calls), styles (class
// codes, 1 to 3 class images) and 12 input shapes, more than the plan cache keeps (MAX_PLANS = 8),
// so plans are evicted and rebuilt all along; every `--lose-every` calls the device is destroyed
// in the middle of a call and the engine, created with a device provider, moves to a new one. It
// prints RSS, JS heap and the live GPU buffers and textures (counted by wrapping createBuffer,
// createTexture and destroy) every `--every` calls, checks that a probe call still returns its
// first output bit for bit, and exits 1 if the GPU objects or the memory grow. Not in CI (minutes
// on lavapipe).
//
//   node scripts/build.mjs && node scripts/soak.mjs [--calls 3000] [--every 250]
//        [--lose-every 1000 (0: no loss)] [--model test/fixtures/tiny-a/gen_test.safetensors]
// (`npm run soak` runs node with --expose-gc, so each checkpoint measures after a collection)
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Funit, getNodeDevice } from "../dist/node.js";

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "3000" },
    every: { type: "string", default: "250" },
    "lose-every": { type: "string", default: "1000" },
    model: { type: "string", default: "test/fixtures/tiny-a/gen_test.safetensors" },
  },
});
const calls = Number(values.calls);
const every = Number(values.every);
const loseEvery = Number(values["lose-every"]);
const CYCLE = 25; // the schedule repeats every 25 calls, so every checkpoint sees the same plans
if (every % CYCLE || loseEvery % every)
  throw new Error(`--every must be a multiple of ${CYCLE} and divide --lose-every`);

// Dawn's promises need the event loop kept alive in a plain script.
const keepAlive = setInterval(() => {}, 1000);

/**
 * Live GPU objects on the engine's current device (a destroyed device's objects are gone with it;
 * its one shared placeholder buffer, src/runtime/graph.ts, is counted like the engine's).
 */
let live;
let devices = 0; // made so far (not kept: a kept GPUDevice keeps its memory)
function counted(device) {
  live = { buffers: new Set(), textures: new Set() };
  for (const [make, set] of [
    ["createBuffer", live.buffers],
    ["createTexture", live.textures],
  ]) {
    const original = device[make].bind(device);
    device[make] = (desc) => {
      const object = original(desc);
      set.add(object);
      const destroy = object.destroy.bind(object);
      object.destroy = () => {
        set.delete(object);
        destroy();
      };
      return object;
    };
  }
  return device;
}
async function provider() {
  const device = counted(await getNodeDevice({ onError: (m) => console.error(`soak: ${m}`) }));
  devices++;
  return device;
}

const weights = new Uint8Array(readFileSync(values.model));
const engine = await Funit.create(provider, weights, { label: "soak" });
const { latent_dim: latent, n_downs_content: downs } = engine.hyper;
const unit = 2 ** downs;
const sides = [2, 3, 4, 5].map((m) => Math.max(m * unit, 16 - (16 % unit)));

function image(side, seed) {
  const data = new Uint8Array(side * side * 4);
  for (let j = 0; j < data.length; j++) data[j] = (j * 31 + seed * 17) & 255;
  return { width: side, height: side, data };
}
function tensor(n, side, seed) {
  const data = new Float32Array(n * 3 * side * side);
  for (let j = 0; j < data.length; j++) data[j] = Math.sin(j * 0.37 + seed);
  return { shape: [n, 3, side, side], data };
}
const code = (seed) => new Float32Array(latent).map((_, i) => Math.sin(i + seed) * 0.5);

/** Call i of the schedule: its kind, shape (12 shapes) and style vary with i mod CYCLE. */
async function call(i) {
  const c = i % CYCLE;
  const side = sides[c % 4];
  const n = 1 + (c % 3);
  const style = c % 2 ? code(c) : Array.from({ length: 1 + (c % 3) }, (_, k) => image(side, k));
  switch (c % 5) {
    case 0:
      return engine.translate(
        Array.from({ length: n }, (_, k) => image(side, k)),
        style,
      );
    case 1:
      return engine.translateTensor(tensor(n, side, c), style);
    case 2:
      return engine.encodeClass(Array.from({ length: n }, (_, k) => image(side, k + 5)));
    case 3:
      return (await engine.translateToTexture(tensor(n, side, c), style)).destroy();
    default: {
      const controller = new AbortController();
      const p = engine.translate([image(side, 1)], code(1), { signal: controller.signal });
      controller.abort(new Error("soak abort"));
      return p.then(
        () => Promise.reject(new Error("an aborted call resolved")),
        (e) => {
          if (e.message !== "soak abort") throw e;
        },
      );
    }
  }
}

const probeInput = tensor(1, sides[2], 0.5);
const probe = () => engine.translateTensor(probeInput, code(2));
const expected = (await probe()).data;

const MiB = 1024 * 1024;
const rows = [];
const start = performance.now();
function checkpoint(done) {
  globalThis.gc?.();
  const m = process.memoryUsage();
  const row = {
    calls: done,
    seconds: ((performance.now() - start) / 1000).toFixed(1),
    rssMiB: Math.round(m.rss / MiB),
    heapMiB: Math.round(m.heapUsed / MiB),
    buffers: live.buffers.size,
    textures: live.textures.size,
    devices,
  };
  rows.push(row);
  console.log(
    Object.entries(row)
      .map(([k, v]) => `${k} ${v}`)
      .join("  "),
  );
}

let mismatches = 0;
let losses = 0;
for (let i = 0; i < calls; i++) {
  if (loseEvery && i % loseEvery === loseEvery / 2) {
    // lose the device in the middle of the next call: right after its submit
    const device = engine.device;
    losses++;
    const submit = device.queue.submit.bind(device.queue);
    device.queue.submit = (b) => {
      submit(b);
      device.destroy();
    };
  }
  await call(i);
  if ((i + 1) % every === 0) {
    const out = (await probe()).data;
    if (out.length !== expected.length || out.some((v, j) => v !== expected[j])) mismatches++;
    checkpoint(i + 1);
  }
}
engine.dispose();
clearInterval(keepAlive);

// Growth: after the first checkpoint (plans built, pipelines cached), every checkpoint sees the
// same schedule position (a loss falls between two), so the GPU objects must be exactly as many;
// memory may wander a little.
const warm = rows[0];
const last = rows.at(-1);
const failures = [];
for (const r of rows.slice(1)) {
  if (r.buffers !== warm.buffers || r.textures !== warm.textures)
    failures.push(`GPU objects at ${r.calls} calls: ${r.buffers} buffers, ${r.textures} textures`);
}
// the first new device costs Dawn and lavapipe about 50 MiB of their own; later ones reuse it
const rssLimit = warm.rssMiB + Math.max(64, warm.rssMiB * 0.25) + (losses ? 64 : 0);
if (last.rssMiB > rssLimit)
  failures.push(
    `RSS grew from ${warm.rssMiB} to ${last.rssMiB} MiB (limit ${rssLimit.toFixed(0)})`,
  );
if (mismatches) failures.push(`the probe call's output changed at ${mismatches} checkpoint(s)`);
if (devices !== 1 + losses) failures.push(`${devices} devices used after ${losses} device losses`);
console.log(
  `soak: ${calls} calls in ${last.seconds} s on ${devices} device(s) ` +
    `(${losses} loss(es)); ` +
    `RSS ${warm.rssMiB} → ${last.rssMiB} MiB, heap ${warm.heapMiB} → ${last.heapMiB} MiB, ` +
    `GPU buffers ${warm.buffers} → ${last.buffers}, textures ${warm.textures} → ${last.textures}`,
);
if (failures.length) {
  console.error(`soak: FAILED\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
console.log("soak: no growth");
