/**
 * Peer: the FUNIT generator written in tfjs ops on @tensorflow/tfjs-backend-webgpu, loading the
 * engine's own safetensors weights, for `npm run bench`. It follows the README's "The generator":
 * reflect padding (tf.mirrorPad) before each valid convolution (tf.fused.conv2d with bias and
 * ReLU fused, as tfjs runs its own models), instance norm from tf.moments, AdaIN from the MLP's
 * output, nearest ×2 upsampling (resizeNearestNeighbor), the class code as the mean over K images
 * and H×W before the 1×1 conv (exact: that conv is affine). tfjs is NHWC, so weights are turned
 * from OIHW to HWIO once at load and inputs from NCHW on the GPU in each call, whose time counts.
 */
import {
  adainParamCount,
  contentChannels,
  expectedTensors,
  type FunitHyper,
} from "../../src/hyper";
import type { Tensor } from "../../src/tensor";
import type { GeneratorWeights } from "../../src/weights";
import { installPeerGPU, peerAdapters, type Peer } from "./peer";

type Tf = typeof import("@tensorflow/tfjs-core");
type T4 = import("@tensorflow/tfjs-core").Tensor4D;
type T2 = import("@tensorflow/tfjs-core").Tensor2D;
type T1 = import("@tensorflow/tfjs-core").Tensor1D;

export async function createTfjsPeer(weights: GeneratorWeights): Promise<Peer> {
  installPeerGPU();
  const first = peerAdapters.length;
  const tf: Tf = await import("@tensorflow/tfjs-core");
  await import("@tensorflow/tfjs-backend-webgpu");
  if (!(await tf.setBackend("webgpu")))
    throw new Error("tfjs: the webgpu backend did not initialise");
  await tf.ready();
  const adapter = peerAdapters[first];
  const h: FunitHyper = weights.hyper;

  // Convolution weights [O,I,kh,kw] → HWIO; linear weights [out,in] (and the class code's 1×1
  // conv, which runs on the pooled vector) → [in,out].
  const filters = new Map<string, T4>();
  const mats = new Map<string, T2>();
  const biases = new Map<string, T1>();
  for (const [name, shape] of expectedTensors(h)) {
    const values = weights.tensors.get(name);
    if (!values) throw new Error(`tfjs peer: weights lack ${name}`);
    if (!name.endsWith(".weight")) {
      biases.set(name.slice(0, -".bias".length), tf.tensor1d(values));
      continue;
    }
    const layer = name.slice(0, -".weight".length);
    const [out, cin, k = 1] = shape as [number, number, number?];
    if (k === 1)
      mats.set(
        layer,
        tf.tidy(() => tf.transpose(tf.tensor2d(values, [out, cin])) as T2),
      );
    else
      filters.set(
        layer,
        tf.tidy(() => tf.transpose(tf.tensor4d(values, [out, cin, k, k]), [2, 3, 1, 0]) as T4),
      );
  }

  const conv = (
    x: T4,
    layer: string,
    pad: number,
    stride = 1,
    activation: "linear" | "relu" = "linear",
  ): T4 => {
    const filter = filters.get(layer);
    if (!filter) throw new Error(`tfjs peer: no convolution ${layer}`);
    const padded =
      pad > 0
        ? tf.mirrorPad(
            x,
            [
              [0, 0],
              [pad, pad],
              [pad, pad],
              [0, 0],
            ],
            "reflect",
          )
        : x;
    return tf.fused.conv2d({
      x: padded,
      filter,
      strides: stride,
      pad: "valid",
      bias: biases.get(layer)!,
      activation,
    });
  };
  const norm = (x: T4, affine?: { bias: T1; weight: T1 }): T4 => {
    const { mean, variance } = tf.moments(x, [1, 2], true);
    const y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))) as T4;
    return affine ? (tf.add(tf.mul(y, affine.weight), affine.bias) as T4) : y;
  };
  const linear = (x: T2, layer: string, activation: "linear" | "relu"): T2 =>
    tf.fused.matMul({ a: x, b: mats.get(layer)!, bias: biases.get(layer)!, activation }) as T2;

  function classCode(images: T4): T2 {
    let x = conv(images, "enc_class_model.model.0.conv", 3, 1, "relu");
    for (let i = 1; i <= h.n_downs_class; i++)
      x = conv(x, `enc_class_model.model.${i}.conv`, 1, 2, "relu");
    const pooled = tf.reshape(tf.mean(x, [0, 1, 2]), [1, x.shape[3]]) as T2;
    return linear(pooled, `enc_class_model.model.${h.n_downs_class + 2}`, "linear");
  }

  function generate(content: T4, images: T4): T4 {
    let p = classCode(images);
    for (let i = 0; i < h.n_mlp_blks; i++)
      p = linear(p, `mlp.model.${i}.fc`, i < h.n_mlp_blks - 1 ? "relu" : "linear");
    const params = tf.reshape(p, [adainParamCount(h)]) as T1;
    const c = contentChannels(h);
    let offset = 0;
    const adain = () => {
      const bias = tf.slice(params, offset, c),
        weight = tf.slice(params, offset + c, c);
      offset += 2 * c;
      return { bias, weight };
    };

    let x = tf.relu(norm(conv(content, "enc_content.model.0.conv", 3))) as T4;
    for (let i = 1; i <= h.n_downs_content; i++)
      x = tf.relu(norm(conv(x, `enc_content.model.${i}.conv`, 1, 2))) as T4;
    const res = h.n_downs_content + 1;
    for (let r = 0; r < h.n_res_blks; r++) {
      const prefix = `enc_content.model.${res}.model.${r}`;
      const y = tf.relu(norm(conv(x, `${prefix}.model.0.conv`, 1))) as T4;
      x = tf.add(x, norm(conv(y, `${prefix}.model.1.conv`, 1))) as T4;
    }
    for (let r = 0; r < h.n_res_blks; r++) {
      const prefix = `dec.model.0.model.${r}`;
      const y = tf.relu(norm(conv(x, `${prefix}.model.0.conv`, 1), adain())) as T4;
      x = tf.add(x, norm(conv(y, `${prefix}.model.1.conv`, 1), adain())) as T4;
    }
    for (let u = 0; u < h.n_downs_content; u++) {
      const up = tf.image.resizeNearestNeighbor(x, [x.shape[1] * 2, x.shape[2] * 2]);
      x = tf.relu(norm(conv(up, `dec.model.${2 + 2 * u}.conv`, 2))) as T4;
    }
    // tfjs's WebGPU conv has no fused tanh.
    return tf.tanh(conv(x, `dec.model.${1 + 2 * h.n_downs_content}.conv`, 3)) as T4;
  }

  const nhwc = (t: Tensor) =>
    tf.transpose(
      tf.tensor4d(t.data, t.shape as [number, number, number, number]),
      [0, 2, 3, 1],
    ) as T4;
  return {
    name: "tfjs-webgpu",
    adapter: () => adapter,
    async run(content, classImages) {
      const out = tf.tidy(() =>
        tf.transpose(generate(nhwc(content), nhwc(classImages)), [0, 3, 1, 2]),
      );
      try {
        return (await out.data()) as Float32Array;
      } finally {
        out.dispose();
      }
    },
    async destroy() {
      for (const t of [...filters.values(), ...mats.values(), ...biases.values()]) t.dispose();
    },
  };
}
