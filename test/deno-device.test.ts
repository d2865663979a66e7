/**
 * The README's Deno pattern in Deno itself (npm's deno, wgpu on lavapipe): requestFunitDevice,
 * then reading the weights file, then Funit.create and encodeClass, as test/deno/readme-pattern.mjs
 * does with the library bundle (dist/index.js, built by scripts/build.mjs, which `npm test` runs
 * first). It used to panic in wgpu-core every time ("Adapter[Id(0,1)] does not exist") until
 * requestFunitDevice read the adapter information as the device was made.
 */
import { expect, it } from "vitest";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DENO = `${ROOT}node_modules/.bin/deno`;

it("requestFunitDevice, a file read, then Funit.create: no panic, a finite class code", async () => {
  const { code, stdout, stderr } = await new Promise<{
    code: number;
    stdout: string;
    stderr: string;
  }>((resolve) =>
    execFile(
      DENO,
      ["run", "--no-config", "--no-lock", `--allow-read=${ROOT}`, "test/deno/readme-pattern.mjs"],
      {
        cwd: ROOT,
        timeout: 120_000,
        env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error.code as number) ?? 1) : 0, stdout, stderr }),
    ),
  );
  expect(stderr).not.toMatch(/panicked|does not exist/);
  expect(code).toBe(0);
  expect(JSON.parse(stdout.trim().split("\n").pop()!)).toEqual({ codeLength: 64, finite: true });
});
