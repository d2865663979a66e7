// The row-tiled convolution for CPU adapters, for conv2d_direct.wgsl and conv2d_subgroup.wgsl.
// The entry file gives the weight binding (binding 2), `load_weights(k, c0, lane)` (a weight row
// for COB channels), `load_weights4` (4 rows) and the entry point, which calls convolve();
// everything else is here.
//
// Register tiling: a lane owns PX output pixels along x for COB output channels (PX · COB
// accumulators), each loaded weight feeds PX multiply-adds and each input value feeds COB, and the
// PX pixels' taps along x overlap: the lane keeps a sliding window of PX input values per residue
// of the tap modulo STRIDE and loads one new value per tap ((PX − 1) · STRIDE + KSIZE loads per
// kernel row, not KSIZE · PX). On rows of whole vec4s, the content encoder's stride-2 4×4
// convolutions (strided4x4_row) and the stride-1 ones padded by KSIZE / 2 (same_row: the 7×7s)
// load a run's own columns as vec4s and take the columns beside it from the neighbouring lanes
// (the entry file says how: runs_beside, from_run_before, from_run_after); same_row also takes
// PX 8 (two vec4s a row and input channel, the weights loaded once for both halves; the host
// picks it only for such rows of whole vec8s, src/ops/conv-tiles.ts takesSameRow8). There is
// no workgroup memory and no barrier; every weight index is the same for the whole workgroup (it
// depends only on loop counters and workgroup_id). Reflect padding, nearest ×2 upsampling, bias
// and activation are fused, as in the tiled kernel.
//
// Thread-to-data mapping: invocation (global_invocation_id.x) = one run of PX consecutive output
// pixels of one row of one image (the last run of a row may stick out past the edge: those pixels
// are computed on clamped columns and not stored); workgroup_id.y = a block of COB output channels
// (4, 8 or 16) shared by the workgroup. acc[4p + q] holds pixel p's channels c0 + 4q … c0 + 4q + 3.
// The reduction runs ky outermost, then the tap residues, then input channels, then kx (so the
// window slides along x).
//
// PHASES (for the decoder's 5×5 convolutions of ×2 nearest-upsampled inputs: KSIZE 5, pad 2,
// STRIDE 1, UPSAMPLE 2; src/runtime/kernels.ts refuses other shapes) splits the output into parts
// that write disjoint pixels. Away from the reflect padding, output pixel (2m + b, 2n + a) sees
// stored rows m − 1 … m + 1 and columns n − 1 … n + 1 only, and taps that read the same stored
// value add their weights: a 3×3 filter per output phase (b, a), 9 multiply-adds instead of 25.
//   workgroup_id.z = 2b + a < 4: the interior pixels of phase (b, a), so a workgroup shares one
//     filter; a lane owns PX pixels 2n + a, n = n0 … n0 + PX − 1, of one row and slides a window
//     over stored columns. Weights: the phase filters, [phase][cin·3·3][cout] (src/upload.ts,
//     up2PhaseWeights), bound in place of the 5×5 weights.
//   workgroup_id.z = 4: the frame of width 2 where the padding reflects (with FRAME_ONLY, any z:
//     only its outer ring, width 1, beside a Winograd convolution of the rest,
//     src/ops/winograd.ts). There too, a pixel's taps fall on few stored values: output row 0
//     reads upsampled rows 2, 1, 0, 1, 2 = stored rows 1, 0, 0, 0, 1, and each of the frame's
//     rows 0, 1, 2H − 2, 2H − 1 reads two stored rows. So a pixel of a frame row in column phase a
//     runs a 2 × 3 grouped filter (6 multiply-adds), a pixel of a frame column in row phase b its
//     transpose, a corner a 2 × 2 one; workgroup_id.x picks the part (8 along the rows, 8 down
//     the columns, 16 corners: frame_row_part, frame_column_part, frame_corner_part; the ring's 4,
//     4 and 12), so a workgroup shares one filter (src/upload.ts, up2FrameWeights, after the phase
//     filters).
// Workgroups past the end of their part return at once (the x extent is the larger part's).
//
// Weights are stored transposed, [cin·k·k][cout], as for the tiled kernel.

//#include "conv_common.wgsl"

