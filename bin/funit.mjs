#!/usr/bin/env node
// Launcher for the `funit` command: runs the bundled CLI in dist/ (built by scripts/build.mjs, which
// `npm install` runs through the prepare script) and exits with its status. The explicit exit also
// ends the process when a WebGPU device would otherwise keep the event loop alive.
import { existsSync } from "node:fs";

const cli = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(cli)) {
  console.error("funit: dist/cli.js is missing: run `npm run build` (or npm install) first");
  process.exit(2);
}
const { main } = await import(cli.href);
process.exit(await main(process.argv.slice(2)));
