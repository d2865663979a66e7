// `npm run demo:web`: builds dist/ (the page's bundle included), serves the repository root on
// localhost and prints the demo page's URL; runs until interrupted. PORT=8080 picks a fixed port
// (default: a free one). The page fetches the model and glyph atlases from the same server.
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { serveDirectory } from "./static-server.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { stdio: "inherit" });
const { url, close } = await serveDirectory(root, { port: Number(process.env.PORT ?? 0) });
console.log(`funit demo page: ${url}web/`);
console.log("(Ctrl-C to stop; needs a browser with WebGPU)");
const stop = () => close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