override WG: u32 = 64u;
override COB: u32 = 8u;        // output channels per workgroup row: 4, 8 or 16
// output pixels per lane along x: 1 … 4, or 8 on same_row's rows of whole vec8s only
override PX: u32 = 4u;
override PHASES: bool = false; // the decoder's upsampling convolution by phases (above)
// With PHASES: the dispatch computes only the reflect frame's outer ring (output rows and columns 0
// and the last), whatever its workgroup_id.z (dispatch z = 1), for a caller that computes the rest
// with other kernels (Winograd).
override FRAME_ONLY: bool = false;

@group(0) @binding(1) var<storage, read> input: array<f32>;
// The same input as vec4s, for the stride-2 4×4 path (bound to the same buffer; read only where
// rows are whole vec4 pairs).
@group(0) @binding(5) var<storage, read> input4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

// Indexed only with constants (after inlining), so the compiler keeps it in registers.
var<private> acc: array<vec4<f32>, 32>;

struct Weights { q0: vec4<f32>, q1: vec4<f32>, q2: vec4<f32>, q3: vec4<f32> }

// The stored input column under position u of the upsampled, padded row (u = ox · STRIDE + kx);
// clamped so that the columns of pixels past the row's end stay inside the row.
fn source_col(u: u32) -> u32 {
  let c = u32(reflect_index(i32(u) - i32(params.pad), i32(params.in_w * UPSAMPLE))) / UPSAMPLE;
  return min(c, params.in_w - 1u);
}

// Pixel p's accumulators += x · the COB weights (p is a constant at every call).
fn accumulate(p: u32, x: f32, w: Weights) {
  acc[4u * p] += w.q0 * x;
  if (COB > 4u) { acc[4u * p + 1u] += w.q1 * x; }
  if (COB > 8u) { acc[4u * p + 2u] += w.q2 * x; acc[4u * p + 3u] += w.q3 * x; }
}

// One tap for all PX pixels: x holds the pixels' input values.
fn accumulate_run(x: vec4<f32>, w: Weights) {
  accumulate_run_at(0u, x, w);
}

// The same for pixels p0 … p0 + 3 (p0 0, or 4 with PX 8).
fn accumulate_run_at(p0: u32, x: vec4<f32>, w: Weights) {
  accumulate(p0, x.x, w);
  if (PX > 1u) { accumulate(p0 + 1u, x.y, w); }
  if (PX > 2u) { accumulate(p0 + 2u, x.z, w); }
  if (PX > 3u) { accumulate(p0 + 3u, x.w, w); }
}

// The PX input values at columns s of the input row starting at `at` (the others are 0, unused).
fn window(at: u32, s: vec4<u32>) -> vec4<f32> {
  var x = vec4<f32>(input[at + s.x], 0.0, 0.0, 0.0);
  if (PX > 1u) { x.y = input[at + s.y]; }
  if (PX > 2u) { x.z = input[at + s.z]; }
  if (PX > 3u) { x.w = input[at + s.w]; }
  return x;
}

// The window one column on: its first value drops out and `next` comes in as value PX − 1.
fn slide(x: vec4<f32>, next: f32) -> vec4<f32> {
  if (PX == 1u) { return vec4<f32>(next, 0.0, 0.0, 0.0); }
  if (PX == 2u) { return vec4<f32>(x.y, next, 0.0, 0.0); }
  if (PX == 3u) { return vec4<f32>(x.y, x.z, next, 0.0); }
  return vec4<f32>(x.y, x.z, x.w, next);
}

