// Winograd F(4×4, 3×3), step 3 of 3: the output transform Y = A^T M A, plus bias and activation,
// stored NCHW (shaders/include/winograd.wgsl has the layouts). Thread-to-data mapping:
// global_invocation_id.x = one tile t (consecutive lanes read consecutive values of M),
// workgroup_id.y = one output channel co (so its bias is the same for the workgroup). A lane stores
// the pixels of its 4×4 tile that lie inside the image.
// PHASES (the decoder's ×2-upsampling 5×5 convolution, src/ops/winograd.ts): M holds the four
// phase filters' products, channel phase · cout + co (params.cout = 4 · cout), and tile pixel
// (y, x) is stored pixel (y, x), whose phase (b, a) = (phase / 2, phase % 2) output is pixel
// (2y + b, 2x + a) of the 2·height × 2·width output; stored unless it lies on the output's
// outermost ring (rows and columns 0 and the last), which the direct kernel writes (FRAME_ONLY).
// FILTER2 (the stride-2 4×4 convolution's phases, F(4×4, 2×2)): M holds 25 positions, a 5×5
// product tile, transformed by A^T of 4×5.

//#include "include/winograd.wgsl"

override WG: u32 = 64u;
override ACT: u32 = 0u; // 0 none, 1 ReLU, 2 tanh
override PHASES: bool = false;
override FILTER2: bool = false;

@group(0) @binding(1) var<storage, read> products: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

fn activate(v: f32) -> f32 {
  if (ACT == 1u) { return max(v, 0.0); }
  if (ACT == 2u) { return tanh(v); }
  return v;
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  let t = gid.x;
  let cout = select(params.cout, params.cout / 4u, PHASES);
  let co = wg.y % cout;
  let phase = wg.y / cout;
  if (t >= params.batch * params.tiles_h * params.tiles_w) { return; }
  let plane = params.tiles_pad * params.cout;
  let at = wg.y * params.tiles_pad + t;
  // A^T m: each column of the 6×6 (FILTER2: 5×5) product tile
  var am: array<array<f32, 6>, 4>; // [row][col]
  if (FILTER2) {
    for (var c = 0u; c < 5u; c++) {
      let col = winograd_at2(array<f32, 5>(products[c * plane + at],
                                           products[(5u + c) * plane + at],
                                           products[(10u + c) * plane + at],
                                           products[(15u + c) * plane + at],
                                           products[(20u + c) * plane + at]));
      for (var r = 0u; r < 4u; r++) { am[r][c] = col[r]; }
    }
  } else {
    for (var c = 0u; c < 6u; c++) {
      let col = winograd_at(array<f32, 6>(products[c * plane + at],
                                          products[(6u + c) * plane + at],
                                          products[(12u + c) * plane + at],
                                          products[(18u + c) * plane + at],
                                          products[(24u + c) * plane + at],
                                          products[(30u + c) * plane + at]));
      for (var r = 0u; r < 4u; r++) { am[r][c] = col[r]; }
    }
  }
  let tx = t % params.tiles_w;
  let ty = (t / params.tiles_w) % params.tiles_h;
  let image = t / (params.tiles_w * params.tiles_h);
  let b = bias[co];
  let out_h = select(params.height, 2u * params.height, PHASES);
  let out_w = select(params.width, 2u * params.width, PHASES);
  let base = (image * cout + co) * out_h * out_w;
  // (A^T m) A: each row, stored where it lies inside the image
  for (var r = 0u; r < 4u; r++) {
    let y = 4u * ty + r;
    var row = winograd_at(am[r]);
    if (FILTER2) {
      row = winograd_at2(array<f32, 5>(am[r][0], am[r][1], am[r][2], am[r][3], am[r][4]));
    }
    for (var c = 0u; c < 4u; c++) {
      let x = 4u * tx + c;
      var stored = y < params.height && x < params.width;
      var at_out = y * out_w + x;
      if (PHASES) {
        let oy = 2u * y + phase / 2u;
        let ox = 2u * x + phase % 2u;
        stored = stored && oy > 0u && ox > 0u && oy < out_h - 1u && ox < out_w - 1u;
        at_out = oy * out_w + ox;
      }
      if (stored) { output[base + at_out] = activate(row[c] + b); }
    }
  }
}
