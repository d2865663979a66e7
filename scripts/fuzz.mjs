// `npm run fuzz [-- --count N] [--seed S] [--target NAME] [--time-limit-ms T]`: runs the fuzzer of
// test/helpers/fuzz.ts (10,000 mutated inputs per parser by default; CI's test/fuzz.test.ts runs
// 300) in a worker thread, with a watchdog that stops the run when one input takes longer than the
// time limit (default 10 s), which is how a hang shows. Prints a table per parser (inputs, accepted,
// refused, crashed, slowest input, total time) and the peak RSS, and exits 1 on any crash or hang,
// naming the seed and index that reproduce it. The TypeScript is bundled with esbuild first.
import { build } from "esbuild";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bundle = join(root, "node_modules/.cache/funit-fuzz/fuzz.mjs");

if (isMainThread) {
  const { values } = parseArgs({
    options: {
      count: { type: "string", default: "10000" },
      seed: { type: "string", default: "1" },
      target: { type: "string", multiple: true },
      "time-limit-ms": { type: "string", default: "10000" },
    },
  });
  const count = Number(values.count);
  const seed = Number(values.seed);
  const limitMs = Number(values["time-limit-ms"]);
  mkdirSync(dirname(bundle), { recursive: true });
  await build({
    entryPoints: [join(root, "test/helpers/fuzz.ts")],
    outfile: bundle,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    logLevel: "warning",
  });
  // The worker publishes the input it is on: [target, index, generation]; the watchdog reads it.
  const progress = new Int32Array(new SharedArrayBuffer(12));
  const worker = new Worker(fileURLToPath(import.meta.url), {
    workerData: { count, seed, only: values.target ?? [], progress },
  });
  const t0 = performance.now();
  let last = [-1, -1, -1];
  let since = performance.now();
  let hung = null;
  const watchdog = setInterval(() => {
    const now = [...progress];
    if (now.join() !== last.join()) {
      last = now;
      since = performance.now();
    } else if (performance.now() - since > limitMs) {
      hung = { target: now[0], index: now[1] };
      clearInterval(watchdog);
      void worker.terminate();
    }
  }, 200);
  const reports = await new Promise((resolve, reject) => {
    worker.on("message", resolve);
    worker.on("error", reject);
    worker.on("exit", () => resolve(null));
  }).finally(() => clearInterval(watchdog));
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  if (!reports) {
    console.error(
      hung
        ? `fuzz: HANG: target #${hung.target} input ${hung.index} ran over ${limitMs} ms ` +
            `(seed ${seed}; repeat with --seed ${seed} --count ${hung.index + 1})`
        : "fuzz: the worker died without a report (out of memory?)",
    );
    process.exit(1);
  }
  const rows = reports.map((r) => [
    r.target,
    String(r.inputs),
    String(r.accepted),
    String(r.refused),
    String(r.crashed),
    r.maxMs.toFixed(1),
    (r.totalMs / 1000).toFixed(1),
  ]);
  const header = ["parser", "inputs", "accepted", "refused", "crashed", "slowest ms", "total s"];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  for (const r of [header, ...rows]) console.log(r.map((s, c) => s.padEnd(widths[c])).join("  "));
  console.log(
    `${count} inputs per parser, seed ${seed}, ${seconds} s in all; ` +
      `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
  );
  const crashes = reports.flatMap((r) => r.crashes.map((c) => ({ target: r.target, ...c })));
  for (const c of crashes)
    console.error(
      `fuzz: CRASH in ${c.target} input ${c.index}: ${c.error}\n  ${JSON.stringify(c.mutations)}`,
    );
  process.exit(crashes.length ? 1 : 0);
} else {
  const { runFuzz } = await import(pathToFileURL(bundle).href);
  const { count, seed, only, progress } = workerData;
  let generation = 0;
  const reports = await runFuzz({
    root,
    count,
    seed,
    only,
    onInput: (target, index) => {
      progress[0] = target;
      progress[1] = index;
      progress[2] = ++generation;
    },
  });
  parentPort.postMessage(reports);
}
