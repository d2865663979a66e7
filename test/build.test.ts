/**
 * scripts/build.mjs under concurrency: builds started at once (test files, or several people's
 * runs in one checkout) all succeed and leave complete outputs, since every file is written to a
 * temp file and renamed and no folder is removed; a kernel gone from shaders/ leaves no stale copy
 * in dist/shaders/; and with FUNIT_DIST_BUILT=1 (set by test/global-setup.ts and `npm test`) a
 * build writes nothing, so a test run builds dist/ once.
 */
import { execFileSync, spawn } from "node:child_process";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const BUILD = join(root, "scripts/build.mjs");

function envWithout(name: string): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env[name];
  return env;
}

/** Runs one build as a child process; resolves with its exit status and stderr. */
function runBuild(): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BUILD], {
      cwd: root,
      env: envWithout("FUNIT_DIST_BUILT"),
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("scripts/build.mjs", () => {
  it("three builds at once all succeed and leave exactly the kernels, no temp files", async () => {
    const stale = join(root, "dist/shaders/no_such_kernel.wgsl");
    writeFileSync(stale, "// a kernel since removed from shaders/\n");
    const runs = await Promise.all([runBuild(), runBuild(), runBuild()]);
    for (const r of runs) expect(r, r.stderr).toMatchObject({ code: 0 });
    const kernels = readdirSync(join(root, "shaders")).filter((f) => f.endsWith(".wgsl"));
    expect(readdirSync(join(root, "dist/shaders")).sort()).toEqual(kernels.sort());
    for (const dir of ["dist", "dist/tools", "dist/web", "dist/browser"])
      expect(
        readdirSync(join(root, dir)).filter((f) => f.endsWith(".tmp")),
        dir,
      ).toEqual([]);
  }, 120_000);

  it("writes nothing when FUNIT_DIST_BUILT=1, as under vitest after the global setup", () => {
    expect(process.env.FUNIT_DIST_BUILT).toBe("1");
    const before = statSync(join(root, "dist/cli.js")).mtimeMs;
    execFileSync(process.execPath, [BUILD], { cwd: root, stdio: "pipe" });
    expect(statSync(join(root, "dist/cli.js")).mtimeMs).toBe(before);
  });
});
