/**
 * The bench's report as text: one table of end-to-end times, errors and ratios for every case (a
 * skipped peer or case says why), then for each case the engine's time per stage, its GPU memory
 * and a table of every dispatch with its GFLOP/s. `--json` prints the same result as one object
 * instead (bench/bench.ts).
 */
import { TOLERANCES } from "./cases";
import type { AdapterSummary } from "./peers/peer";
import type { CaseResult } from "./run-case";

export interface BenchResult {
  adapter: (AdapterSummary & { features: string[] }) | undefined;
  peer_adapters: Record<string, AdapterSummary | undefined>;
  machine: { cpu: string | undefined; cores: number; node: string; date: string };
  tolerances: typeof TOLERANCES;
  cases: CaseResult[];
  skipped: { id: string; reason: string }[];
  peers_load_ms: Record<string, Record<string, number>>;
  errors: string[];
  ok: boolean;
}

const fmt = (x: number | null | undefined, digits = 1) =>
  x === null || x === undefined ? "—" : x.toFixed(digits);
const exp = (x: number | undefined) =>
  x === undefined ? "—" : Number.isNaN(x) ? "NaN" : x.toExponential(1);
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const msList = (entries: [string, number][], digits: number) =>
  entries.map(([s, ms]) => `${s} ${ms.toFixed(digits)} ms`).join(", ");

/** Columns padded to their widest cell: the first left-aligned, the rest right-aligned. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "),
    )
    .join("\n");
}

function summaryTable(cases: CaseResult[]): string {
  const peerNames = [...new Set(cases.flatMap((c) => Object.keys(c.peers)))];
  const rows = [
    [
      "case",
      "engine ms",
      "load→first ms",
      "max err",
      ...peerNames.flatMap((p) => [`${p} ms`, "max err"]),
      "× vs best peer",
    ],
  ];
  for (const c of cases) {
    rows.push([
      `${c.model} K=${c.k} N=${c.n}`,
      fmt(c.engine_ms),
      fmt(c.first_translation_ms, 0),
      `${exp(c.maxAbsErr)} ${c.precision} ${c.ok ? "ok" : "FAIL"}`,
      ...peerNames.flatMap((p) => {
        const d = c.peer_details[p];
        return d?.ms === null || !d
          ? ["skipped", ""]
          : [fmt(d.ms), `${exp(d.maxAbsErr)} ${d.ok ? "ok" : "off"}`];
      }),
      c.speedup_vs_best_peer === null ? "—" : `${c.speedup_vs_best_peer.toFixed(2)}×`,
    ]);
  }
  return table(rows);
}

function printStages(c: CaseResult): void {
  const memory = c.gpu_memory_bytes;
  console.log(
    `\n${c.id}: engine time per stage (${c.kernels ? "GPU, timestamp queries" : "wall"}, ` +
      `median of 3), conv kernel '${c.conv_kernel}'; GPU memory ${mib(memory.total)} MiB ` +
      `(weights ${mib(memory.weights)}, activations ${mib(memory.activations)})`,
  );
  if (!c.kernels || !c.stages_ms) {
    console.log(
      `  per-kernel GPU times: none (${c.kernels_skipped}); wall time, end to end: ` +
        msList(Object.entries(c.stages_wall_ms ?? {}), 1),
    );
    return;
  }
  console.log(
    `  ${msList(Object.entries(c.stages_ms), 1)}; all dispatches ${fmt(c.gpu_ms)} ms; ` +
      `decoder 5×5 convs ${fmt(c.decoder_5x5_gflops)} GFLOP/s ` +
      `(${fmt(c.decoder_5x5_executed_gflops)} of arithmetic executed)`,
  );
  const rows = [["dispatch", "ms", "GFLOP/s", "executed"]];
  for (const k of c.kernels)
    rows.push([
      `  ${k.label}`,
      k.ms.toFixed(2),
      k.gflops === undefined ? "" : k.gflops.toFixed(1),
      k.executed_gflops === undefined ? "" : k.executed_gflops.toFixed(1),
    ]);
  console.log(table(rows));
}

export function printText(result: BenchResult): void {
  const a = result.adapter;
  const m = result.machine;
  console.log(
    `adapter: ${a?.description || a?.device} (${a?.vendor}, ${a?.architecture}); ` +
      `${m.cpu}, ${m.cores} cores; node ${m.node}`,
  );
  console.log(
    "\nEnd to end (upload, run, readback), median ms of paired runs; errors are max " +
      `|x − PyTorch| (tolerance ${TOLERANCES.f32} for f32, ${TOLERANCES.f16} for the engine ` +
      "in f16):\n",
  );
  console.log(summaryTable(result.cases));
  for (const c of result.cases)
    for (const [p, d] of Object.entries(c.peer_details))
      if (d.skipped) console.log(`  ${c.id} ${p}: ${d.skipped}`);
  for (const s of result.skipped) console.log(`  ${s.id}: ${s.reason}`);
  for (const [model, ms] of Object.entries(result.peers_load_ms))
    if (Object.keys(ms).length)
      console.log(`  ${model} peer load: ${msList(Object.entries(ms), 0)}`);
  for (const c of result.cases) printStages(c);
  for (const e of result.errors) console.log(`WebGPU error: ${e}`);
  console.log(
    `\noutput check: ${result.ok ? "ok" : "FAILED"} (every engine output within its ` +
      `precision's tolerance of PyTorch${result.errors.length ? ", and no WebGPU error" : ""})`,
  );
}
