// Winograd F(4×4, 3×3), step 1 of 3: the input transform V = B^T d B (shaders/include/winograd.wgsl
// has the layouts). Thread-to-data mapping: global_invocation_id.x = one tile t (consecutive lanes
// take consecutive tiles, so their 36 stores are contiguous runs of V), workgroup_id.y = one input
// channel ci. A lane reads the 6×6 patch of rows 4·ty − PAD … 4·ty + 5 − PAD and columns likewise
// of its image and channel: reflect-padded by PAD = 1 for the 3×3 convolution; with PAD = 0, the
// unpadded patch for the decoder's phase filters (their outputs sit at stored rows and columns
// 1 … size − 2). A tile sticking out past the image reads clamped rows and columns (its outputs
// past the edge are never stored). Lanes of the padding (tiles_pad − T tiles) write zeros.
// POLYPHASE (a stride-2 4×4 convolution with reflect padding 1, src/ops/winograd.ts): the input
// stored is 2·height × 2·width with params.cin / 4 channels, and channel q = 4·c + 2·py + px of the
// 3×3 convolution is its phase (py, px), X[c][2i + py][2j + px], on the height × width grid. The
// reflect padding of the stored input becomes a clamp of the phase index (the odd phase's row −1
// is stored row 1 = its row 0, the even phase's row height is stored row 2·height − 2 = its row
// height − 1), so the phases are read in place, with no copy.

//#include "include/winograd.wgsl"

override WG: u32 = 64u;
override PAD: i32 = 1;
override POLYPHASE: bool = false;

@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> transformed: array<f32>;

// Row or column i − PAD of the reflect-padded image (size values), clamped into it; of a phase
// grid (POLYPHASE), clamped.
fn source_index(i: i32, size: i32) -> i32 {
  var r = i - PAD;
  if (POLYPHASE) { return clamp(r, 0, size - 1); }
  if (r < 0) { r = -r; }
  if (r >= size) { r = 2 * size - 2 - r; }
  return clamp(r, 0, size - 1);
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  let t = gid.x;
  let ci = wg.y;
  let tiles = params.batch * params.tiles_h * params.tiles_w;
  if (t >= params.tiles_pad) { return; }
  let plane = params.tiles_pad * params.cin;
  let out = ci * params.tiles_pad + t;
  if (t >= tiles) {
    for (var p = 0u; p < 36u; p++) { transformed[p * plane + out] = 0.0; }
    return;
  }
  let tx = t % params.tiles_w;
  let ty = (t / params.tiles_w) % params.tiles_h;
  let image = t / (params.tiles_w * params.tiles_h);
  let h = i32(params.height);
  let w = i32(params.width);
  // the stored plane: this channel's, or (POLYPHASE) its phase's of 4× the size
  let step = select(1u, 2u, POLYPHASE);
  let stored_w = step * params.width;
  var base = (image * params.cin + ci) * params.height * params.width;
  if (POLYPHASE) { base = (image * params.cin / 4u + ci / 4u) * 4u * params.height * params.width; }
  let py = select(0u, (ci / 2u) % 2u, POLYPHASE);
  let px = select(0u, ci % 2u, POLYPHASE);
  var cols: array<u32, 6>;
  var rows: array<u32, 6>;
  for (var i = 0; i < 6; i++) {
    cols[i] = step * u32(source_index(4 * i32(tx) + i, w)) + px;
    rows[i] = base + (step * u32(source_index(4 * i32(ty) + i, h)) + py) * stored_w;
  }
  // B^T d: each column of the patch
  var bd: array<array<f32, 6>, 6>; // [row][col]
  for (var c = 0; c < 6; c++) {
    let col = winograd_bt(array<f32, 6>(input[rows[0] + cols[c]], input[rows[1] + cols[c]],
                                        input[rows[2] + cols[c]], input[rows[3] + cols[c]],
                                        input[rows[4] + cols[c]], input[rows[5] + cols[c]]));
    for (var r = 0; r < 6; r++) { bd[r][c] = col[r]; }
  }
  // (B^T d) B: each row
  for (var r = 0u; r < 6u; r++) {
    let row = winograd_bt(bd[r]);
    for (var c = 0u; c < 6u; c++) { transformed[(6u * r + c) * plane + out] = row[c]; }
  }
}