// The whole kernel for invocation gid of workgroup wg; `lane` is the subgroup lane for
// conv2d_subgroup's load_weights (0 and unused in conv2d_direct).
fn convolve(gid: vec3<u32>, wg: vec3<u32>, lane: u32) {
  if (PHASES) {
    let c0 = wg.y * COB;
    if (!FRAME_ONLY && wg.z < 4u) {
      grouped_run(gid.x, wg.x, c0, lane, interior_part(wg.z));
      return;
    }
    // the frame: workgroups [0, L·gr) the frame rows' parts, then [.., + L·gc) the frame
    // columns' parts, then K corner parts of gk each (L = 8, K = 16; the ring's L = 4, K = 12)
    let lines = select(8u, 4u, FRAME_ONLY);
    let gr = part_groups(params.in_w - 2u);
    let gc = part_groups(params.in_h - 2u);
    if (wg.x < lines * gr) {
      let i = wg.x / gr;
      grouped_run(gid.x - i * gr * WG, wg.x - i * gr, c0, lane, frame_row_part(frame_line(i)));
      return;
    }
    if (wg.x < lines * (gr + gc)) {
      let i = (wg.x - lines * gr) / gc;
      let g = lines * gr + i * gc;
      grouped_run(gid.x - g * WG, wg.x - g, c0, lane, frame_column_part(frame_line(i)));
      return;
    }
    let gk = (params.batch + WG - 1u) / WG;
    let i = (wg.x - lines * (gr + gc)) / gk;
    if (i >= select(16u, 12u, FRAME_ONLY)) { return; } // past the frame (the x extent is larger)
    let g = lines * (gr + gc) + i * gk;
    grouped_run(gid.x - g * WG, wg.x - g, c0, lane, frame_corner_part(frame_corner(i)));
    return;
  }
  direct(gid.x, wg.y * COB, lane);
}

// The i-th frame row (or column) part: p = 2c + a of line class c; with FRAME_ONLY, of the ring's
// classes 0 and 3 only.
fn frame_line(i: u32) -> u32 {
  return select(i, i + 4u * (i / 2u), FRAME_ONLY);
}

// The i-th corner p = 4r + c; with FRAME_ONLY, of the 12 on the ring (r or c is 0 or 3).
fn frame_corner(i: u32) -> u32 {
  if (!FRAME_ONLY || i < 4u) { return i; }
  if (i >= 8u) { return i + 4u; }
  return 4u * (1u + (i - 4u) / 2u) + 3u * ((i - 4u) % 2u);
}

// Workgroups of one part of the frame: a run of PX pixels along a line of len, per image.
fn part_groups(len: u32) -> u32 {
  return (params.batch * ((len + PX - 1u) / PX) + WG - 1u) / WG;
}

// Invocation id of the plain convolution (not PHASES).
fn direct(id: u32, c0: u32, lane: u32) {
  let runs_w = (params.out_w + PX - 1u) / PX;
  let plane_runs = params.out_h * runs_w;
  let n_runs = params.batch * plane_runs;
  let r = min(id, n_runs - 1u);
  let img = r / plane_runs;
  let q = r - img * plane_runs;
  let oy = q / runs_w;
  let ox0 = (q - oy * runs_w) * PX;
  let u0 = ox0 * STRIDE;        // upsampled, padded position of pixel 0's tap 0
  let up_h = i32(params.in_h * UPSAMPLE);
  let in_plane = params.in_h * params.in_w;
  let img_base = img * params.cin * in_plane;
  let taps = KSIZE * KSIZE;
  let beside = runs_beside(id, lane);

  for (var ky = 0u; ky < KSIZE; ky++) {
    let iy = u32(reflect_index(i32(oy * STRIDE + ky) - i32(params.pad), up_h)) / UPSAMPLE;
    let row_base = img_base + iy * params.in_w;
    if (STRIDE == 2u && KSIZE == 4u && PX == 4u && UPSAMPLE == 1u && params.pad == 1u &&
        params.in_w % 8u == 0u) {
      strided4x4_row(row_base, u0, ky * KSIZE, c0, lane, beside);
      continue;
    }
    if (STRIDE == 1u && KSIZE % 2u == 1u && KSIZE <= 7u && (PX == 4u || PX == 8u) &&
        UPSAMPLE == 1u && params.pad == KSIZE / 2u && params.in_w % PX == 0u) {
      same_row(row_base, ox0, ky * KSIZE, c0, lane, beside);
      continue;
    }
    // Tap kx of pixel p reads position u0 + p · STRIDE + kx: the taps of one residue r = kx mod
    // STRIDE read the positions u0 + r + STRIDE · (p + j), j = kx / STRIDE, a window over every
    // STRIDE-th position that slides one step per j. So each position the run reads is loaded
    // once per input channel: (PX − 1) · STRIDE + KSIZE loads per kernel row, not KSIZE · PX.
    for (var r = 0u; r < min(STRIDE, KSIZE); r++) {
      let u = u0 + r;
      let s = vec4<u32>(source_col(u), source_col(u + STRIDE), source_col(u + 2u * STRIDE),
                        source_col(u + 3u * STRIDE));
      var at = row_base;
      var k = ky * KSIZE + r;
      for (var ci = 0u; ci < params.cin; ci++) {
        var x = window(at, s);
        for (var kx = r; kx + STRIDE < KSIZE; kx += STRIDE) {
          accumulate_run(x, load_weights(k + kx - r, c0, lane));
          // the newcomer is position u0 + kx + STRIDE · PX
          x = slide(x, input[at + source_col(u0 + kx + STRIDE * PX)]);
        }
        // the residue's last tap: kx = r + STRIDE · ⌊(KSIZE − 1 − r) / STRIDE⌋
        accumulate_run(x, load_weights(k + (KSIZE - 1u - r) / STRIDE * STRIDE, c0, lane));
        at += in_plane;
        k += taps;
      }
    }
  }
  if (id >= n_runs) { return; }
  let out_row = img * params.cout * params.out_h * params.out_w + oy * params.out_w;
  // pixels past the row are not stored
  store_pixel(0u, out_row + ox0, ox0 < params.out_w, c0);
  if (PX > 1u) { store_pixel(1u, out_row + ox0 + 1u, ox0 + 1u < params.out_w, c0); }
  if (PX > 2u) { store_pixel(2u, out_row + ox0 + 2u, ox0 + 2u < params.out_w, c0); }
  if (PX > 3u) { store_pixel(3u, out_row + ox0 + 3u, ox0 + 3u < params.out_w, c0); }
  if (PX > 4u) {
    store_pixel(4u, out_row + ox0 + 4u, ox0 + 4u < params.out_w, c0);
    store_pixel(5u, out_row + ox0 + 5u, ox0 + 5u < params.out_w, c0);
    store_pixel(6u, out_row + ox0 + 6u, ox0 + 6u < params.out_w, c0);
    store_pixel(7u, out_row + ox0 + 7u, ox0 + 7u < params.out_w, c0);
  }
}

