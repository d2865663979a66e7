/**
 * The FUNIT generator as a graph of kernel dispatches, built from its hyperparameters: the class
 * encoder (K images → one class code), the MLP (class code → AdaIN parameters), the content
 * encoder and the AdaIN decoder, exactly as the NVlabs layout defines them (README, "The
 * generator"), and `generatorGraph`, which joins them into the graph of one engine call (inputs as
 * RGBA8 or f32, f16 casts at the edges of the f16 path, output as RGBA8, f32 or a texture). The op
 * builders (src/ops/) and the kernel choice (src/policy.ts) do the rest; this file only says
 * which layer follows which. On the f16 path the class code, the MLP and the AdaIN parameters stay
 * f32.
 */
import { adainParamCount, contentChannels } from "./hyper";
import { conv } from "./ops/conv";
import { castTensor, imagesToTexture, packImages, unpackImages } from "./ops/images";
import { instanceNorm, linear, meanPool } from "./ops/layers";
import type { KernelChoice } from "./policy";
import { Graph, type OpDesc, type TensorDesc, type TextureSlot } from "./runtime/graph";
import type { GpuGenerator, LayerWeights } from "./upload";

/** What the architecture builds with: the graph, the uploaded layers and the kernel choice. */
export interface Net {
  g: Graph;
  gen: GpuGenerator;
  kernels: KernelChoice;
}

function layer(gen: GpuGenerator, name: string): LayerWeights {
  const l = gen.layers.get(name);
  if (!l) throw new Error(`missing layer ${name}`);
  return l;
}

/** K class images [K,3,H,W] → class code [1, latent_dim] (the mean over K). */
export function classEncoder({ g, gen, kernels }: Net, images: TensorDesc): TensorDesc {
  const h = gen.hyper;
  const k = images.shape[0]!;
  let x = conv(
    g,
    images,
    layer(gen, "enc_class_model.model.0.conv"),
    { pad: 3, act: "relu" },
    kernels,
  );
  for (let i = 1; i <= h.n_downs_class; i++) {
    x = conv(
      g,
      x,
      layer(gen, `enc_class_model.model.${i}.conv`),
      {
        stride: 2,
        pad: 1,
        act: "relu",
      },
      kernels,
    );
  }
  const pooled = meanPool(g, x, k, "enc_class_model pool");
  return linear(g, pooled, layer(gen, `enc_class_model.model.${h.n_downs_class + 2}`), false);
}

/** Class code [1, latent] → AdaIN parameters [1, P]. */
export function mlp({ g, gen }: Net, code: TensorDesc): TensorDesc {
  let x = code;
  for (let i = 0; i < gen.hyper.n_mlp_blks; i++) {
    x = linear(g, x, layer(gen, `mlp.model.${i}.fc`), i < gen.hyper.n_mlp_blks - 1);
  }
  return x;
}

/** Content images [N,3,H,W] → content code [N, nf·2^downs, H/2^downs, W/2^downs]. */
export function contentEncoder({ g, gen, kernels }: Net, images: TensorDesc): TensorDesc {
  const h = gen.hyper;
  let x = conv(g, images, layer(gen, "enc_content.model.0.conv"), { pad: 3 }, kernels);
  instanceNorm(g, x, "enc_content.model.0", { relu: true }, kernels);
  for (let i = 1; i <= h.n_downs_content; i++) {
    x = conv(g, x, layer(gen, `enc_content.model.${i}.conv`), { stride: 2, pad: 1 }, kernels);
    instanceNorm(g, x, `enc_content.model.${i}`, { relu: true }, kernels);
  }
  const res = h.n_downs_content + 1;
  for (let r = 0; r < h.n_res_blks; r++) {
    const prefix = `enc_content.model.${res}.model.${r}`;
    const y = conv(g, x, layer(gen, `${prefix}.model.0.conv`), { pad: 1 }, kernels);
    instanceNorm(g, y, `${prefix}.model.0`, { relu: true }, kernels);
    const z = conv(g, y, layer(gen, `${prefix}.model.1.conv`), { pad: 1 }, kernels);
    x = instanceNorm(g, z, `${prefix}.model.1`, { residual: x }, kernels);
  }
  return x;
}

/** Content code + AdaIN parameters → images [N,3,H,W] in [-1, 1]. */
export function decoder({ g, gen, kernels }: Net, code: TensorDesc, adain: TensorDesc): TensorDesc {
  const h = gen.hyper;
  const c = contentChannels(h);
  if (adain.shape[1] !== adainParamCount(h))
    throw new Error("AdaIN parameter count does not match the decoder");
  let x = code;
  let offset = 0;
  for (let r = 0; r < h.n_res_blks; r++) {
    const prefix = `dec.model.0.model.${r}`;
    const y = conv(g, x, layer(gen, `${prefix}.model.0.conv`), { pad: 1 }, kernels);
    instanceNorm(
      g,
      y,
      `${prefix}.model.0`,
      { relu: true, adain: { params: adain, offset } },
      kernels,
    );
    offset += 2 * c;
    const z = conv(g, y, layer(gen, `${prefix}.model.1.conv`), { pad: 1 }, kernels);
    x = instanceNorm(
      g,
      z,
      `${prefix}.model.1`,
      { residual: x, adain: { params: adain, offset } },
      kernels,
    );
    offset += 2 * c;
  }
  for (let u = 0; u < h.n_downs_content; u++) {
    const name = `dec.model.${2 + 2 * u}`;
    x = conv(g, x, layer(gen, `${name}.conv`), { pad: 2, upsample: 2 }, kernels);
    instanceNorm(g, x, name, { relu: true }, kernels);
  }
  return conv(
    g,
    x,
    layer(gen, `dec.model.${1 + 2 * h.n_downs_content}.conv`),
    {
      pad: 3,
      act: "tanh",
    },
    kernels,
  );
}

