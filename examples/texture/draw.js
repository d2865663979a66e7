// Draws the layers of a 2D-array texture, as Funit.translateToTexture writes them, as textured
// quads in a render pass: layer i fills grid cell (i % columns, floor(i / columns)), `scale` target
// pixels per texel, sampled with nearest filtering so glyph pixels stay crisp. Each texel is
// recoloured per channel, ink + (paper − ink) × texel (the glyphs are near-grey ink on white, 0 on
// 1), opaque: black ink on white paper by default, which draws the texture exactly as it is. Plain
// WebGPU and no imports, so the browser example and the Node test run this same code.

const SHADER = /* wgsl */ `
struct Params {
  ink: vec4<f32>,    // rgb used, a = 1 padding
  paper: vec4<f32>,
  cell: vec2<f32>,   // one cell's size in target pixels
  canvas: vec2<f32>, // the render target's size in pixels
  columns: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var glyphs: texture_2d_array<f32>;
@group(0) @binding(2) var nearest: sampler;

struct Corner {
  @builtin(position) position: vec4<f32>,
  @location(0) uv: vec2<f32>,
  @location(1) @interpolate(flat) layer: u32,
}

// One quad per instance (= per layer), as a 4-vertex triangle strip.
@vertex
fn vs(@builtin(vertex_index) v: u32, @builtin(instance_index) layer: u32) -> Corner {
  let corner = vec2<f32>(f32(v & 1u), f32(v >> 1u));
  let cell = vec2<f32>(f32(layer % params.columns), f32(layer / params.columns));
  let px = (cell + corner) * params.cell; // y grows downwards, as in the texture
  var out: Corner;
  out.position = vec4<f32>(px.x / params.canvas.x * 2.0 - 1.0, 1.0 - px.y / params.canvas.y * 2.0, 0.0, 1.0);
  out.uv = corner;
  out.layer = layer;
  return out;
}

@fragment
fn fs(in: Corner) -> @location(0) vec4<f32> {
  let texel = textureSample(glyphs, nearest, in.uv, in.layer).rgb;
  return vec4<f32>(mix(params.ink.rgb, params.paper.rgb, texel), 1.0);
}
`;

const renderers = new WeakMap(); // GPUDevice → Map(format → Promise<renderer>)

/**
 * A renderer for one device and target format; the pipeline is created once (asynchronously).
 * `draw(encoder, glyphs, target, options)` records one render pass onto `target` (a GPUTexture with
 * RENDER_ATTACHMENT usage, e.g. a canvas's getCurrentTexture()) and submits nothing. Options:
 * columns (default: all layers in one row), scale (default 1), ink and paper ([r, g, b] in 0…1;
 * default black and white), background (the clear colour, [r, g, b, a]; default opaque paper),
 * layers (how many to draw; default all).
 */
export function createGlyphRenderer(device, format) {
  let perDevice = renderers.get(device);
  if (!perDevice) renderers.set(device, (perDevice = new Map()));
  let renderer = perDevice.get(format);
  if (renderer) return renderer;
  const module = device.createShaderModule({ label: "glyph-quads.wgsl", code: SHADER });
  renderer = device
    .createRenderPipelineAsync({
      label: `glyph-quads:${format}`,
      layout: "auto",
      vertex: { module, entryPoint: "vs" },
      fragment: { module, entryPoint: "fs", targets: [{ format }] },
      primitive: { topology: "triangle-strip" },
    })
    .then((pipeline) => {
      const sampler = device.createSampler({
        label: "glyph-quads:nearest",
        magFilter: "nearest",
        minFilter: "nearest",
      });
      return {
        draw: (encoder, glyphs, target, options) =>
          drawInto(device, pipeline, sampler, encoder, glyphs, target, options),
      };
    });
  perDevice.set(format, renderer);
  return renderer;
}

function drawInto(device, pipeline, sampler, encoder, glyphs, target, options = {}) {
  const layers = options.layers ?? glyphs.depthOrArrayLayers;
  const columns = options.columns ?? layers;
  const scale = options.scale ?? 1;
  const ink = options.ink ?? [0, 0, 0];
  const paper = options.paper ?? [1, 1, 1];
  const background = options.background ?? [...paper, 1];
  // Params: ink (16 bytes), paper (16), cell (8), canvas (8), columns (4), padded to 64.
  const params = new ArrayBuffer(64);
  new Float32Array(params, 0, 12).set([
    ...ink,
    1,
    ...paper,
    1,
    glyphs.width * scale,
    glyphs.height * scale,
    target.width,
    target.height,
  ]);
  new Uint32Array(params, 48, 1)[0] = columns;
  const uniforms = device.createBuffer({
    label: "glyph-quads:params",
    size: params.byteLength,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(uniforms, 0, params);
  const bindGroup = device.createBindGroup({
    label: "glyph-quads",
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: uniforms } },
      // "2d-array" explicitly: a one-layer texture's default view would be a plain 2d view.
      { binding: 1, resource: glyphs.createView({ dimension: "2d-array" }) },
      { binding: 2, resource: sampler },
    ],
  });
  const pass = encoder.beginRenderPass({
    label: "glyph-quads",
    colorAttachments: [
      { view: target.createView(), loadOp: "clear", storeOp: "store", clearValue: background },
    ],
  });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.draw(4, layers);
  pass.end();
}

/** Draws the glyph layers onto `target` in one encoder and one submit (see createGlyphRenderer). */
export async function drawGlyphLayers(device, glyphs, target, options = {}) {
  const renderer = await createGlyphRenderer(device, target.format);
  const encoder = device.createCommandEncoder({ label: "glyph-quads" });
  renderer.draw(encoder, glyphs, target, options);
  device.queue.submit([encoder.finish()]);
}