// One kernel row of the stride-2 4×4 convolution with pad 1 (the content encoder's downsampling)
// on rows of whole vec4 pairs: a lane's 4 pixels read stored columns 8q − 1 … 8q + 8 of the row
// (q = its run in the row); it loads 8q … 8q + 7 as two vec4s (a vec4 costs lavapipe less than two
// scalar loads) and takes column 8q − 1 from the lane of the run before (its last column) and
// 8q + 8 from the lane of the run after (its first), which cost a shuffle, not a load; at the row's
// ends they reflect onto the lane's own columns, and where the run beside is not in the next lane
// (`beside`: the subgroup's edge, or no subgroups) they are loaded.
fn strided4x4_row(row_base: u32, u0: u32, k_row: u32, c0: u32, lane: u32, beside: vec2<bool>) {
  let first = u0 == 0u;
  let last = u0 + 8u >= params.in_w;
  let plane4 = params.in_h * params.in_w / 4u;
  var at = row_base + u0;
  var k = k_row;
  for (var ci = 0u; ci < params.cin; ci++) {
    let lo = input4[at / 4u];
    let hi = input4[at / 4u + 1u];
    var left = from_run_before(hi).w;
    var right = from_run_after(lo).x;
    if (first) {
      left = lo.y;                        // column −1 reflects to 1
    } else if (!beside.x) {
      left = input[at - 1u];
    }
    if (last) {
      right = hi.z;                       // column in_w reflects to in_w − 2
    } else if (!beside.y) {
      right = input[at + 8u];
    }
    // pixel p, tap kx reads column 8q + 2p + kx − 1
    let w = load_weights4(k, c0, lane);
    accumulate_run(vec4<f32>(left, lo.y, lo.w, hi.y), w[0]);
    accumulate_run(vec4<f32>(lo.x, lo.z, hi.x, hi.z), w[1]);
    accumulate_run(vec4<f32>(lo.y, lo.w, hi.y, hi.w), w[2]);
    accumulate_run(vec4<f32>(lo.z, hi.x, hi.z, right), w[3]);
    at += 4u * plane4;
    k += 16u;
  }
}

