//! Winograd convolution F(m x m, 3 x 3) for 3x3, stride-1, dilation-1 layers (Lavin & Gray,
//! "Fast Algorithms for Convolutional Neural Networks", 2016).
//!
//! The output is cut into m x m tiles; each needs an `alpha x alpha` input tile
//! (alpha = m + 2). Per tile and channel pair the convolution becomes alpha^2 products
//! instead of 9 m^2: 2.25x fewer for F(2x2), 4x for F(4x4), 5.06x for F(6x6). Grouped by
//! transform element `xi`, those products are alpha^2 independent GEMMs:
//!
//! ```text
//! U[xi] (K x C)   = G g G^T       per filter, at plan creation, packed as GEMM panels
//! V[xi] (C x T)   = B^T d B       per input tile                  (transform.rs)
//! M[xi] (K x T)   = U[xi] V[xi]   alpha^2 GEMMs on the packed microkernels
//! y               = A^T M A       per output tile, then the epilogue (transform.rs)
//! ```
//!
//! Work is cut into blocks of whole tile rows, sized so that a block's V and M (alpha^2 *
//! (C + K) * tiles floats) stay within L2 while its GEMMs run. Threads take blocks; where a
//! map has fewer blocks than threads (7x7 and 14x14 maps), they split K instead, each
//! transforming the block's input itself (a small fraction of the GEMM work there, and no
//! barrier). The GEMMs run as rows = K, columns = tiles, or transposed (rows = tiles, for
//! maps with few tiles), whichever pads less; either way M is laid out K x T, which is what
//! the output transform reads.

pub(crate) mod matrices;
pub(crate) mod transform;

use crate::aligned::{ALIGN_FLOATS, align_scratch, round_up};
use crate::dispatch::KernelTable;
use crate::epilogue::Activation;
use crate::gemm::blocking::{Blocking, blocking, cache_sizes};
use crate::gemm::driver::{GemmTask, Operand, TaskEpilogue, part_scratch_len};
use crate::gemm::microkernel::TileKernel;
use crate::gemm::pack::{PackedPanels, StridedSource};
use crate::gemm::tile_choice::padding_cost;
use crate::shape::{Conv2dDesc, Conv2dShape};
use rayon::prelude::*;
use std::ops::Range;
use transform::{InputJob, OutputJob};

/// Output tile size: F(2x2, 3x3), F(4x4, 3x3) or F(6x6, 3x3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Variant {
    F2,
    F4,
    F6,
}

impl Variant {
    /// Output tile side.
    pub(crate) fn m(self) -> usize {
        match self {
            Variant::F2 => 2,
            Variant::F4 => 4,
            Variant::F6 => 6,
        }
    }

    /// Input tile side, m + 2.
    pub(crate) fn alpha(self) -> usize {
        self.m() + 2
    }

    /// Index into the kernel table's transform arrays.
    pub(crate) fn index(self) -> usize {
        match self {
            Variant::F2 => 0,
            Variant::F4 => 1,
            Variant::F6 => 2,
        }
    }

    /// Transforms `filter` (3x3) into `out`, `alpha^2` floats in `xi` order.
    fn transform_filter(self, filter: &[f32], out: &mut [f32]) {
        fn into<const A: usize>(g: &[[f64; 3]; A], filter: &[f32], out: &mut [f32]) {
            let mut u = [[0.0f32; A]; A];
            matrices::transform_filter(g, filter, &mut u);
            out.copy_from_slice(u.as_flattened());
        }
        match self {
            Variant::F2 => into(&matrices::F2_G, filter, out),
            Variant::F4 => into(&matrices::F4_G, filter, out),
            Variant::F6 => into(&matrices::F6_G, filter, out),
        }
    }
}

/// A Winograd plan's layout: transformed weights, GEMM shape and work split.
pub(crate) struct Winograd {
    variant: Variant,
    tile: &'static TileKernel,
    /// GEMM rows are tiles (and columns channels), not the other way round.
    transposed: bool,
    blocking: Blocking,
    /// U of group g and element xi at `g * alpha^2 + xi`, panels of the GEMM's U operand.
    weights: Vec<PackedPanels>,
    tiles_h: usize,
    tiles_w: usize,
    /// Blocks of tile rows, and parts of K each is split into.
    blocks: usize,
    k_parts: usize,
    workers: usize,
    /// Floats of one worker's scratch, in order: deinterleaved rows, V, M, GEMM packing.
    q_len: usize,
    v_len: usize,
    m_len: usize,
    gemm_len: usize,
    /// Row stride of V and M: the largest block's tiles, rounded to whole cache lines.
    stride: usize,
}

