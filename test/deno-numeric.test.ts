/**
 * The portable numeric tests (every kernel against its reference, the whole generator on tiny-a and
 * one Hangul case with each convolution kernel, at the same tolerances as in Node) under Deno, on
 * Deno's own WebGPU (wgpu; on lavapipe here, without subgroups, so the subgroup convolution must be
 * refused). Spawns `deno run --allow-read=<repo> dist/test/deno-numeric.js` (npm's deno; no network
 * or other permission; the bundle is built by scripts/build.mjs, which `npm test` runs first),
 * parses the one JSON line it prints, and makes each result a test of its own.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describeRuntimeResults, type RuntimeRun } from "./helpers/runtime-results";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DENO = `${ROOT}node_modules/.bin/deno`;
const TIMEOUT_MS = 300_000;

function runInDeno(): Promise<RuntimeRun> {
  return new Promise((resolve) => {
    execFile(
      DENO,
      ["run", "--no-config", "--no-lock", `--allow-read=${ROOT}`, "dist/test/deno-numeric.js"],
      {
        cwd: ROOT,
        timeout: TIMEOUT_MS,
        maxBuffer: 64 << 20,
        env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
      },
      (error, stdout, stderr) => {
        const tail = stderr
          .split("\n")
          .filter((l) => !/^(ok|FAIL) /.test(l))
          .join("\n")
          .trim()
          .slice(-2000);
        const line = stdout.trim().split("\n").pop() ?? "";
        let parsed: Omit<RuntimeRun, "errors">;
        try {
          parsed = JSON.parse(line);
        } catch {
          resolve({
            fatal: `deno printed no JSON result line (${error ? error.message : "exit 0"}): ${tail || stdout.slice(-2000)}`,
            errors: [],
          });
          return;
        }
        const allOk = parsed.results?.every((r) => r.ok) ?? false;
        // a non-zero exit is expected when a test failed; with every test passed it means a crash
        const errors =
          error && allOk
            ? [`deno exited with an error although every test passed: ${error.message} ${tail}`]
            : [];
        resolve({ ...parsed, errors });
      },
    );
  });
}

// Run at collection, so that each result Deno reports is a test of its own.
const run = await runInDeno();
describeRuntimeResults("numeric tests in Deno", run, {});
