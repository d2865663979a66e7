/** Types of draw.js (the example is plain JavaScript; the Node test imports it from TypeScript). */
export interface GlyphDrawOptions {
  columns?: number;
  scale?: number;
  ink?: [number, number, number];
  paper?: [number, number, number];
  background?: [number, number, number, number];
  layers?: number;
}

export interface GlyphRenderer {
  draw(
    encoder: GPUCommandEncoder,
    glyphs: GPUTexture,
    target: GPUTexture,
    options?: GlyphDrawOptions,
  ): void;
}

export function createGlyphRenderer(
  device: GPUDevice,
  format: GPUTextureFormat,
): Promise<GlyphRenderer>;
export function drawGlyphLayers(
  device: GPUDevice,
  glyphs: GPUTexture,
  target: GPUTexture,
  options?: GlyphDrawOptions,
): Promise<void>;
