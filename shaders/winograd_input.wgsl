// Winograd F(4×4, 3×3), step 1 of 3: the input transform V = B^T d B (shaders/include/winograd.wgsl
// has the layouts). Thread-to-data mapping: global_invocation_id.x = one tile t (consecutive lanes
// take consecutive tiles, so their 36 stores are contiguous runs of V), workgroup_id.y = one input
// channel ci. A lane reads the 6×6 patch of rows 4·ty − 1 … 4·ty + 4 and columns likewise of its
// image and channel, padded by 1: reflected for the 3×3 convolution; with REPLICATE, the edge row
// or column repeated, for the decoder's phase filters (a ×2-upsampled, reflect-padded image is
// that, seen from the stored pixels, everywhere but its outermost output ring:
// src/ops/winograd.ts).
// A tile sticking out past the image reads clamped rows and columns (its outputs past the edge are
// never stored). Lanes of the padding (tiles_pad − T tiles) write zeros.
// POLYPHASE (a stride-2 4×4 convolution with reflect padding 1, src/ops/winograd.ts): F(4×4, 2×2)
// instead, 25 positions. The input stored is 2·height × 2·width with params.cin / 4 channels, and
// channel q = 4·c + 2·py + px of the GEMM is its phase (py, px), X[c][2i + py][2j + px] on the
// height × width grid, whose 2×2 filter sits at phase offsets −py … 1 − py (rows; columns
// likewise): a lane reads the 5×5 patch of phase rows 4·ty − py … 4·ty + 4 − py. The reflect
// padding of the stored input becomes a clamp of the phase index (the odd phase's row −1 is stored
// row 1 = its row 0, the even phase's row height is stored row 2·height − 2 = its row height − 1),
// so the phases are read in place, with no copy.

//#include "include/winograd.wgsl"

override WG: u32 = 64u;
override REPLICATE: bool = false;
override POLYPHASE: bool = false;

@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> transformed: array<f32>;

// Row or column i − 1 of the image (size values) padded by 1, clamped into it.
fn source_index(i: i32, size: i32) -> i32 {
  var r = i - 1;
  if (!REPLICATE) {
    if (r < 0) { r = -r; }
    if (r >= size) { r = 2 * size - 2 - r; }
  }
  return clamp(r, 0, size - 1);
}

// POLYPHASE: V = B^T d B of channel ci's 5×5 phase patch for tile (image, ty, tx), into V[p][ci][t].
fn polyphase_tile(image: u32, ty: u32, tx: u32, ci: u32, out: u32, plane: u32) {
  let py = (ci / 2u) % 2u;
  let px = ci % 2u;
  let stored_w = 2u * params.width;
  let base = (image * params.cin / 4u + ci / 4u) * 4u * params.height * params.width;
  var cols: array<u32, 5>;
  var rows: array<u32, 5>;
  for (var i = 0u; i < 5u; i++) {
    let col = clamp(i32(4u * tx + i) - i32(px), 0, i32(params.width) - 1);
    let row = clamp(i32(4u * ty + i) - i32(py), 0, i32(params.height) - 1);
    cols[i] = 2u * u32(col) + px;
    rows[i] = base + (2u * u32(row) + py) * stored_w;
  }
  var bd: array<array<f32, 5>, 5>; // [row][col]
  for (var c = 0; c < 5; c++) {
    let col = winograd_bt2(array<f32, 5>(input[rows[0] + cols[c]], input[rows[1] + cols[c]],
                                         input[rows[2] + cols[c]], input[rows[3] + cols[c]],
                                         input[rows[4] + cols[c]]));
    for (var r = 0; r < 5; r++) { bd[r][c] = col[r]; }
  }
  for (var r = 0u; r < 5u; r++) {
    let row = winograd_bt2(bd[r]);
    for (var c = 0u; c < 5u; c++) { transformed[(5u * r + c) * plane + out] = row[c]; }
  }
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
    for (var p = 0u; p < select(36u, 25u, POLYPHASE); p++) { transformed[p * plane + out] = 0.0; }
    return;
  }
  let tx = t % params.tiles_w;
  let ty = (t / params.tiles_w) % params.tiles_h;
  let image = t / (params.tiles_w * params.tiles_h);
  if (POLYPHASE) {
    polyphase_tile(image, ty, tx, ci, out, plane);
    return;
  }
  let h = i32(params.height);
  let w = i32(params.width);
  let base = (image * params.cin + ci) * params.height * params.width;
  var cols: array<u32, 6>;
  var rows: array<u32, 6>;
  for (var i = 0; i < 6; i++) {
    cols[i] = u32(source_index(4 * i32(tx) + i, w));
    rows[i] = base + u32(source_index(4 * i32(ty) + i, h)) * params.width;
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
