/**
 * The texture output of translateToTexture: checking the caller's target texture (or the limits
 * of one made for the output) before anything is written, making that texture, and binding array
 * layers of it as a plan's output. A view is checked against the engine's device once, in a
 * validation error scope, and then kept per texture and layer range.
 */
import { InputError } from "./errors";
import { OUTPUT_TEXTURE } from "./model";
import type { Plan } from "./runtime/graph";

/** Where translateToTexture writes; without `texture`, a new texture is created and returned. */
export interface TextureTarget {
  /**
   * The caller's texture: format rgba8unorm, dimension 2d, the content images' width and height,
   * usage including STORAGE_BINDING, created on the engine's device, with enough array layers.
   */
  texture?: GPUTexture;
  /** First array layer written (default 0): image i goes to layer `layer + i`. */
  layer?: number;
}

/**
 * Checks a target for n images of w×h: its texture's attributes, or, without one, the limits a
 * new texture must fit. InputErrors name the problem; nothing is made.
 */
export function checkTextureTarget(
  device: GPUDevice,
  target: TextureTarget,
  n: number,
  h: number,
  w: number,
): void {
  const layer = target.layer ?? 0;
  if (!Number.isSafeInteger(layer) || layer < 0)
    throw new InputError(`layer must be a whole number ≥ 0, got ${layer}`);
  if (target.texture) checkTargetTexture(target.texture, n, h, w, layer);
  else checkTextureLimits(device, n, h, w, layer);
}

/** The texture translateToTexture makes when the caller gives none: exactly n layers. */
export function createOutputTexture(
  device: GPUDevice,
  label: string,
  n: number,
  h: number,
  w: number,
): GPUTexture {
  return device.createTexture({
    label: `${label}:translation ${n}x${h}x${w}`,
    format: "rgba8unorm",
    size: [w, h, n],
    usage:
      GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_SRC,
  });
}

/** Every property of a caller's texture that its attributes show; InputErrors name the problem. */
function checkTargetTexture(t: GPUTexture, n: number, h: number, w: number, layer: number): void {
  if (typeof t !== "object" || t === null || typeof (t as GPUTexture).createView !== "function")
    throw new InputError("texture: not a GPUTexture");
  if (t.format !== "rgba8unorm")
    throw new InputError(`texture: format is ${t.format}; it must be rgba8unorm`);
  if (t.dimension !== "2d")
    throw new InputError(
      `texture: dimension is ${t.dimension}; it must be 2d (an array of 2D layers)`,
    );
  if (t.width !== w || t.height !== h)
    throw new InputError(`texture: it is ${t.width}x${t.height}; the content images are ${w}x${h}`);
  if (!(t.usage & GPUTextureUsage.STORAGE_BINDING))
    throw new InputError(
      "texture: its usage lacks GPUTextureUsage.STORAGE_BINDING, " +
        "which writing it from a compute shader needs",
    );
  if (layer + n > t.depthOrArrayLayers) {
    throw new InputError(
      `texture: it has ${t.depthOrArrayLayers} array layer(s); ` +
        `writing ${n} image(s) from layer ${layer} needs ${layer + n}`,
    );
  }
}

/** The device limits a texture created for the output must fit. */
function checkTextureLimits(
  device: GPUDevice,
  n: number,
  h: number,
  w: number,
  layer: number,
): void {
  if (layer !== 0)
    throw new InputError(
      "layer: only meaningful with a caller's texture (a new texture holds exactly the images)",
    );
  const { maxTextureArrayLayers, maxTextureDimension2D } = device.limits;
  if (n > maxTextureArrayLayers)
    throw new InputError(
      `${n} content images need ${n} texture layers; ` +
        `this device allows ${maxTextureArrayLayers}: use smaller batches`,
    );
  if (w > maxTextureDimension2D || h > maxTextureDimension2D)
    throw new InputError(
      `a ${w}x${h} texture exceeds this device's maxTextureDimension2D (${maxTextureDimension2D})`,
    );
}

/** Storage views already checked against this device, per texture and layer range. */
export class OutputViews {
  private readonly views = new WeakMap<GPUTexture, Map<string, GPUTextureView>>();

  constructor(
    private readonly device: GPUDevice,
    private readonly label: string,
  ) {}

  /**
   * Binds layers [layer, layer + n) of the texture as the plan's output. The first time a texture
   * is seen, binding runs in a validation error scope: a texture of another device (the one thing
   * its attributes cannot show) is refused with an InputError instead of failing at submit.
   */
  async bind(
    plan: Plan,
    texture: GPUTexture,
    layer: number,
    n: number,
    ownTexture: boolean,
  ): Promise<void> {
    const key = `${layer}+${n}`;
    let views = this.views.get(texture);
    const known = views?.get(key);
    if (known) return plan.bindTextures({ [OUTPUT_TEXTURE.slot]: known });
    const view = texture.createView({
      label: `${this.label}:output layers ${layer}..${layer + n - 1}`,
      dimension: "2d-array",
      baseArrayLayer: layer,
      arrayLayerCount: n,
      baseMipLevel: 0,
      mipLevelCount: 1,
    });
    // a texture made here is on this device and used once: nothing to check or keep
    if (ownTexture) return plan.bindTextures({ [OUTPUT_TEXTURE.slot]: view });
    this.device.pushErrorScope("validation");
    let thrown: unknown;
    try {
      plan.bindTextures({ [OUTPUT_TEXTURE.slot]: view });
    } catch (e) {
      // an implementation may throw instead of reporting; the scope must still be popped
      thrown = e;
    }
    const error = await this.device.popErrorScope();
    if (thrown || error) {
      throw new InputError(
        "the output texture cannot be bound on this engine's device " +
          `(is it from another GPUDevice?): ${error?.message ?? (thrown as Error).message}`,
      );
    }
    if (!views) {
      views = new Map();
      this.views.set(texture, views);
    }
    views.set(key, view);
  }
}
