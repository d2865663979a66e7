/**
 * `-` on the CLI's command line: an input image read from stdin, and the output PNG written to
 * stdout. Stdin is read once, whole (the header check and the decode both need it), and refused
 * from its length as soon as it passes LIMITS.maxImageFileBytes, so a endless pipe costs bounded
 * memory; a terminal on stdin is refused rather than waited on. The PNG goes to stdout alone, so
 * `funit translate … --out - > x.png` and pipes get exactly the image.
 */
import { InputError } from "../errors";
import { LIMITS, limitText } from "../limits";

/** How inputs read from stdin are named in messages. */
export const STDIN_NAME = "stdin";

let stdinBytes: Promise<Uint8Array> | undefined;

/** Everything on stdin, read once (later calls get the same bytes). */
export function readStdin(stdin: NodeJS.ReadStream = process.stdin): Promise<Uint8Array> {
  stdinBytes ??= readAll(stdin);
  return stdinBytes;
}

async function readAll(stdin: NodeJS.ReadStream): Promise<Uint8Array> {
  if (stdin.isTTY)
    throw new InputError("'-' reads an image from stdin, but stdin is a terminal: pipe one in");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > LIMITS.maxImageFileBytes) {
      stdin.destroy();
      throw new InputError(
        `image on ${STDIN_NAME} is over ${LIMITS.maxImageFileBytes} bytes: too large ` +
          `(${limitText("maxImageFileBytes", LIMITS.maxImageFileBytes)})`,
      );
    }
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks, size));
}

/** Writes bytes to stdout and resolves once they are handed to the system (or rejects). */
export function writeStdout(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) =>
    process.stdout.write(bytes, (e) => (e ? reject(e) : resolve())),
  );
}