/** A batch of images: count and size, as RGBA8 pixels or an f32 [N,3,H,W] tensor. */
export interface BatchSpec {
  n: number;
  h: number;
  w: number;
  format: "rgba8" | "f32";
}

/** The tensors an engine call can read back. */
export type Readback = "content_code" | "class_code" | "adain_params" | "output";

/** What one engine call computes: the key of its plan. */
export interface PlanSpec {
  content?: BatchSpec;
  /** Class images to encode; without them the plan reads a class code written by the caller. */
  classImages?: BatchSpec;
  /** Output as RGBA8, as f32, or into the texture bound to OUTPUT_TEXTURE when the plan runs. */
  outputFormat: "rgba8" | "f32" | "texture";
  readback: Readback[];
}

/** The texture slot a texture-output plan writes. */
export const OUTPUT_TEXTURE: TextureSlot = { slot: "output" };

export interface GeneratorGraph {
  graph: Graph;
  /** The tensors that can be read back (those the spec computes). */
  tensors: Partial<Record<Readback, TensorDesc>>;
  /** Where the caller's inputs go: raw images or tensors, and the class code. */
  inputs: { content?: TensorDesc; classImages?: TensorDesc; classCode: TensorDesc };
}

/**
 * The graph of one engine call. The f16 path converts at its edges: images and tensors come in
 * as f32, and the class code, the AdaIN parameters and everything read back or unpacked leave as
 * f32.
 */
export function generatorGraph(
  gen: GpuGenerator,
  kernels: KernelChoice,
  spec: PlanSpec,
): GeneratorGraph {
  const g = new Graph();
  const net: Net = { g, gen, kernels };
  const f16 = kernels.precision === "f16";
  const input = (b: BatchSpec, label: string) => {
    const raw =
      b.format === "f32"
        ? g.tensor(`${label}:input`, [b.n, 3, b.h, b.w])
        : g.tensor(`${label}:rgba`, [b.n, b.h, b.w]);
    const tensor = b.format === "f32" ? raw : packImages(g, raw, label);
    return { raw, tensor: f16 ? castTensor(g, tensor, "f16", label) : tensor };
  };
  const tensors: GeneratorGraph["tensors"] = {};
  let classImages: TensorDesc | undefined;
  let classCode: TensorDesc;
  if (spec.classImages) {
    const ci = input(spec.classImages, "class");
    classImages = ci.raw;
    classCode = classEncoder(net, ci.tensor);
  } else {
    classCode = g.tensor("class_code:input", [1, gen.hyper.latent_dim]);
  }
  tensors.class_code = classCode;
  let content: TensorDesc | undefined;
  if (spec.content) {
    // A generator without residual blocks has no AdaIN layer: the MLP's output is empty.
    const adain =
      adainParamCount(gen.hyper) > 0 ? mlp(net, classCode) : g.tensor("adain_params:empty", [1, 0]);
    const ci = input(spec.content, "content");
    content = ci.raw;
    const code = contentEncoder(net, ci.tensor);
    const decoded = decoder(net, code, adain);
    const out = f16 ? castTensor(g, decoded, "f32", "output") : decoded;
    if (spec.outputFormat === "texture") imagesToTexture(g, out, OUTPUT_TEXTURE, "output");
    const codeOut =
      f16 && spec.readback.includes("content_code")
        ? castTensor(g, code, "f32", "content_code")
        : code;
    Object.assign(tensors, {
      adain_params: adain,
      content_code: codeOut,
      output: spec.outputFormat === "rgba8" ? unpackImages(g, out, "output") : out,
    });
  }
  return { graph: g, tensors, inputs: { content, classImages, classCode } };
}

/**
 * The ops of one small translation (the smallest square size whose every map is at least 4×4
 * pixels, N = K = 1): RGBA in, RGBA and texture out, so every kernel of an engine call and every
 * layer's shape appear (the texture graph adds image_to_texture in place of image_unpack).
 */
export function smallTranslationOps(gen: GpuGenerator, kernels: KernelChoice): OpDesc[] {
  const size = 2 ** Math.max(gen.hyper.n_downs_content, gen.hyper.n_downs_class) * 4;
  const batch: BatchSpec = { n: 1, h: size, w: size, format: "rgba8" };
  return (["rgba8", "texture"] as const).flatMap(
    (outputFormat) =>
      generatorGraph(gen, kernels, {
        content: batch,
        classImages: batch,
        outputFormat,
        readback: [],
      }).graph.ops,
  );
}
