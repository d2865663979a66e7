/**
 * Runs the built `funit` CLI (dist/cli.js) in a child process and measures its peak resident set
 * size, for the tests that hostile inputs are refused with bounded memory: the child runs main()
 * and then prints process.resourceUsage().maxRSS (peak RSS of the whole process, in KiB) on a last
 * stderr line, which is split off the output. The caller must have built dist/ (scripts/build.mjs).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export interface MeasuredRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Peak RSS of the child in MB (10^6 bytes). */
  peakRssMB: number;
}

const MARK = "FUNIT_TEST_MAX_RSS_KIB=";

export function runCliMeasured(root: string, args: string[], cwd = root): MeasuredRun {
  const cli = pathToFileURL(join(root, "dist/cli.js")).href;
  const script =
    `const { main } = await import(${JSON.stringify(cli)});` +
    `const code = await main(process.argv.slice(1));` +
    `process.stderr.write("\\n${MARK}" + process.resourceUsage().maxRSS + "\\n");` +
    `process.exit(code);`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script, ...args], {
    cwd,
    encoding: "utf8",
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const at = r.stderr.lastIndexOf(`\n${MARK}`);
  if (at < 0)
    throw new Error(`the CLI child printed no peak RSS (status ${r.status}): ${r.stderr}`);
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr.slice(0, at),
    peakRssMB: (Number(r.stderr.slice(at + MARK.length + 1).trim()) * 1024) / 1e6,
  };
}