// One kernel row of a stride-1 convolution padded by KSIZE / 2 on each side (the 7×7 ones) on
// rows of whole vec4s: a lane's 4 pixels at columns 4q … 4q + 3 read columns 4q − PAD …
// 4q + 3 + PAD (PAD = KSIZE / 2 ≤ 3). It loads its own 4 as one vec4 and takes the vec4s of the
// lanes of the runs beside it (loaded where those are not in the next lanes, reflected onto its
// own at the row's ends), then slides the window over those 12 values without another load.
fn same_row(row_base: u32, ox0: u32, k_row: u32, c0: u32, lane: u32, beside: vec2<bool>) {
  let first = ox0 == 0u;
  let last = ox0 + PX >= params.in_w;
  let plane4 = params.in_h * params.in_w / 4u;
  var at = (row_base + ox0) / 4u;
  var k = k_row;
  for (var ci = 0u; ci < params.cin; ci++) {
    let o = input4[at];
    var h = o;                            // the run's last 4 columns (PX 8: its second vec4)
    if (PX == 8u) { h = input4[at + 1u]; }
    var l = from_run_before(h);
    var r = from_run_after(o);
    if (first) {
      l = vec4<f32>(0.0, o.w, o.z, o.y);  // columns −4 … −1 reflect to 4 … 1 (−4 unused)
    } else if (!beside.x) {
      l = input4[at - 1u];
    }
    if (last) {
      r = vec4<f32>(h.z, h.y, h.x, 0.0);  // columns in_w … in_w + 3 reflect to in_w − 2 …
    } else if (!beside.y) {
      r = input4[at + PX / 4u];
    }
    // taps 0 … KSIZE − 1 (KSIZE odd, ≤ 7), their weights 4 taps at once (the row's last load
    // reads past it), shared by PX 8's two halves
    let wa = load_weights4(k, c0, lane);
    var wb = wa;
    if (KSIZE > 3u) { wb = load_weights4(k + 4u, c0, lane); }
    if (PX == 8u) {
      row_taps(0u, l, o, h, wa, wb);
      row_taps(4u, o, h, r, wa, wb);
    } else {
      row_taps(0u, l, o, r, wa, wb);
    }
    at += plane4;
    k += KSIZE * KSIZE;
  }
}

// same_row's taps for pixels p0 … p0 + 3 at columns c … c + 3, from the 12 columns c − 4 …
// c + 7 in l, o, r.
fn row_taps(p0: u32, l: vec4<f32>, o: vec4<f32>, r: vec4<f32>, wa: array<Weights, 4>,
            wb: array<Weights, 4>) {
  var x = vec4<f32>(run_value(l, o, r, 0u), run_value(l, o, r, 1u), run_value(l, o, r, 2u),
                    run_value(l, o, r, 3u));
  accumulate_run_at(p0, x, wa[0]);
  if (KSIZE > 1u) {
    x = slide_tap(p0, x, run_value(l, o, r, 4u), wa[1]);
    x = slide_tap(p0, x, run_value(l, o, r, 5u), wa[2]);
  }
  if (KSIZE > 3u) {
    x = slide_tap(p0, x, run_value(l, o, r, 6u), wa[3]);
    x = slide_tap(p0, x, run_value(l, o, r, 7u), wb[0]);
    if (KSIZE > 5u) {
      x = slide_tap(p0, x, run_value(l, o, r, 8u), wb[1]);
      x = slide_tap(p0, x, run_value(l, o, r, 9u), wb[2]);
    }
  }
}

// The window slid one column on (`next` comes in), then its tap with weights w for pixels p0 ….
fn slide_tap(p0: u32, x: vec4<f32>, next: f32, w: Weights) -> vec4<f32> {
  let y = slide(x, next);
  accumulate_run_at(p0, y, w);
  return y;
}

// Window position j of same_row: column 4q − PAD + j, from the 12 columns 4q − 4 … 4q + 7 held
// in l, o, r.
fn run_value(l: vec4<f32>, o: vec4<f32>, r: vec4<f32>, j: u32) -> f32 {
  let i = j + 4u - KSIZE / 2u;
  if (i < 4u) { return l[i]; }
  if (i < 8u) { return o[i - 4u]; }
  return r[i - 8u];
}

