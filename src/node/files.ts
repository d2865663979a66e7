/**
 * Files for the Node CLI: reading an input whole with a typed error naming it (and its size limit
 * checked from its size before reading), short reasons for file-system errors, and atomic writes
 * (temp file in the same directory, then rename) that refuse to replace anything but a regular
 * file, so that a failed command never leaves a partial output behind.
 */
import { randomBytes } from "node:crypto";
import { lstat, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { InputError } from "../errors";
import { LIMITS, limitText } from "../limits";

/**
 * Reads a whole file; a failure is an InputError such as "cannot read image a.png: no such file".
 * With `limit`, a file larger than LIMITS[limit] bytes is refused from its size, before reading.
 */
export async function readInputFile(
  path: string,
  what: string,
  limit?: "maxImageFileBytes" | "maxWeightsFileBytes",
): Promise<Uint8Array> {
  try {
    if (limit) {
      const { size } = await stat(path);
      if (size > LIMITS[limit])
        throw new InputError(
          `${what} ${path} is ${size} bytes: too large (${limitText(limit, LIMITS[limit])})`,
        );
    }
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read ${what} ${path}: ${describeFsError(e)}`);
  }
}

/** Short reason for a file-system error ("no such file", "is a directory", …) without the stack. */
export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EISDIR":
      return "is a directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    default:
      return (e as Error).message;
  }
}

function tempPathFor(path: string): string {
  return join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`,
  );
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

/**
 * Refuses (InputError naming the path) an existing output that is not a regular file: renaming over
 * a device node, FIFO, socket or symlink would replace it, not write into it. A missing path is
 * fine.
 */
export async function checkOutputTarget(path: string): Promise<void> {
  const st = await lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return null;
    throw new InputError(`cannot write ${path}: ${describeFsError(e)}`);
  });
  if (!st || st.isFile()) return;
  const kind = st.isDirectory()
    ? "a directory"
    : st.isCharacterDevice()
      ? "a character device"
      : st.isBlockDevice()
        ? "a block device"
        : st.isFIFO()
          ? "a FIFO"
          : st.isSocket()
            ? "a socket"
            : st.isSymbolicLink()
              ? "a symbolic link"
              : "not a file";
  throw new InputError(`cannot write ${path}: it exists and is ${kind}, not a regular file`);
}

/**
 * Fails early (InputError) when an output cannot be written: its directory must exist, and the path
 * must be missing or a regular file.
 */
export async function checkOutputPath(path: string): Promise<void> {
  const dir = dirname(path);
  const dirStat = await stat(dir).catch(() => null);
  if (!dirStat?.isDirectory())
    throw new InputError(`cannot write ${path}: directory ${dir} does not exist`);
  await checkOutputTarget(path);
}

/**
 * Writes bytes to path atomically: into a temp file beside it, then renamed over it, so readers see
 * the old file or the complete new one. On failure the temp file is removed and nothing is left.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await writeFilesAtomic([{ path, bytes }]);
}

/**
 * Writes several files all-or-nothing (as far as a file system allows): every temp file is written
 * first; only when all succeeded are they renamed into place. If a rename fails, the files already
 * renamed are removed again, so an error leaves no output at all.
 */
export async function writeFilesAtomic(
  files: { path: string; bytes: Uint8Array }[],
): Promise<void> {
  const temps = files.map((f) => tempPathFor(f.path));
  const renamed: string[] = [];
  try {
    for (let i = 0; i < files.length; i++) {
      try {
        await writeFile(temps[i]!, files[i]!.bytes, { flag: "wx" });
      } catch (e) {
        const why =
          (e as NodeJS.ErrnoException).code === "ENOENT"
            ? `directory ${dirname(files[i]!.path)} does not exist`
            : describeFsError(e);
        throw new InputError(`cannot write ${files[i]!.path}: ${why}`);
      }
    }
    for (let i = 0; i < files.length; i++) {
      // again: it may have appeared since the command began
      await checkOutputTarget(files[i]!.path);
      try {
        await rename(temps[i]!, files[i]!.path);
      } catch (e) {
        throw new InputError(`cannot write ${files[i]!.path}: ${describeFsError(e)}`);
      }
      renamed.push(files[i]!.path);
    }
  } catch (e) {
    await Promise.all([...temps, ...renamed].map(removeQuietly));
    throw e;
  }
}
