/**
 * The Node side of the numeric suites that run elsewhere (a Chromium page, a Deno process): turns
 * their published results into vitest tests, one per portable test name, and checks that the run
 * was the whole suite — the names must be exactly those test/portable/suite.ts builds for the
 * adapter the runtime reported (its features and subgroup size), so a run that silently stopped
 * early, or skipped a kernel its adapter supports, fails.
 */
import { describe, expect, it } from "vitest";
import { runtimeSuite } from "../portable/suite";
import type { TestResult } from "../portable/runner";

export interface RuntimeAdapter {
  features: string[];
  subgroupMinSize?: number;
  [more: string]: unknown;
}

export interface RuntimeRun {
  adapter?: RuntimeAdapter;
  results?: TestResult[];
  /** Why the run produced no results (launch failure, no WebGPU, a crash), if it did not. */
  fatal?: string;
  /** Errors the runtime printed outside any test (page errors, a non-zero exit, stderr). */
  errors: string[];
}

/** The names of the portable suite for an adapter with these capabilities. */
export function expectedSuiteNames(
  adapter: RuntimeAdapter,
  opts: Parameters<typeof runtimeSuite>[1],
): string[] {
  const device = {
    features: new Set(adapter.features),
    adapterInfo: { subgroupMinSize: adapter.subgroupMinSize },
  } as unknown as GPUDevice;
  return runtimeSuite(device, opts).map((t) => t.name);
}

export function describeRuntimeResults(
  title: string,
  run: RuntimeRun,
  opts: Parameters<typeof runtimeSuite>[1],
): void {
  if (run.results) {
    const slowest = [...run.results]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 3)
      .map((r) => `${r.name} ${r.ms} ms`);
    console.log(
      `${title}: ${run.results.length} tests in ${(run.results.reduce((a, r) => a + r.ms, 0) / 1000).toFixed(1)} s on ${JSON.stringify(run.adapter)}; slowest: ${slowest.join("; ")}`,
    );
  }
  describe(title, () => {
    it("ran the whole portable suite without errors outside the tests", () => {
      expect(run.fatal).toBeUndefined();
      expect(run.errors).toEqual([]);
      expect(run.adapter).toBeDefined();
      expect(run.results?.map((r) => r.name)).toEqual(expectedSuiteNames(run.adapter!, opts));
    });
    for (const r of run.results ?? []) {
      it(r.name, () => {
        expect(r.ok, r.message).toBe(true);
      });
    }
  });
}