// A part of a PHASES convolution that one 3-tap-wide grouped filter computes: the pixels at
// positions n = 1 … len of `lines` lines per image, pixel (line, n) at output offset out_first +
// line · out_line + n · out_step, reading the stored values first + line · line_step + j · cross +
// (n − 1 + t) · step for slot j < slots and tap t < 3 (positions clamped at `last`). The filter:
// weight rows weights + (ci · slots + j) · 3 + t.
struct Part {
  len: u32, last: u32, lines: u32, line_step: u32, first: u32, step: u32, cross: u32, slots: u32,
  weights: u32, out_first: u32, out_line: u32, out_step: u32,
}

// The interior of phase z = 2b + a (pixels (2m + b, 2n + a), m in 1 … in_h − 2, n in 1 …
// in_w − 2): lines are stored rows m − 1, slots the rows m − 1 … m + 1, taps the columns
// n − 1 … n + 1 (up2PhaseWeights).
fn interior_part(z: u32) -> Part {
  let b = z / 2u;
  let a = z % 2u;
  let w = params.in_w;
  return Part(w - 2u, w - 1u, params.in_h - 2u, w, 0u, 1u, w, 3u, z * params.cin * 9u,
              (2u + b) * params.out_w + a, 2u * params.out_w, 2u);
}

// The first weight row of the frame's grouped filters (src/upload.ts, up2FrameWeights): after
// the phase filters.
fn frame_filters() -> u32 {
  return 4u * params.cin * 9u;
}

// Frame row class c (output rows 0, 1, out_h − 2, out_h − 1), column phase a: p = 2c + a. Its
// taps fall on the stored rows 0, 1 (c < 2) or in_h − 2, in_h − 1 (two slots) and, along the row,
// as in the interior.
fn frame_row_part(p: u32) -> Part {
  let c = p / 2u;
  let w = params.in_w;
  let oy = select(c, params.out_h - 4u + c, c >= 2u);
  let row = select(0u, params.in_h - 2u, c >= 2u);
  return Part(w - 2u, w - 1u, 1u, 0u, row * w, 1u, w, 2u,
              frame_filters() + p * params.cin * 6u, oy * params.out_w + p % 2u, 0u, 2u);
}

// Frame column class c (output columns 0, 1, out_w − 2, out_w − 1), row phase b: p = 2c + b,
// the transpose of frame_row_part (lines run down the column).
fn frame_column_part(p: u32) -> Part {
  let c = p / 2u;
  let h = params.in_h;
  let ox = select(c, params.out_w - 4u + c, c >= 2u);
  let col = select(0u, params.in_w - 2u, c >= 2u);
  return Part(h - 2u, h - 1u, 1u, 0u, col, params.in_w, 1u, 2u,
              frame_filters() + (8u + p) * params.cin * 6u, (p % 2u) * params.out_w + ox, 0u,
              2u * params.out_w);
}

// Corner p = 4r + c: the pixel of frame row class r and frame column class c, whose taps fall on
// 2 × 2 stored values; a lane per image. As a part: one position of a 3-tap line over stored
// columns 0 … 2 (c < 2, the third tap weighs 0) or in_w − 3 … in_w − 1 (the first weighs 0).
fn frame_corner_part(p: u32) -> Part {
  let r = p / 4u;
  let c = p % 4u;
  let w = params.in_w;
  let oy = select(r, params.out_h - 4u + r, r >= 2u);
  let ox = select(c, params.out_w - 4u + c, c >= 2u);
  let first = select(0u, params.in_h - 2u, r >= 2u) * w + select(0u, w - 3u, c >= 2u);
  return Part(1u, 2u, 1u, 0u, first, 1u, w, 2u, frame_filters() + (16u + p) * params.cin * 6u,
              oy * params.out_w + ox, 0u, 0u);
}