/// Tile rows `b * total / parts .. (b + 1) * total / parts`: balanced to one row.
fn block_rows(total: usize, parts: usize, b: usize) -> Range<usize> {
    b * total / parts..(b + 1) * total / parts
}

/// Panels of `width` over `len`, in `parts` bands: band `p` (as the GEMM's thread split).
fn band(len: usize, width: usize, parts: usize, p: usize) -> Range<usize> {
    let panels = len.div_ceil(width);
    (p * panels / parts * width)..((p + 1) * panels / parts * width).min(len)
}

/// The output and epilogue of one (image, group), shared by the workers, which write
/// disjoint blocks and channels of it.
struct Target {
    out: *mut f32,
    epilogue: TaskEpilogue,
}

// SAFETY: workers only read the epilogue's vectors and residual, and write disjoint parts of
// `out` (different tile rows, or different channels of the same rows).
unsafe impl Sync for Target {}

impl Winograd {
    pub(crate) fn new(
        variant: Variant,
        desc: &Conv2dDesc,
        s: &Conv2dShape,
        weights: &[f32],
        kernels: &'static KernelTable,
        threads: usize,
    ) -> Winograd {
        let (m, alpha) = (variant.m(), variant.alpha());
        let a2 = alpha * alpha;
        let (cg, kg) = (s.group_in_channels, s.group_out_channels);
        let (tiles_h, tiles_w) = (s.out_h.div_ceil(m), s.out_w.div_ceil(m));

        // Blocks: the fewest (a multiple of the threads, while there are rows to share)
        // whose V and M fit in 3/4 of L2.
        let budget = cache_sizes().l2 * 3 / 4 / size_of::<f32>();
        let working_set = |rows: usize| a2 * (cg + kg) * rows * tiles_w;
        let mut blocks = threads.min(tiles_h);
        while blocks < tiles_h && working_set(tiles_h.div_ceil(blocks)) > budget {
            blocks = (blocks + threads.min(tiles_h)).min(tiles_h);
        }
        let max_rows = tiles_h.div_ceil(blocks);
        let block_tiles = max_rows * tiles_w;
        let k_parts = if blocks >= threads { 1 } else { threads.div_ceil(blocks) };

        // Family and orientation: least padded work for one block's GEMM (K split included).
        let k_share = kg.div_ceil(k_parts);
        let mut best: Option<(f64, &'static TileKernel, bool)> = None;
        for tile in kernels.tiles {
            for transposed in [false, true] {
                let cost = if transposed {
                    // Tiles merged into the K x T layout through a buffer, once per pass over C.
                    let kc = blocking(tile, cg, false).kc as f64;
                    padding_cost(block_tiles, tile.mr) * padding_cost(k_share, tile.nr) * (1.0 + 32.0 / kc)
                } else {
                    padding_cost(k_share, tile.mr) * padding_cost(block_tiles, tile.nr)
                };
                if best.is_none_or(|(c, _, _)| cost < c - 1e-9) {
                    best = Some((cost, tile, transposed));
                }
            }
        }
        let (_, tile, transposed) = best.expect("every ISA has a tile kernel");
        let width = if transposed { tile.nr } else { tile.mr };
        let k_parts = k_parts.min(kg.div_ceil(width));

        let mut u = vec![0.0f32; a2 * kg * cg];
        let mut packed = Vec::with_capacity(desc.groups * a2);
        for g in 0..desc.groups {
            for k in 0..kg {
                for c in 0..cg {
                    let filter = &weights[((g * kg + k) * cg + c) * 9..][..9];
                    let mut transformed = [0.0f32; 64];
                    variant.transform_filter(filter, &mut transformed[..a2]);
                    for (xi, &value) in transformed[..a2].iter().enumerate() {
                        u[(xi * kg + k) * cg + c] = value;
                    }
                }
            }
            for xi in 0..a2 {
                let source = StridedSource {
                    data: &u[xi * kg * cg..][..kg * cg],
                    free_len: kg,
                    k_len: cg,
                    free_stride: cg,
                    k_stride: 1,
                };
                packed.push(PackedPanels::new(&source, width));
            }
        }

        let stride = round_up(block_tiles);
        let blocking = blocking(tile, cg, false);
        let gemm_rows = if transposed { block_tiles } else { kg };
        Winograd {
            variant,
            tile,
            transposed,
            blocking,
            weights: packed,
            tiles_h,
            tiles_w,
            blocks,
            k_parts,
            workers: threads.min(blocks * k_parts).max(1),
            q_len: round_up(cg * (max_rows * m + 2) * m * (tiles_w + 1)),
            v_len: round_up(a2 * cg * stride),
            m_len: round_up(a2 * kg * stride),
            gemm_len: part_scratch_len(!transposed, transposed, tile, blocking, gemm_rows),
            stride,
        }
    }

    pub(crate) fn variant(&self) -> Variant {
        self.variant
    }

    pub(crate) fn tile_name(&self) -> &'static str {
        self.tile.name
    }

