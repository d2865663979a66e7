/**
 * FUNIT generator hyperparameters and the exact list of state-dict tensors (names and shapes) that
 * they imply in the NVlabs layout. Both the engine's weight loader and the checkpoint converter use
 * this one list to check a file, and to infer the hyperparameters from tensor shapes when a file
 * carries none.
 */
import { ModelFormatError } from "./errors";

export interface FunitHyper {
  nf: number;
  n_res_blks: number;
  nf_mlp: number;
  latent_dim: number;
  n_mlp_blks: number;
  n_downs_content: number;
  n_downs_class: number;
}

export const HYPER_KEYS: (keyof FunitHyper)[] = [
  "nf",
  "n_res_blks",
  "nf_mlp",
  "latent_dim",
  "n_mlp_blks",
  "n_downs_content",
  "n_downs_class",
];

/** Checks ranges the architecture needs; returns the same object typed. */
export function checkHyper(h: Record<string, unknown>): FunitHyper {
  for (const k of HYPER_KEYS) {
    const v = h[k];
    if (!Number.isSafeInteger(v) || (v as number) < 0)
      throw new ModelFormatError(
        `hyperparameter ${k} = ${JSON.stringify(v)} is not a non-negative integer`,
      );
  }
  const hp = h as unknown as FunitHyper;
  if (hp.nf < 1 || hp.nf_mlp < 1 || hp.latent_dim < 1)
    throw new ModelFormatError("nf, nf_mlp and latent_dim must be ≥ 1");
  if (hp.n_mlp_blks < 2)
    throw new ModelFormatError(
      `n_mlp_blks = ${hp.n_mlp_blks}: FUNIT's MLP needs at least 2 blocks`,
    );
  if (hp.n_downs_class < 2)
    throw new ModelFormatError(
      `n_downs_class = ${hp.n_downs_class}: FUNIT's class encoder needs at least 2 downsamplings`,
    );
  return {
    nf: hp.nf,
    n_res_blks: hp.n_res_blks,
    nf_mlp: hp.nf_mlp,
    latent_dim: hp.latent_dim,
    n_mlp_blks: hp.n_mlp_blks,
    n_downs_content: hp.n_downs_content,
    n_downs_class: hp.n_downs_class,
  };
}

/** Channels of the content code (and of the decoder's residual blocks). */
export function contentChannels(h: FunitHyper): number {
  return h.nf * 2 ** h.n_downs_content;
}

/** Channels of the class encoder's last conv. */
export function classChannels(h: FunitHyper): number {
  return h.nf * 4;
}

/** AdaIN parameters the MLP produces: a bias and a weight for each AdaIN layer of the decoder. */
export function adainParamCount(h: FunitHyper): number {
  return h.n_res_blks * 2 * 2 * contentChannels(h);
}

/** Every tensor of the generator state dict (AdaIN running stats excluded), in state-dict order. */
export function expectedTensors(h: FunitHyper): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const conv = (prefix: string, cout: number, cin: number, k: number) => {
    m.set(`${prefix}.weight`, [cout, cin, k, k]);
    m.set(`${prefix}.bias`, [cout]);
  };
  // Class encoder: 7x7, two 4x4 doublings, (n_downs_class-2) 4x4 keeping width, pool, 1x1.
  let c = h.nf;
  conv("enc_class_model.model.0.conv", h.nf, 3, 7);
  let i = 1;
  for (let d = 0; d < 2; d++, i++) {
    conv(`enc_class_model.model.${i}.conv`, 2 * c, c, 4);
    c *= 2;
  }
  for (let d = 0; d < h.n_downs_class - 2; d++, i++)
    conv(`enc_class_model.model.${i}.conv`, c, c, 4);
  conv(`enc_class_model.model.${i + 1}`, h.latent_dim, c, 1); // i is the pooling layer
  // Content encoder.
  c = h.nf;
  conv("enc_content.model.0.conv", h.nf, 3, 7);
  for (let d = 0; d < h.n_downs_content; d++) {
    conv(`enc_content.model.${d + 1}.conv`, 2 * c, c, 4);
    c *= 2;
  }
  const resIdx = h.n_downs_content + 1;
  for (let r = 0; r < h.n_res_blks; r++) {
    for (let j = 0; j < 2; j++)
      conv(`enc_content.model.${resIdx}.model.${r}.model.${j}.conv`, c, c, 3);
  }
  // Decoder: AdaIN res blocks, (upsample, 5x5 halving) per content downsampling, 7x7 to RGB.
  for (let r = 0; r < h.n_res_blks; r++) {
    for (let j = 0; j < 2; j++) conv(`dec.model.0.model.${r}.model.${j}.conv`, c, c, 3);
  }
  for (let u = 0; u < h.n_downs_content; u++) {
    conv(`dec.model.${2 + 2 * u}.conv`, c / 2, c, 5);
    c /= 2;
  }
  conv(`dec.model.${1 + 2 * h.n_downs_content}.conv`, 3, c, 7);
  // MLP.
  const mlpIn = [h.latent_dim, ...Array<number>(h.n_mlp_blks - 1).fill(h.nf_mlp)];
  const mlpOut = [...Array<number>(h.n_mlp_blks - 1).fill(h.nf_mlp), adainParamCount(h)];
  for (let l = 0; l < h.n_mlp_blks; l++) {
    m.set(`mlp.model.${l}.fc.weight`, [mlpOut[l]!, mlpIn[l]!]);
    m.set(`mlp.model.${l}.fc.bias`, [mlpOut[l]!]);
  }
  return m;
}

