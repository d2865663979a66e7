/**
 * Plain TypeScript references for every kernel, written for clarity, not speed: direct loops in
 * f64 over NCHW arrays, with reflect padding and nearest upsampling done the obvious way.
 */
import type { FunitHyper } from "../../src/hyper";

export function reflect(i: number, size: number): number {
  if (i < 0) i = -i;
  if (i >= size) i = 2 * size - 2 - i;
  return i;
}

export interface ConvCase {
  n: number;
  cin: number;
  h: number;
  w: number;
  cout: number;
  k: number;
  stride: number;
  pad: number;
  upsample: 1 | 2;
  act: "none" | "relu" | "tanh";
}

/** x [n,cin,h,w], weight [cout,cin,k,k], bias [cout] → [n,cout,oh,ow]. */
export function conv2dRef(c: ConvCase, x: Float32Array, weight: Float32Array, bias: Float32Array) {
  const uh = c.h * c.upsample,
    uw = c.w * c.upsample;
  const oh = Math.floor((uh + 2 * c.pad - c.k) / c.stride) + 1;
  const ow = Math.floor((uw + 2 * c.pad - c.k) / c.stride) + 1;
  const out = new Float32Array(c.n * c.cout * oh * ow);
  const at = (n: number, ci: number, y: number, xx: number) => {
    const sy = Math.floor(reflect(y, uh) / c.upsample),
      sx = Math.floor(reflect(xx, uw) / c.upsample);
    return x[((n * c.cin + ci) * c.h + sy) * c.w + sx]!;
  };
  for (let n = 0; n < c.n; n++)
    for (let o = 0; o < c.cout; o++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let s = bias[o]!;
          for (let ci = 0; ci < c.cin; ci++)
            for (let ky = 0; ky < c.k; ky++)
              for (let kx = 0; kx < c.k; kx++) {
                s +=
                  weight[((o * c.cin + ci) * c.k + ky) * c.k + kx]! *
                  at(n, ci, y * c.stride - c.pad + ky, xx * c.stride - c.pad + kx);
              }
          out[((n * c.cout + o) * oh + y) * ow + xx] =
            c.act === "relu" ? Math.max(s, 0) : c.act === "tanh" ? Math.tanh(s) : s;
        }
  return { out, oh, ow };
}

/** In-place-free instance norm: per (n, c) plane, biased variance, optional AdaIN/ReLU/residual. */
export function instanceNormRef(
  x: Float32Array,
  n: number,
  c: number,
  plane: number,
  opts: { adain?: Float32Array; offset?: number; relu?: boolean; residual?: Float32Array },
): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < n * c; i++) {
    const ch = i % c;
    let mean = 0;
    for (let p = 0; p < plane; p++) mean += x[i * plane + p]!;
    mean /= plane;
    let v = 0;
    for (let p = 0; p < plane; p++) v += (x[i * plane + p]! - mean) ** 2;
    v /= plane;
    const w = opts.adain ? opts.adain[(opts.offset ?? 0) + c + ch]! : 1;
    const b = opts.adain ? opts.adain[(opts.offset ?? 0) + ch]! : 0;
    for (let p = 0; p < plane; p++) {
      let y = ((x[i * plane + p]! - mean) / Math.sqrt(v + 1e-5)) * w + b;
      if (opts.relu) y = Math.max(y, 0);
      if (opts.residual) y += opts.residual[i * plane + p]!;
      out[i * plane + p] = y;
    }
  }
  return out;
}

export function linearRef(
  x: Float32Array,
  n: number,
  fin: number,
  weight: Float32Array,
  bias: Float32Array,
  fout: number,
  relu: boolean,
): Float32Array {
  const out = new Float32Array(n * fout);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < fout; o++) {
      let s = bias[o]!;
      for (let i = 0; i < fin; i++) s += x[b * fin + i]! * weight[o * fin + i]!;
      out[b * fout + o] = relu ? Math.max(s, 0) : s;
    }
  return out;
}

/** [G·K, C, plane] → [G, C]: mean over each group's K images and their pixels. */
export function meanPoolRef(
  x: Float32Array,
  groups: number,
  k: number,
  c: number,
  plane: number,
): Float32Array {
  const out = new Float32Array(groups * c);
  for (let g = 0; g < groups; g++)
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (let i = 0; i < k; i++)
        for (let p = 0; p < plane; p++) s += x[((g * k + i) * c + ch) * plane + p]!;
      out[g * c + ch] = s / (k * plane);
    }
  return out;
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing case can be rerun. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomArray(n: number, rand: () => number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
}

/**
 * The whole FUNIT generator in plain TypeScript, composed from the kernel references above, for
 * hyperparameters no PyTorch reference file covers. `w(name)` returns a state-dict tensor.
 */
