/**
 * `funit translate`: checks the call (arguments, output paths, input sizes from their headers
 * against the model, src/limits.ts and the adapter) before anything is decoded or a device is
 * opened, then translates each content image into the class shown by the class images and writes
 * the PNGs atomically (or one PNG to stdout for `--out -`; `-` as an input reads stdin).
 */
import { extname, join } from "node:path";
import { type ImageRGBA } from "../tensor";
import { UsageError } from "../errors";
import { checkLimit } from "../limits";
import { packageRoot } from "./assets";
import { parseCommand, positiveInteger, requireString, type CommandSpec } from "./args";
import { DEFAULT_DEMO_WEIGHTS } from "./demo";
import { EXIT_OK, printCommandHelp } from "./exit-status";
import { checkOutputPath, writeFilesAtomic } from "./files";
import { encodePng } from "./images";
import {
  checkTranslateCall,
  loadInputImages,
  loadWeights,
  nodeDeviceLimits,
  openEngine,
} from "./session";
import { writeStdout } from "./stdio";

export const TRANSLATE_COMMAND: CommandSpec = {
  name: "translate",
  usage:
    "translate --content A.png [B.png …] --class S1.png [S2.png …] --out OUT [--weights W]\n" +
    "[--size S]",
  about: "Translates each content image into the class (style) shown by the K ≥ 1 class images.",
  options: {
    content: {
      type: "string",
      multiple: true,
      value: "A.png …",
      help: "one or more content images (PNG or JPEG); - reads one image from stdin",
    },
    class: {
      type: "string",
      multiple: true,
      value: "S1.png …",
      help: "one or more class images, K ≥ 1 (PNG or JPEG); - reads one image from stdin",
    },
    out: {
      type: "string",
      value: "OUT",
      help:
        "output PNG; - writes it to stdout (one content image only; nothing else goes\n" +
        "there); with several content images, OUT-0.png, OUT-1.png, … in content order\n" +
        "(a trailing .png on OUT is kept once: out.png → out-0.png)",
    },
    weights: {
      type: "string",
      value: "W",
      help:
        "generator weights (.safetensors, F32 or F16); default, as for demo,\n" +
        `${DEFAULT_DEMO_WEIGHTS} in the package`,
    },
    size: {
      type: "string",
      value: "S",
      help:
        "resize every input to S×S first (PIL bilinear, antialiased, as the NVlabs test\n" +
        "script does); S ≤ 2048 and a multiple of 2^n_downs_content; without it, content\n" +
        "height and width must be multiples of 2^n_downs_content",
    },
  },
  notes: "Grey, RGB and RGBA inputs all become RGB; transparency is composited onto white.",
};

/**
 * Output paths: OUT itself for one image, else OUT-0.png, OUT-1.png, … (a trailing .png on OUT kept
 * once).
 */
export function outputPaths(out: string, count: number): string[] {
  if (count === 1) return [out];
  const stem = extname(out).toLowerCase() === ".png" ? out.slice(0, -4) : out;
  return Array.from({ length: count }, (_, i) => `${stem}-${i}.png`);
}

/** The path that means stdin (an input) or stdout (the output). */
const STDIO = "-";

export async function translateCommand(args: string[]): Promise<number> {
  const { values } = parseCommand(TRANSLATE_COMMAND, args);
  if (values.help) return printCommandHelp(TRANSLATE_COMMAND);
  const weightsPath =
    (values.weights as string | undefined) ?? join(packageRoot(), DEFAULT_DEMO_WEIGHTS);
  const outPath = requireString(values, "out");
  const contentPaths = (values.content as string[] | undefined) ?? [];
  const classPaths = (values.class as string[] | undefined) ?? [];
  if (contentPaths.length === 0) throw new UsageError("--content needs at least one image");
  if (classPaths.length === 0)
    throw new UsageError("K = 0: --class needs at least one class image");
  if ([...contentPaths, ...classPaths].filter((p) => p === STDIO).length > 1)
    throw new UsageError("stdin holds one image: '-' may be given once");
  if (outPath === STDIO && contentPaths.length > 1)
    throw new UsageError(
      `--out - writes one PNG to stdout, but ${contentPaths.length} content images make ` +
        `${contentPaths.length}: give --out a file name`,
    );
  if (outPath === STDIO && process.stdout.isTTY)
    throw new UsageError("--out - writes a binary PNG to stdout, which is a terminal: redirect it");
  const size =
    values.size === undefined ? undefined : positiveInteger("size", values.size as string);
  if (size !== undefined) checkLimit("maxSize", size, "--size");

  const outPaths = outPath === STDIO ? [] : outputPaths(outPath, contentPaths.length);
  for (const p of outPaths) await checkOutputPath(p);
  const weights = await loadWeights(weightsPath);
  // Sizes from the headers, against the model, src/limits.ts and the adapter: nothing decoded yet.
  await checkTranslateCall(weights.hyper, contentPaths, classPaths, size, nodeDeviceLimits);
  const contents = await loadInputImages(contentPaths, size);
  const classImages = await loadInputImages(classPaths, size);

  const engine = await openEngine(weights);
  let outputs: ImageRGBA[];
  try {
    outputs = await engine.funit.translate(contents, classImages);
  } finally {
    engine.close();
  }
  if (outPath === STDIO) {
    await writeStdout(encodePng(outputs[0]!));
    return EXIT_OK;
  }
  await writeFilesAtomic(outputs.map((img, i) => ({ path: outPaths[i]!, bytes: encodePng(img) })));
  for (const p of outPaths) console.log(p);
  return EXIT_OK;
}
