/**
 * bin/funit.mjs, the `funit` launcher: it runs dist/cli.js in a child process and drops Dawn's two
 * "artificially reduced" adapter warnings from its stderr. Checked against the same CLI run in the
 * launcher's own process (FUNIT_CLI_CHILD=1), where Dawn's lines do appear (the control that shows
 * the filter has something to drop on this adapter): same stdout bytes (`--out -`), same exit codes,
 * the same stderr less those lines; a terminal on stderr (util-linux `script`) still gets the
 * progress bar; a signal sent to the launcher reaches the CLI, and the launcher dies of it too.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../src/node/assets";

const root = packageRoot();
const BIN = join(root, "bin/funit.mjs");
const DAWN_LINE = /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially/m;
const GLYPHS = join(root, "examples/glyphs");
const TRANSLATE = [
  "translate",
  "--content",
  join(GLYPHS, "content-0.png"),
  "--class",
  ...[0, 1, 2, 3, 4].map((i) => join(GLYPHS, `ref-${i}.png`)),
  "--out",
  "-",
];

function funit(args: string[], inProcess = false) {
  const env = { ...process.env, FUNIT_CLI_CHILD: inProcess ? "1" : "" };
  return spawnSync(process.execPath, [BIN, ...args], { cwd: root, env, timeout: 120_000 });
}

beforeAll(() => {
  if (!existsSync(join(root, "dist/cli.js")))
    execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: root, stdio: "pipe" });
}, 120_000);

describe("the funit launcher", () => {
  it("keeps Dawn's warnings out of stderr; stdout and exit code as the CLI's own", () => {
    const direct = funit(TRANSLATE, true);
    const launched = funit(TRANSLATE);
    expect(direct.status, direct.stderr.toString()).toBe(0);
    expect(direct.stderr.toString()).toMatch(DAWN_LINE);
    expect(launched.status, launched.stderr.toString()).toBe(0);
    expect(launched.stderr.toString()).not.toMatch(DAWN_LINE);
    expect(launched.stderr.toString()).toBe(
      direct.stderr.toString().replace(new RegExp(DAWN_LINE.source + ".*\\n", "gm"), ""),
    );
    expect(launched.stdout.subarray(0, 8).toString("latin1")).toBe("\x89PNG\r\n\x1a\n");
    expect(Buffer.compare(launched.stdout, direct.stdout)).toBe(0);
  }, 240_000);

  it("passes other stderr text and the exit status through", () => {
    const args = ["translate", "--content", "nothing.png", "--class", "x.png", "--out", "o.png"];
    const [direct, launched] = [funit(args, true), funit(args)];
    expect(direct.status).toBe(2);
    expect(launched.status).toBe(2);
    expect(launched.stderr.toString()).toMatch(/^funit translate: /);
    expect(launched.stderr.toString()).toBe(direct.stderr.toString());
    expect(funit(["--version"]).stdout.toString()).toMatch(/^funit-webgpu \d+\.\d+\.\d+\n$/);
  }, 60_000);

  it("tells the CLI that stderr is a terminal: a convert run under `script` draws its bar", () => {
    const out = join(mkdtempSync(join(tmpdir(), "funit-launcher-")), "c.safetensors");
    const pt = join(root, "test/fixtures/tiny-a/gen.pt");
    const r = spawnSync(
      "script",
      ["-qec", `"${process.execPath}" "${BIN}" convert ${pt} ${out}`, "/dev/null"],
      {
        cwd: root,
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 120_000,
      },
    );
    const terminal = r.stdout.toString();
    expect(r.status, terminal).toBe(0);
    expect(terminal).toMatch(/converting \|.*\| 100%/);
    expect(terminal).not.toMatch(DAWN_LINE);
    expect(existsSync(out)).toBe(true);
  }, 120_000);

  for (const signal of ["SIGINT", "SIGTERM"] as const)
    it(`forwards ${signal} to the CLI and dies of it`, async () => {
      // `--content -` with a stdin pipe that stays open: the CLI waits on it until signalled
      const child = spawn(
        process.execPath,
        [BIN, ...TRANSLATE.slice(0, 2), "-", ...TRANSLATE.slice(3)],
        {
          cwd: root,
          stdio: ["pipe", "pipe", "pipe"],
        },
      );
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      // the child's stdin is this pipe; give the CLI time to start reading it (no assertion
      // depends on the delay: a signal before that is forwarded all the same)
      await new Promise((resolve) => setTimeout(resolve, 1500));
      child.kill(signal);
      // "close" waits for the stdout pipe, which the CLI child holds too: it proves the child ended
      const [code, killedBy] = await new Promise<[number | null, string | null]>((resolve) =>
        child.on("close", (c, s) => resolve([c, s])),
      );
      expect([code, killedBy], stderr).toEqual([null, signal]);
    }, 60_000);
});