export function funitRef(
  h: {
    nf: number;
    n_res_blks: number;
    n_mlp_blks: number;
    n_downs_content: number;
    n_downs_class: number;
    latent_dim: number;
    nf_mlp: number;
  },
  w: (name: string) => Float32Array,
  content: { n: number; hh: number; ww: number; data: Float32Array },
  cls: { k: number; hh: number; ww: number; data: Float32Array },
): {
  classCode: Float32Array;
  adain: Float32Array;
  contentCode: Float32Array;
  output: Float32Array;
} {
  type T = { n: number; c: number; hh: number; ww: number; data: Float32Array };
  const convT = (
    x: T,
    layer: string,
    cout: number,
    k: number,
    stride: number,
    pad: number,
    up: 1 | 2,
    act: ConvCase["act"],
  ): T => {
    const r = conv2dRef(
      { n: x.n, cin: x.c, h: x.hh, w: x.ww, cout, k, stride, pad, upsample: up, act },
      x.data,
      w(`${layer}.weight`),
      w(`${layer}.bias`),
    );
    return { n: x.n, c: cout, hh: r.oh, ww: r.ow, data: r.out };
  };
  const inorm = (x: T, opts: Parameters<typeof instanceNormRef>[4]): T => ({
    ...x,
    data: instanceNormRef(x.data, x.n, x.c, x.hh * x.ww, opts),
  });
  // class encoder
  let x: T = { n: cls.k, c: 3, hh: cls.hh, ww: cls.ww, data: cls.data };
  x = convT(x, "enc_class_model.model.0.conv", h.nf, 7, 1, 3, 1, "relu");
  let c = h.nf;
  for (let i = 1; i <= h.n_downs_class; i++) {
    const cout = i <= 2 ? 2 * c : c;
    x = convT(x, `enc_class_model.model.${i}.conv`, cout, 4, 2, 1, 1, "relu");
    c = cout;
  }
  const pooled = meanPoolRef(x.data, 1, cls.k, c, x.hh * x.ww);
  const classCode = linearRef(
    pooled,
    1,
    c,
    w(`enc_class_model.model.${h.n_downs_class + 2}.weight`),
    w(`enc_class_model.model.${h.n_downs_class + 2}.bias`),
    h.latent_dim,
    false,
  );
  // mlp
  let m = classCode,
    mIn = h.latent_dim;
  for (let i = 0; i < h.n_mlp_blks; i++) {
    const bias = w(`mlp.model.${i}.fc.bias`);
    m = linearRef(
      m,
      1,
      mIn,
      w(`mlp.model.${i}.fc.weight`),
      bias,
      bias.length,
      i < h.n_mlp_blks - 1,
    );
    mIn = bias.length;
  }
  const adain = m;
  // content encoder
  x = { n: content.n, c: 3, hh: content.hh, ww: content.ww, data: content.data };
  x = inorm(convT(x, "enc_content.model.0.conv", h.nf, 7, 1, 3, 1, "none"), { relu: true });
  c = h.nf;
  for (let i = 1; i <= h.n_downs_content; i++) {
    x = inorm(convT(x, `enc_content.model.${i}.conv`, 2 * c, 4, 2, 1, 1, "none"), { relu: true });
    c *= 2;
  }
  for (let r = 0; r < h.n_res_blks; r++) {
    const p = `enc_content.model.${h.n_downs_content + 1}.model.${r}`;
    const y = inorm(convT(x, `${p}.model.0.conv`, c, 3, 1, 1, 1, "none"), { relu: true });
    x = inorm(convT(y, `${p}.model.1.conv`, c, 3, 1, 1, 1, "none"), { residual: x.data });
  }
  const contentCode = x.data;
  // decoder
  let offset = 0;
  for (let r = 0; r < h.n_res_blks; r++) {
    const p = `dec.model.0.model.${r}`;
    const y = inorm(convT(x, `${p}.model.0.conv`, c, 3, 1, 1, 1, "none"), {
      relu: true,
      adain,
      offset,
    });
    offset += 2 * c;
    x = inorm(convT(y, `${p}.model.1.conv`, c, 3, 1, 1, 1, "none"), {
      residual: x.data,
      adain,
      offset,
    });
    offset += 2 * c;
  }
  for (let u = 0; u < h.n_downs_content; u++) {
    x = inorm(convT(x, `dec.model.${2 + 2 * u}.conv`, c / 2, 5, 1, 2, 2, "none"), { relu: true });
    c /= 2;
  }
  const output = convT(
    x,
    `dec.model.${1 + 2 * h.n_downs_content}.conv`,
    3,
    7,
    1,
    3,
    1,
    "tanh",
  ).data;
  return { classCode, adain, contentCode, output };
}

/**
 * Generators of the NVlabs family that no PyTorch reference file covers, checked against funitRef
 * in f32 (generator-family.test.ts) and f16 (precision-f16.test.ts): no residual blocks (no AdaIN:
 * an empty MLP output), a 2- and a 5-block MLP, 2 or 5 class downsamplings, 1 or 3 content ones,
 * non-square images, K = 1 and 3.
 */
export const GENERATOR_FAMILY: { hyper: FunitHyper; n: number; k: number; h: number; w: number }[] =
  [
    {
      hyper: {
        nf: 4,
        n_res_blks: 0,
        nf_mlp: 8,
        latent_dim: 5,
        n_mlp_blks: 2,
        n_downs_content: 1,
        n_downs_class: 2,
      },
      n: 2,
      k: 1,
      h: 12,
      w: 20,
    },
    {
      hyper: {
        nf: 6,
        n_res_blks: 3,
        nf_mlp: 12,
        latent_dim: 7,
        n_mlp_blks: 5,
        n_downs_content: 3,
        n_downs_class: 5,
      },
      n: 1,
      k: 3,
      h: 64,
      w: 48,
    },
  ];
