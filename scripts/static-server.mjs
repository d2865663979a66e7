// A tiny static file server over node:http, shared by `npm run demo:web` and the browser tests
// (WebGPU needs an http(s) page, not about:blank). Serves files under `root` only: paths are
// normalised and anything that resolves outside `root` is a 404. Binds 127.0.0.1; port 0 picks a
// free port. No caching headers, so a rebuilt bundle is always what the page loads.
import { createServer } from "node:http";
import { createReadStream, statSync } from "node:fs";
import { extname, join, normalize, sep } from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".map": "application/json",
  ".json": "application/json",
  ".css": "text/css; charset=utf-8",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".txt": "text/plain; charset=utf-8",
  ".wgsl": "text/plain; charset=utf-8",
  ".safetensors": "application/octet-stream",
  ".onnx": "application/octet-stream",
};

/** Starts serving `root`; resolves to `{ url, close }` once listening. */
export function serveDirectory(root, { port = 0, host = "127.0.0.1" } = {}) {
  const base = normalize(root + sep);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    let file = normalize(join(base, path));
    if (!file.startsWith(base)) return notFound(res);
    try {
      if (statSync(file).isDirectory()) file = join(file, "index.html");
      const size = statSync(file).size;
      res.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "content-length": size,
        "cache-control": "no-store",
      });
      createReadStream(file).pipe(res);
    } catch {
      notFound(res);
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve({
        url: `http://${host}:${address.port}/`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

function notFound(res) {
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("not found");
}