// Run id (workgroup `group` of its part) of part g: a lane owns PX consecutive positions
// n0 … n0 + PX − 1 of one line and slides a window over the stored values along it.
fn grouped_run(id: u32, group: u32, c0: u32, lane: u32, g: Part) {
  let runs_line = (g.len + PX - 1u) / PX;
  let plane_runs = g.lines * runs_line;
  let n_runs = params.batch * plane_runs;
  if (group * WG >= n_runs) { return; }
  let r = min(id, n_runs - 1u);
  let img = r / plane_runs;
  let q = r - img * plane_runs;
  let line = q / runs_line;
  let n0 = 1u + (q - line * runs_line) * PX;
  let in_plane = params.in_h * params.in_w;
  // window positions 0 … PX + 1: n0 − 1 + j (clamped for runs past the end)
  let s = vec4<u32>(n0 - 1u, min(n0, g.last), min(n0 + 1u, g.last), min(n0 + 2u, g.last)) * g.step;
  // FRAME_ONLY (conv2d_subgroup's frame next to Winograd), frame rows on stored rows of whole
  // vec4s: positions n0 − 1 … n0 + 2 = 4q … 4q + 3 are one vec4, n0 + 3 and n0 + 4 the first two
  // of the run after's (a shuffle, or a load where that run is not in the next lane); the line's
  // last run needs neither for the pixels it stores (in_w − 1 = 4q + 3 there). ~1.05-1.08x on
  // the 128->64 decoder layer on lavapipe; the interior (conv2d_direct's PHASES) measured no
  // faster, so it keeps the scalar window.
  let row4 =
    FRAME_ONLY && PX == 4u && g.step == 1u && params.in_w % 4u == 0u && g.first % 4u == 0u;
  let beside = runs_beside(id, lane);
  let last_run = n0 + PX > g.len;
  for (var j = 0u; j < g.slots; j++) {
    var at = img * params.cin * in_plane + g.first + line * g.line_step + j * g.cross;
    var k = g.weights + j * 3u;
    for (var ci = 0u; ci < params.cin; ci++) {
      if (row4) {
        let o = input4[(at + n0 - 1u) / 4u];
        var r = from_run_after(o);
        if (last_run) {
          r = o;
        } else if (!beside.y) {
          r = input4[(at + n0 - 1u) / 4u + 1u];
        }
        accumulate_run(o, load_weights(k, c0, lane));
        accumulate_run(vec4<f32>(o.yzw, r.x), load_weights(k + 1u, c0, lane));
        accumulate_run(vec4<f32>(o.zw, r.xy), load_weights(k + 2u, c0, lane));
      } else {
        var x = window(at, s);
        for (var t = 0u; t < 2u; t++) {
          accumulate_run(x, load_weights(k + t, c0, lane));
          x = slide(x, input[at + min(n0 + t + PX - 1u, g.last) * g.step]);
        }
        accumulate_run(x, load_weights(k + 2u, c0, lane));
      }
      at += in_plane;
      k += 3u * g.slots;
    }
  }
  if (id >= n_runs) { return; }
  let out = img * params.cout * params.out_h * params.out_w + g.out_first + line * g.out_line;
  // pixels past the line's end (n > len) are not stored
  store_pixel(0u, out + n0 * g.out_step, n0 <= g.len, c0);
  if (PX > 1u) { store_pixel(1u, out + (n0 + 1u) * g.out_step, n0 + 1u <= g.len, c0); }
  if (PX > 2u) { store_pixel(2u, out + (n0 + 2u) * g.out_step, n0 + 2u <= g.len, c0); }
  if (PX > 3u) { store_pixel(3u, out + (n0 + 3u) * g.out_step, n0 + 3u <= g.len, c0); }
}

// Bias, activation and store of pixel p's COB channels (those past the row or past cout are not
// stored).
fn store_pixel(p: u32, at: u32, stored: bool, c0: u32) {
  if (!stored) { return; }
  let plane_out = params.out_h * params.out_w;
  store4(at, c0, acc[4u * p], plane_out);
  if (COB > 4u) { store4(at, c0 + 4u, acc[4u * p + 1u], plane_out); }
  if (COB > 8u) {
    store4(at, c0 + 8u, acc[4u * p + 2u], plane_out);
    store4(at, c0 + 12u, acc[4u * p + 3u], plane_out);
  }
}

fn store4(out_base: u32, c: u32, a: vec4<f32>, plane_out: u32) {
  for (var i = 0u; i < 4u; i++) {
    if (c + i < params.cout) {
      output[out_base + (c + i) * plane_out] = activate(a[i] + bias[c + i]);
    }
  }
}