/** True for state-dict entries FUNIT keeps but never uses at inference (AdaIN running stats). */
export function isUnusedBuffer(name: string): boolean {
  return /\.(running_mean|running_var|num_batches_tracked)$/.test(name);
}

/**
 * Infers the hyperparameters from tensor shapes of a generator state dict. Throws a
 * ModelFormatError naming what is missing when the names do not look like a FUNIT generator (a
 * discriminator, say).
 */
export function inferHyper(shapes: Map<string, number[]>): FunitHyper {
  const need = (name: string): number[] => {
    const s = shapes.get(name);
    if (!s) throw new ModelFormatError(`not a FUNIT generator: tensor '${name}' is missing`);
    return s;
  };
  const count = (re: RegExp) =>
    new Set([...shapes.keys()].map((k) => re.exec(k)?.[1]).filter((x) => x !== undefined)).size;
  const nf = need("enc_content.model.0.conv.weight")[0]!;
  let n_downs_content = 0;
  while (shapes.get(`enc_content.model.${n_downs_content + 1}.conv.weight`)?.[2] === 4)
    n_downs_content++;
  const n_res_blks = count(
    new RegExp(`^enc_content\\.model\\.${n_downs_content + 1}\\.model\\.(\\d+)\\.`),
  );
  let classConvs = 0;
  while (shapes.has(`enc_class_model.model.${classConvs + 1}.conv.weight`)) classConvs++;
  const n_downs_class = classConvs;
  const latent_dim = need(`enc_class_model.model.${classConvs + 2}.weight`)[0]!;
  const n_mlp_blks = count(/^mlp\.model\.(\d+)\.fc\.weight$/);
  const nf_mlp = need("mlp.model.0.fc.weight")[0]!;
  return checkHyper({
    nf,
    n_res_blks,
    nf_mlp,
    latent_dim,
    n_mlp_blks,
    n_downs_content,
    n_downs_class,
  });
}

/**
 * Checks a set of tensor shapes against the hyperparameters: every expected tensor present with
 * its shape, nothing extra (unused AdaIN buffers are tolerated). Throws a ModelFormatError naming
 * each problem.
 */
export function checkTensorShapes(h: FunitHyper, shapes: Map<string, number[]>): void {
  const want = expectedTensors(h);
  const problems: string[] = [];
  for (const [name, shape] of want) {
    const got = shapes.get(name);
    if (!got) problems.push(`missing tensor '${name}' (expected shape [${shape}])`);
    else if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      problems.push(`tensor '${name}' has shape [${got}], expected [${shape}]`);
    }
  }
  for (const name of shapes.keys()) {
    if (!want.has(name) && !isUnusedBuffer(name)) problems.push(`unexpected tensor '${name}'`);
  }
  if (problems.length) {
    const shown =
      problems.slice(0, 8).join("; ") +
      (problems.length > 8 ? `; … and ${problems.length - 8} more` : "");
    throw new ModelFormatError(
      `weights do not match the FUNIT generator ${JSON.stringify(h)}: ${shown}`,
    );
  }
}
