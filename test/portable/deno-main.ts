/**
 * The Deno side of the numeric tests, bundled by scripts/build.mjs to dist/test/deno-numeric.js
 * and run by test/deno-numeric.test.ts as `deno run --allow-read=<repo> dist/test/deno-numeric.js`:
 * the portable suite (test/portable/suite.ts, the whole Hangul batch) on Deno's own WebGPU, fixtures
 * read with Deno.readFile relative to the repo root (two levels above the bundle). Progress goes to
 * stderr; stdout is exactly one JSON line: {adapter, results: [{name, ok, message, ms}]} or
 * {fatal}. Exit status 0 when every test passed.
 */
import { runRuntimeSuite } from "./suite";

declare const Deno: {
  readFile(path: URL): Promise<Uint8Array>;
  exit(code: number): never;
  version: { deno: string };
};

const repoRoot = new URL("../../", import.meta.url);

try {
  const { adapter, results } = await runRuntimeSuite(
    navigator.gpu,
    (path) => Deno.readFile(new URL(path, repoRoot)),
    {},
    (r) =>
      console.error(
        `${r.ok ? "ok  " : "FAIL"} ${r.name} (${r.ms} ms)${r.ok ? "" : `: ${r.message}`}`,
      ),
  );
  console.log(JSON.stringify({ adapter: { ...adapter, deno: Deno.version.deno }, results }));
  Deno.exit(results.every((r) => r.ok) ? 0 : 1);
} catch (e) {
  console.log(
    JSON.stringify({ fatal: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
  );
  Deno.exit(1);
}