    pub(crate) fn transposed(&self) -> bool {
        self.transposed
    }

    pub(crate) fn weight_bytes(&self) -> usize {
        self.weights.iter().map(PackedPanels::bytes).sum()
    }

    fn worker_len(&self) -> usize {
        self.q_len + self.v_len + self.m_len + self.gemm_len
    }

    pub(crate) fn scratch_len(&self) -> usize {
        ALIGN_FLOATS + self.workers * self.worker_len()
    }

    /// One (image, group): `image` its C/g input planes, `out` its first output channel
    /// (planes `pixels` apart), `epilogue` pointing at that channel.
    ///
    /// # Safety
    /// `out` (and the epilogue's residual) are valid for K/g planes of OH*OW floats; the
    /// epilogue vectors hold K/g channels from there; `scratch` holds `scratch_len()`
    /// floats; the kernels passed the CPU check.
    #[allow(clippy::too_many_arguments)]
    pub(crate) unsafe fn run(
        &self,
        desc: &Conv2dDesc,
        s: &Conv2dShape,
        kernels: &KernelTable,
        group: usize,
        image: &[f32],
        out: *mut f32,
        epilogue: TaskEpilogue,
        scratch: &mut [f32],
    ) {
        let target = Target { out, epilogue };
        let tasks = self.blocks * self.k_parts;
        let worker_len = self.worker_len();
        let scratch = &mut align_scratch(scratch)[..self.workers * worker_len];
        scratch.par_chunks_mut(worker_len).enumerate().for_each(|(w, buffer)| {
            for task in (w..tasks).step_by(self.workers) {
                // SAFETY: forwarded contract; tasks write disjoint parts of the output.
                unsafe { self.run_task(desc, s, kernels, group, image, &target, task, buffer) };
            }
        });
    }

