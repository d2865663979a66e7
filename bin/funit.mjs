#!/usr/bin/env node
// Launcher for the `funit` command. Dawn (npm `webgpu`) writes two "Warning: max…
// artificially reduced" lines straight to fd 2 while it makes the adapter (native code, not caused
// by the limits we request, and with no option to silence it), so the launcher runs the bundled CLI
// (dist/cli.js) in a child process of the same node, stdin and stdout inherited, and forwards the
// child's stderr with exactly those lines dropped. Everything else goes on as it arrives (progress
// bars redraw a line without a newline). The child learns that the real stderr is a terminal from
// FUNIT_STDERR_TTY, so its progress bars still draw. Signals sent to the launcher reach the CLI once
// (the child has a session of its own, so a terminal's Ctrl-C comes only through here); the exit
// status is the child's, and a child killed by a signal makes the launcher die of the same signal.
// FUNIT_CLI_CHILD=1 runs the CLI in this process (the child's side, also usable directly).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { WriteStream } from "node:tty";

const cli = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(cli)) {
  console.error("funit: dist/cli.js is missing: run `npm run build` (or npm install) first");
  process.exit(2);
}

/** One of Dawn's adapter warnings (the whole line). */
const DAWN_WARNING =
  /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced .*\n$/;
const DAWN_PREFIX = "Warning: maxDynamic";

if (process.env.FUNIT_CLI_CHILD === "1") {
  if (process.env.FUNIT_STDERR_TTY === "1") adoptTerminal(process.stderr);
  const { main } = await import(cli.href);
  // The explicit exit also ends the process when a WebGPU device would keep the event loop alive.
  process.exit(await main(process.argv.slice(2)));
} else {
  runChild();
}

/**
 * Makes a piped stderr act as the terminal the launcher forwards it to: isTTY, its width, and
 * tty.WriteStream's cursor methods (they only write escape sequences, which pass the pipe as is).
 */
function adoptTerminal(stream) {
  const columns = Number(process.env.FUNIT_STDERR_COLUMNS) || 80;
  const rows = Number(process.env.FUNIT_STDERR_ROWS) || 24;
  Object.assign(stream, { isTTY: true, columns, rows });
  for (const name of ["cursorTo", "moveCursor", "clearLine", "clearScreenDown", "hasColors"])
    stream[name] = WriteStream.prototype[name];
  stream.getColorDepth = () =>
    process.env.FUNIT_STDERR_COLORS ? Number(process.env.FUNIT_STDERR_COLORS) : 8;
  stream.getWindowSize = () => [columns, rows];
}

function runChild() {
  const env = { ...process.env, FUNIT_CLI_CHILD: "1" };
  if (process.stderr.isTTY) {
    env.FUNIT_STDERR_TTY = "1";
    env.FUNIT_STDERR_COLUMNS = String(process.stderr.columns ?? 80);
    env.FUNIT_STDERR_ROWS = String(process.stderr.rows ?? 24);
    env.FUNIT_STDERR_COLORS = String(process.stderr.getColorDepth());
  }
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: ["inherit", "inherit", "pipe"],
      env,
      // a session of its own, so a terminal's Ctrl-C reaches the CLI only through the launcher
      // (on Windows, detached would open a console window instead)
      detached: process.platform !== "win32",
    },
  );
  const forwarded = ["SIGINT", "SIGTERM", "SIGHUP"];
  const forward = (signal) => child.kill(signal);
  for (const signal of forwarded) process.on(signal, forward);
  // Ctrl-Z: stop the child with the launcher, and let it go on when the shell continues us.
  const suspend = () => {
    child.kill("SIGSTOP");
    process.kill(process.pid, "SIGSTOP");
  };
  const resume = () => child.kill("SIGCONT");
  const jobControl = process.platform !== "win32";
  if (jobControl) process.on("SIGTSTP", suspend).on("SIGCONT", resume);

  child.stderr.setEncoding("utf8");
  const filter = dawnLineFilter((text) => process.stderr.write(text));
  child.stderr.on("data", filter.write);
  child.on("error", (e) => {
    console.error(`funit: cannot start the CLI: ${e.message}`);
    process.exit(2);
  });
  // "close": the child has exited and its stderr is drained, so nothing is cut off.
  child.on("close", (code, signal) => {
    filter.end();
    for (const s of forwarded) process.off(s, forward);
    process.off("SIGTSTP", suspend);
    process.off("SIGCONT", resume);
    if (signal) process.kill(process.pid, signal);
    else process.exitCode = code ?? 1;
  });
}

/**
 * Drops Dawn's warning lines from a text stream. A line is held back only while it can still
 * become one of them (it starts like one and has no newline yet); any other text, partial lines
 * included, is passed on at once.
 */
function dawnLineFilter(emit) {
  let held = ""; // the start of a line that may still be a Dawn warning
  let passing = false; // the current line's start has been passed on: pass the rest too
  return {
    write(text) {
      let out = "";
      let rest = held + text;
      held = "";
      for (let nl = rest.indexOf("\n"); nl >= 0; nl = rest.indexOf("\n")) {
        const line = rest.slice(0, nl + 1);
        rest = rest.slice(nl + 1);
        if (passing || !DAWN_WARNING.test(line)) out += line;
        passing = false;
      }
      if (rest !== "") {
        const mayBeDawn = rest.startsWith(DAWN_PREFIX) || DAWN_PREFIX.startsWith(rest);
        if (!passing && mayBeDawn) held = rest;
        else {
          out += rest;
          passing = true;
        }
      }
      if (out !== "") emit(out);
    },
    end() {
      if (held !== "") emit(held);
      held = "";
    },
  };
}
