/**
 * The browser side of the numeric tests: test/browser/numeric.html loads this bundle
 * (dist/test/browser-numeric.js, built by scripts/build.mjs), which runs the portable suite
 * (test/portable/suite.ts) on the page's WebGPU device, reading fixtures over http from the repo
 * root the page is served from. It lists each result on the page as it comes, and publishes
 * `window.__adapter` (adapter info and features) and `window.__results` ([{name, ok, message, ms}])
 * for test/browser-numeric.test.ts; a failure outside the tests (no WebGPU, say) goes to
 * `window.__fatal`. `?hangul=N` translates N of the Hangul case's 8 content images (default 2).
 */
import type { TestResult } from "../portable/runner";
import { runRuntimeSuite, type SuiteRun } from "../portable/suite";

interface NumericWindow {
  __adapter?: SuiteRun["adapter"] & { userAgent: string };
  __results?: TestResult[];
  __fatal?: string;
}
const page = window as unknown as NumericWindow;
const list = document.getElementById("results")!;
const status = document.getElementById("status")!;

async function load(path: string): Promise<Uint8Array> {
  const response = await fetch(new URL(`../../${path}`, location.href));
  if (!response.ok) throw new Error(`fetching ${path}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

function show(r: TestResult) {
  const li = document.createElement("li");
  li.textContent = `${r.ok ? "ok" : "FAIL"} ${r.name} (${r.ms} ms)${r.ok ? "" : `: ${r.message}`}`;
  li.className = r.ok ? "ok" : "fail";
  list.append(li);
}

try {
  status.textContent = "running…";
  const hangul = Number(new URLSearchParams(location.search).get("hangul") ?? 2);
  const { adapter, results } = await runRuntimeSuite(
    navigator.gpu,
    load,
    { hangulContent: hangul },
    show,
  );
  page.__adapter = { ...adapter, userAgent: navigator.userAgent };
  status.textContent = `${results.filter((r) => r.ok).length} of ${results.length} passed on ${JSON.stringify(page.__adapter)}`;
  page.__results = results;
} catch (e) {
  page.__fatal = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  status.textContent = `fatal: ${page.__fatal}`;
}