    /// # Safety
    /// As [`Winograd::run`]; `buffer` is one worker's aligned scratch.
    #[allow(clippy::too_many_arguments)]
    unsafe fn run_task(
        &self,
        desc: &Conv2dDesc,
        s: &Conv2dShape,
        kernels: &KernelTable,
        group: usize,
        image: &[f32],
        target: &Target,
        task: usize,
        buffer: &mut [f32],
    ) {
        let (m, alpha) = (self.variant.m(), self.variant.alpha());
        let a2 = alpha * alpha;
        let (cg, kg) = (s.group_in_channels, s.group_out_channels);
        let rows = block_rows(self.tiles_h, self.blocks, task / self.k_parts);
        let width = if self.transposed { self.tile.nr } else { self.tile.mr };
        let channels = band(kg, width, self.k_parts, task % self.k_parts);
        if rows.is_empty() || channels.is_empty() {
            return;
        }
        let (tile_rows, tiles) = (rows.len(), rows.len() * self.tiles_w);
        let (q, rest) = buffer.split_at_mut(self.q_len);
        let (v, rest) = rest.split_at_mut(self.v_len);
        let (mbuf, gemm_scratch) = rest.split_at_mut(self.m_len);
        let image_rows = tile_rows * m + 2;
        let qw = self.tiles_w + 1;
        deinterleave(desc, image, rows.start * m, image_rows, m, qw, &mut q[..cg * image_rows * m * qw]);

        let input = InputJob {
            q: q.as_ptr(),
            channels: cg,
            rows: image_rows,
            qw,
            tile_rows,
            tiles_w: self.tiles_w,
            v: v.as_mut_ptr(),
            vs: self.stride,
        };
        // SAFETY: q holds cg * image_rows * m * qw floats, v holds a2 * cg * stride, and
        // stride >= tiles; the kernels passed the CPU check.
        unsafe { (kernels.winograd_input[self.variant.index()])(&input) };

        let identity = TaskEpilogue {
            channels_on_rows: true,
            scale: std::ptr::null(),
            shift: std::ptr::null(),
            residual: std::ptr::null(),
            activation: Activation::Identity,
        };
        for xi in 0..a2 {
            let vx = StridedSource {
                data: &v[xi * cg * self.stride..][..cg * self.stride],
                free_len: tiles,
                k_len: cg,
                free_stride: 1,
                k_stride: self.stride,
            };
            let u = Operand::Packed(&self.weights[group * a2 + xi]);
            let (gm, gn, a, b, rs_c, cs_c) = if self.transposed {
                (tiles, kg, Operand::Source(&vx), u, 1, self.stride)
            } else {
                (kg, tiles, u, Operand::Source(&vx), self.stride, 1)
            };
            let gemm = GemmTask {
                m: gm,
                n: gn,
                k: cg,
                a,
                b,
                c: mbuf[xi * kg * self.stride..].as_mut_ptr(),
                rs_c,
                cs_c,
                epilogue: identity,
                tile: self.tile,
                epilogue_fn: kernels.epilogue,
                blocking: self.blocking,
            };
            let (row_range, col_range) =
                if self.transposed { (0..tiles, channels.clone()) } else { (channels.clone(), 0..tiles) };
            // SAFETY: M of xi holds kg rows of `stride >= tiles` floats; U is packed for
            // kg x cg at this orientation's width; the ranges start on panel boundaries
            // (channels is a band of whole panels); scratch is aligned (every part of the
            // worker's buffer is a multiple of the alignment) and holds part_scratch_len
            // for the most rows a task has.
            unsafe { gemm.run_part(row_range, col_range, gemm_scratch) };
        }

        let first_row = rows.start * m;
        let e = &target.epilogue;
        let offset_channel = |p: *const f32| if p.is_null() { p } else { p.wrapping_add(channels.start) };
        let pixel_offset = channels.start * s.out_pixels() + first_row * s.out_w;
        let output = OutputJob {
            m: mbuf[channels.start * self.stride..].as_ptr(),
            xi_stride: kg * self.stride,
            ms: self.stride,
            channels: channels.len(),
            tile_rows,
            tiles_w: self.tiles_w,
            out: target.out.wrapping_add(pixel_offset),
            plane: s.out_pixels(),
            out_w: s.out_w,
            out_rows: (tile_rows * m).min(s.out_h - first_row),
            scale: offset_channel(e.scale),
            shift: offset_channel(e.shift),
            residual: if e.residual.is_null() { e.residual } else { e.residual.wrapping_add(pixel_offset) },
            activation: e.activation,
        };
        // SAFETY: M holds this task's channels for all a2 elements; the output rows and
        // channels are inside the group's output (caller's contract) and this task's alone;
        // the kernels passed the CPU check.
        unsafe { (kernels.winograd_output[self.variant.index()])(&output) };
    }
}

/// Splits image rows `first .. first + rows` (in padded coordinates) of every channel into
/// their `m` column phases: `q[((c*rows + i)*m + r)*qw + t]` = padded pixel (first + i,
/// t*m + r), zero outside the image.
fn deinterleave(desc: &Conv2dDesc, image: &[f32], first: usize, rows: usize, m: usize, qw: usize, q: &mut [f32]) {
    let (h, w, pad) = (desc.in_h, desc.in_w, desc.padding);
    let plane = h * w;
    for (c, channel) in q.chunks_exact_mut(rows * m * qw).enumerate() {
        for (i, phases) in channel.chunks_exact_mut(m * qw).enumerate() {
            let y = (first + i).wrapping_sub(pad.top);
            if y >= h {
                phases.fill(0.0);
                continue;
            }
            let line = &image[c * plane + y * w..][..w];
            for (r, phase) in phases.chunks_exact_mut(qw).enumerate() {
                for (t, value) in phase.iter_mut().enumerate() {
                    let x = (t * m + r).wrapping_sub(pad.left);
                    *value = if x < w { line[x] } else { 0.0 };
                }
            }
        }
    }
}
