use super::algo::Algo;
use super::depthwise::{DepthwiseBand, DepthwiseGeometry};
use super::kernel_split::KernelSplit;
use super::phases::{PhasedSource, Phases};
use super::winograd::Winograd;
use crate::aligned::{ALIGN, ALIGN_FLOATS, AlignedVec, align_scratch, round_up};
use crate::dispatch::{KernelTable, PlanOptions, table};
use crate::epilogue::Epilogue;
use crate::error::{Error, Result, check_len, checked_product, invalid};
use crate::gemm::blocking::{Blocking, blocking};
use crate::gemm::driver::{Feed, GemmTask, IndirectIndex, IndirectSource, Operand};
use crate::gemm::epilogue::FusedEpilogue;
use crate::gemm::in_place::{InPlaceRows, OffsetRows};
use crate::gemm::microkernel::TileKernel;
use crate::gemm::pack::{PackedPanels, PanelSource, StridedSource};
use crate::gemm::parallel::{self, Split};
use crate::shape::{Conv2dDesc, Conv2dShape, Padding2d};
use rayon::prelude::*;
use std::ops::Range;

/// Where a plan's output channels go in a larger NCHW buffer: channels `first ..
/// first + out_channels` of `total` per image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelSlice {
    pub total: usize,
    pub first: usize,
}

/// A convolution prepared once and run many times: validated, algorithm chosen, weights
/// packed for the GEMM, epilogue folded.
pub struct Conv2d {
    desc: Conv2dDesc,
    shape: Conv2dShape,
    algo: Algo,
    kernels: &'static KernelTable,
    method: Method,
    epilogue: FusedEpilogue,
    /// Threads `run` splits the work over (the depthwise path sizes its scratch by them).
    threads: usize,
}

/// What `run` executes.
enum Method {
    /// The naive loops, on the weights as given.
    Reference(AlignedVec),
    Gemm(GemmLayout),
    /// One filter per output channel, on the weights as given (`[K, 1, R, S]`).
    Depthwise(DepthwiseGeometry, AlignedVec),
    Winograd(Winograd),
    /// A kernel larger than 3x3 as a 3x3 Winograd layer over shifted copies of the input.
    Split(KernelSplit),
}

/// How a GEMM-based plan maps the convolution onto the GEMM.
struct GemmLayout {
    tile: &'static TileKernel,
    blocking: Blocking,
    image: ImageRead,
    /// Packed weights of each group.
    weights: Vec<PackedPanels>,
    split: Split,
    /// Floats of scratch: the padded image (transposed layout with padding), then the GEMM's.
    padded_len: usize,
    scratch_len: usize,
}

/// How the GEMM reads the image.
///
/// Row-major layout (the first three): rows of the GEMM are output channels, columns
/// pixels; C is the output as it lies and the image is packed into B panels on the fly, or
/// read as B where it lies. Transposed
/// (the last): rows are pixels, columns channels, and the image is read in place as A. It
/// vectorises over channels, the better fit when the map is small (7x7: 49 pixels fill 64
/// lanes at best) and the channel count large.
enum ImageRead {
    /// 1x1, stride 1, no padding: the image is the B matrix; panels are row copies.
    Direct,
    /// As `Direct`, with B read where it lies (see `gemm::in_place`).
    InPlace,
    /// im2col panels packed from the image padded and split into its stride phases, where
    /// every panel row is a plain copy (see `phases.rs`).
    Phased(Phases),
    /// Transposed: read in place (see [`Indirect`]).
    Indirect(Indirect),
}

impl ImageRead {
    fn transposed(&self) -> bool {
        matches!(self, ImageRead::Indirect(_))
    }
}

/// How the transposed layout reads im2col in place: in the image zero-padded to `hp x wp`,
/// tap k = (c, r, s) of pixel p = (oh, ow) is at `bases[p] + offsets[k]`, with
/// `offsets[k] = (c*hp + r*dh)*wp + s*dw` and `bases[p] = oh*sh*wp + ow*sw`. Nothing is
/// packed: the microkernel broadcasts straight from the image.
struct Indirect {
    index: IndirectIndex,
    hp: usize,
    wp: usize,
    /// Padding is needed, so each run copies the image into a zero-padded scratch area.
    pad_copy: bool,
}

impl Indirect {
    /// `None` if an index overflows (impossible for validated shapes, which stay below 2^40
    /// elements, but not assumed).
    fn new(d: &Conv2dDesc, s: &Conv2dShape) -> Option<Indirect> {
        let p = d.padding;
        let (hp, wp) = (d.in_h + p.top + p.bottom, d.in_w + p.left + p.right);
        let mut offsets = Vec::with_capacity(s.reduction);
        for c in 0..s.group_in_channels {
            for r in 0..d.kernel_h {
                for q in 0..d.kernel_w {
                    offsets.push((c * hp + r * d.dilation_h) * wp + q * d.dilation_w);
                }
            }
        }
        let bases =
            (0..s.out_pixels()).map(|px| (px / s.out_w) * d.stride_h * wp + (px % s.out_w) * d.stride_w).collect();
        Some(Indirect { index: IndirectIndex::new(offsets, bases)?, hp, wp, pad_copy: p != Padding2d::default() })
    }

    /// Scratch floats for the padded copy of one image's group.
    fn scratch_len(&self, channels: usize) -> usize {
        if self.pad_copy { round_up(channels * self.hp * self.wp) } else { 0 }
    }

    /// The image (C/g x H x W) as the indirect GEMM reads it: itself, or its zero-padded
    /// copy, made by the plan's threads (one channel plane per task, at least ~16K floats a
    /// task) — copied serially it capped 2-thread 64x56x56 near 1.75x.
    fn image<'a>(&self, d: &Conv2dDesc, image: &'a [f32], padded: &'a mut [f32]) -> &'a [f32] {
        if !self.pad_copy {
            return image;
        }
        let (p, h, w, wp) = (d.padding, d.in_h, d.in_w, self.wp);
        let plane = self.hp * wp;
        let padded = &mut padded[..image.len() / (h * w) * plane];
        let per_task = crate::tasks::units_per_task(plane);
        padded.par_chunks_mut(plane).zip(image.par_chunks(h * w)).with_min_len(per_task).for_each(|(dst, src)| {
            // Scratch is shared between plans, so the border is zeroed on every run; only
            // the border, since the interior is overwritten.
            let (top, rest) = dst.split_at_mut(p.top * wp);
            top.fill(0.0);
            let (rows, bottom) = rest.split_at_mut(h * wp);
            bottom.fill(0.0);
            for (row, out) in src.chunks_exact(w).zip(rows.chunks_exact_mut(wp)) {
                out[..p.left].fill(0.0);
                out[p.left..p.left + w].copy_from_slice(row);
                out[p.left + w..].fill(0.0);
            }
        });
        padded
    }
}

impl Conv2d {
    /// Validates `desc` against the buffers, resolves `algo`, packs the weights (OIHW) and
    /// folds `bias` into the epilogue's shift. Runs on [`PlanOptions::default`].
    pub fn new(
        desc: &Conv2dDesc,
        weights: &[f32],
        bias: Option<&[f32]>,
        epilogue: &Epilogue,
        algo: Algo,
    ) -> Result<Conv2d> {
        Conv2d::with_options(desc, weights, bias, epilogue, algo, PlanOptions::default())
    }

    pub fn with_options(
        desc: &Conv2dDesc,
        weights: &[f32],
        bias: Option<&[f32]>,
        epilogue: &Epilogue,
        algo: Algo,
        options: PlanOptions,
    ) -> Result<Conv2d> {
        let shape = desc.validate()?;
        check_len("weights", weights.len(), shape.weight_len)?;
        if let Some(b) = bias {
            check_len("bias", b.len(), desc.out_channels)?;
        }
        epilogue.validate(desc.out_channels)?;
        if !algo.applies_to(desc) {
            return Err(Error::Unsupported(match algo {
                Algo::Depthwise => format!(
                    "conv2d: depthwise needs groups == in_channels; got groups {}, in_channels {}",
                    desc.groups, desc.in_channels
                ),
                Algo::WinogradF2 | Algo::WinogradF4 | Algo::WinogradF6 => format!(
                    "conv2d: {algo} needs a 3x3 kernel, stride 1 and dilation 1; got {}x{}, stride {}x{}, dilation {}x{}",
                    desc.kernel_h, desc.kernel_w, desc.stride_h, desc.stride_w, desc.dilation_h, desc.dilation_w
                ),
                Algo::WinogradSplit => format!(
                    "conv2d: {algo} needs a kernel of at least 3x3 and larger than 3x3, stride 1 and dilation 1; got {}x{}, stride {}x{}, dilation {}x{}",
                    desc.kernel_h, desc.kernel_w, desc.stride_h, desc.stride_w, desc.dilation_h, desc.dilation_w
                ),
                _ => format!(
                    "conv2d: {algo} needs a 1x1 kernel, stride 1 and no padding; got {}x{}, stride {}x{}, padding {:?}",
                    desc.kernel_h, desc.kernel_w, desc.stride_h, desc.stride_w, desc.padding
                ),
            }));
        }
        if algo == Algo::Tune {
            return super::tune::fastest(desc, weights, bias, epilogue, options);
        }
        let algo = algo.resolve(desc);
        let kernels = table(options.isa)?;
        let mut fused = FusedEpilogue::new(epilogue, bias, desc.out_channels);
        let method = match algo {
            Algo::Reference => Method::Reference(AlignedVec::from_slice(ALIGN, weights)),
            Algo::WinogradF2 | Algo::WinogradF4 | Algo::WinogradF6 => {
                let variant = algo.winograd().expect("a Winograd algorithm");
                Method::Winograd(Winograd::new(variant, desc, &shape, weights, kernels, options.threads.max(1)))
            }
            Algo::WinogradSplit => Method::Split(KernelSplit::new(desc, &shape, weights, bias, epilogue, options)?),
            Algo::Depthwise => {
                let geometry = DepthwiseGeometry::new(desc, &shape, kernels.masked_ops);
                let filters = AlignedVec::from_slice(ALIGN, &geometry.pack_filters(weights));
                Method::Depthwise(geometry, filters)
            }
            // The GEMM's packed weights take the scale (a folded batch-norm's), and its
            // tiles then start from the shift and end with the activation alone
            // (`packed_a`): with K = 16 the epilogue's multiply-add per output is a tenth of
            // the tile's work. 1 thread, scale, shift and ReLU6, five interleaved rounds,
            // ms: 16x112x112 -> 96 0.200-0.206 -> 0.191-0.195, 32x28x28 -> 192
            // 0.0433-0.0443 -> 0.0428-0.0435; MobileNetV2 3.38 -> 3.28 (seven rounds),
            // ResNet-50 29.40 -> 29.14.
            _ => Method::Gemm(GemmLayout::new(
                desc,
                &shape,
                (weights, fused.take_scale().as_deref()),
                kernels,
                options.threads.max(1),
                algo == Algo::Gemm1x1,
            )?),
        };
        Ok(Conv2d { desc: *desc, shape, algo, kernels, method, epilogue: fused, threads: options.threads.max(1) })
    }

    pub fn desc(&self) -> &Conv2dDesc {
        &self.desc
    }

    pub fn shape(&self) -> &Conv2dShape {
        &self.shape
    }

    /// The instruction-set path this plan runs.
    pub fn isa(&self) -> crate::Isa {
        self.kernels.isa
    }

    /// The algorithm that runs (never `Auto`).
    pub fn algo(&self) -> Algo {
        self.algo
    }

    /// The microkernel family, e.g. `avx512f_8x48`, and whether the GEMM runs transposed.
    pub fn kernel_name(&self) -> String {
        match &self.method {
            Method::Gemm(g) if g.image.transposed() => format!("{} (transposed)", g.tile.name),
            Method::Gemm(g) => g.tile.name.to_string(),
            Method::Reference(_) => "reference".to_string(),
            Method::Depthwise(g, _) => format!("depthwise_{} ({})", self.kernels.isa, g.form()),
            Method::Winograd(w) if w.transposed() => format!("{} (transposed)", w.tile_name()),
            Method::Winograd(w) => w.tile_name().to_string(),
            Method::Split(split) => format!("{} {}", split.inner().algo(), split.inner().kernel_name()),
        }
    }

    /// Bytes of packed weights the plan holds.
    pub fn weight_bytes(&self) -> usize {
        match &self.method {
            Method::Gemm(g) => g.weights.iter().map(PackedPanels::bytes).sum(),
            Method::Reference(w) | Method::Depthwise(_, w) => w.len() * size_of::<f32>(),
            Method::Winograd(w) => w.weight_bytes(),
            Method::Split(split) => split.inner().weight_bytes(),
        }
    }

    /// Floats of scratch `run` needs.
    pub fn scratch_len(&self) -> usize {
        match &self.method {
            Method::Gemm(g) => g.scratch_len,
            Method::Reference(_) => 0,
            // One padded plane per thread band.
            Method::Depthwise(g, _) => ALIGN_FLOATS + self.threads * g.scratch_len(),
            Method::Winograd(w) => w.scratch_len(),
            Method::Split(split) => split.scratch_len(),
        }
    }

    /// output = epilogue(conv(input)); `residual` (output's shape) if the epilogue adds one.
    pub fn run(&self, input: &[f32], residual: Option<&[f32]>, output: &mut [f32], scratch: &mut [f32]) -> Result<()> {
        let all = ChannelSlice { total: self.desc.out_channels, first: 0 };
        self.run_into(input, residual, output, all, scratch)
    }

    /// [`Conv2d::run`] into channels `slice.first ..` of an output with `slice.total`
    /// channels per image: a branch of a channel concat (Inception) writes its part in
    /// place instead of being copied there. `residual`, if any, has the output's layout.
    /// Channels outside the slice are neither read nor written.
    pub fn run_into(
        &self,
        input: &[f32],
        residual: Option<&[f32]>,
        output: &mut [f32],
        slice: ChannelSlice,
        scratch: &mut [f32],
    ) -> Result<()> {
        let (s, k) = (&self.shape, self.desc.out_channels);
        if slice.first.checked_add(k).is_none_or(|end| end > slice.total) {
            return invalid!(
                "conv2d: channels {}..{} (`first` {} + {k} out_channels) do not fit an output of `total` {} channels",
                slice.first,
                slice.first.saturating_add(k),
                slice.first,
                slice.total
            );
        }
        let out_len = checked_product("conv2d output N*total*OH*OW", &[self.desc.batch, slice.total, s.out_pixels()])?;
        check_len("input", input.len(), s.input_len)?;
        check_len("output", output.len(), out_len)?;
        let residual = self.epilogue.check_residual("conv2d", residual, out_len)?;
        if scratch.len() < self.scratch_len() {
            return invalid!("conv2d: `scratch` has {} floats, this plan needs {}", scratch.len(), self.scratch_len());
        }
        match &self.method {
            Method::Reference(weights) => self.run_reference(weights, input, residual, output, slice),
            Method::Gemm(g) => self.run_gemm(g, input, residual, output, slice, scratch),
            Method::Depthwise(geometry, filters) => {
                self.run_depthwise(geometry, filters, input, residual, output, slice, scratch);
                Ok(())
            }
            Method::Winograd(w) => {
                self.run_winograd(w, input, residual, output, slice, scratch);
                Ok(())
            }
            Method::Split(split) => split.run(&self.desc, input, residual, output, slice, scratch),
        }
    }

    fn run_reference(
        &self,
        weights: &[f32],
        input: &[f32],
        residual: Option<&[f32]>,
        output: &mut [f32],
        slice: ChannelSlice,
    ) -> Result<()> {
        let (d, e) = (&self.desc, &self.epilogue);
        let image = Conv2dDesc { batch: 1, ..*d };
        let (in_len, pixels) = (d.in_channels * d.in_h * d.in_w, self.shape.out_pixels());
        let epilogue = Epilogue { scale: None, shift: None, residual: residual.is_some(), activation: e.activation() };
        for n in 0..d.batch {
            let at =
                (n * slice.total + slice.first) * pixels..(n * slice.total + slice.first + d.out_channels) * pixels;
            let out = &mut output[at.clone()];
            crate::reference::conv2d_into(&image, &input[n * in_len..(n + 1) * in_len], weights, None, out)?;
            let res = residual.map(|r| &r[at]);
            crate::reference::apply_epilogue_with(
                1,
                d.out_channels,
                pixels,
                out,
                (e.scale(), e.shift()),
                &epilogue,
                res,
            )?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn run_depthwise(
        &self,
        g: &DepthwiseGeometry,
        filters: &[f32],
        input: &[f32],
        residual: Option<&[f32]>,
        output: &mut [f32],
        slice: ChannelSlice,
        scratch: &mut [f32],
    ) {
        let d = &self.desc;
        let (plane, pixels) = (d.in_h * d.in_w, self.shape.out_pixels());
        let multiplier = d.out_channels / d.in_channels;
        let (kernel, e) = (self.kernels.depthwise[g.sweep() as usize], &self.epilogue);
        for n in 0..d.batch {
            let image = &input[n * d.in_channels * plane..(n + 1) * d.in_channels * plane];
            let offset = (n * slice.total + slice.first) * pixels;
            let out = &mut output[offset..offset + d.out_channels * pixels];
            let res = residual.map(|r| &r[offset..offset + d.out_channels * pixels]);
            crate::tasks::plane_bands(
                out,
                pixels,
                self.threads,
                align_scratch(scratch),
                g.scratch_len(),
                g.head_start_planes(),
                |first, planes, scratch| {
                    let band = DepthwiseBand {
                        input: image,
                        filters,
                        first,
                        multiplier,
                        scale: e.scale(),
                        shift: e.shift(),
                        residual: res.map(|r| &r[first * pixels..first * pixels + planes.len()]),
                        activation: e.activation(),
                    };
                    // SAFETY: the table passed the CPU check; the band's planes are output
                    // channels below out_channels = in_channels * multiplier, whose input
                    // planes and filters exist; `scratch` holds the geometry's scratch length.
                    unsafe { kernel(g, &band, scratch, planes) };
                },
            );
        }
    }

    /// Each (image, group) of a run: the group, its C/g input planes' range in the input,
    /// and the offset of its first output channel in an output laid out by `slice`.
    fn groups(&self, slice: ChannelSlice) -> impl Iterator<Item = (usize, Range<usize>, usize)> + use<'_> {
        let (d, s) = (&self.desc, &self.shape);
        let (cg, kg, plane) = (s.group_in_channels, s.group_out_channels, d.in_h * d.in_w);
        (0..d.batch).flat_map(move |n| {
            (0..d.groups).map(move |grp| {
                let first = (n * d.in_channels + grp * cg) * plane;
                (grp, first..first + cg * plane, (n * slice.total + slice.first + grp * kg) * s.out_pixels())
            })
        })
    }

    fn run_winograd(
        &self,
        w: &Winograd,
        input: &[f32],
        residual: Option<&[f32]>,
        output: &mut [f32],
        slice: ChannelSlice,
        scratch: &mut [f32],
    ) {
        let (d, s) = (&self.desc, &self.shape);
        for (grp, image, out_offset) in self.groups(slice) {
            let epilogue = self.epilogue.task(grp * s.group_out_channels, residual.map(|r| &r[out_offset..]), true);
            let out = output[out_offset..].as_mut_ptr();
            // SAFETY: `run_into` checked output and residual against the validated shape:
            // this group's K/g planes from `out_offset` are inside both; the epilogue vectors
            // hold all K channels; scratch holds `scratch_len`; the kernels passed the CPU check.
            unsafe { w.run(d, s, self.kernels, grp, &input[image], out, epilogue, scratch) };
        }
    }

    fn run_gemm(
        &self,
        g: &GemmLayout,
        input: &[f32],
        residual: Option<&[f32]>,
        output: &mut [f32],
        slice: ChannelSlice,
        scratch: &mut [f32],
    ) -> Result<()> {
        let (d, s) = (&self.desc, &self.shape);
        let (cg, kg, pixels) = (s.group_in_channels, s.group_out_channels, s.out_pixels());
        let plane = d.in_h * d.in_w;
        let (padded, scratch) = align_scratch(scratch).split_at_mut(g.padded_len);
        for (grp, image, out_offset) in self.groups(slice) {
            let image = &input[image];
            let direct = StridedSource { data: image, free_len: pixels, k_len: cg, free_stride: 1, k_stride: plane };
            let phased = match &g.image {
                ImageRead::Phased(phases) => Some(PhasedSource {
                    planes: phases.split(d, image, &mut padded[..], self.kernels.phase_split),
                    phases,
                    out_w: s.out_w,
                    out_pixels: pixels,
                    pack: self.kernels.phased_pack,
                }),
                _ => None,
            };
            let source: &dyn PanelSource = match &phased {
                Some(p) => p,
                None => &direct,
            };
            let weights = Operand::Packed(g.weights[grp].view());
            let (m, n_cols, a, b, rs_c, cs_c) = match &g.image {
                ImageRead::Indirect(ind) => {
                    let data = ind.image(d, image, &mut padded[..]);
                    let source = IndirectSource::new(data, &ind.index).ok_or_else(|| {
                        Error::Unsupported(format!("conv2d: internal: im2col offsets exceed the image for {d:?}"))
                    })?;
                    (pixels, kg, Operand::Indirect(source), weights, 1, pixels)
                }
                ImageRead::InPlace => {
                    let rows = InPlaceRows::new(direct).ok_or_else(|| {
                        Error::Unsupported(format!("conv2d: internal: the image does not hold its planes for {d:?}"))
                    })?;
                    (kg, pixels, weights, Operand::InPlace(rows), pixels, 1)
                }
                ImageRead::Phased(phases) => {
                    // Each output row whole vectors: B read where it lies in the planes.
                    let offsets = phased
                        .as_ref()
                        .zip(phases.vector_bases())
                        .and_then(|(p, bases)| OffsetRows::new(p.planes, phases.offsets(), bases, p));
                    let b = offsets.map_or(Operand::Source(source), Operand::Offsets);
                    (kg, pixels, weights, b, pixels, 1)
                }
                _ => (kg, pixels, weights, Operand::Source(source), pixels, 1),
            };
            let task = GemmTask {
                m,
                n: n_cols,
                k: s.reduction,
                a,
                b,
                c: output[out_offset..].as_mut_ptr(),
                rs_c,
                cs_c,
                epilogue: self.epilogue.task(grp * kg, residual.map(|r| &r[out_offset..]), !g.image.transposed()),
                tile: g.tile,
                kernels: self.kernels,
                blocking: g.blocking,
                then: None,
            };
            // SAFETY: `run` checked input, output and residual lengths against the
            // validated shape, so this group's K/g x OH*OW block of C (and residual) and
            // its C/g input planes are in bounds; the epilogue vectors hold all K
            // channels; scratch holds the split's length after the padded image; the
            // kernels passed the CPU check.
            unsafe { parallel::run(&task, &g.split, scratch) };
        }
        Ok(())
    }
}

impl GemmLayout {
    /// `pointwise`: the algorithm is `Gemm1x1`, whose B is the image itself; `scale`, one
    /// per output channel, is multiplied into the packed weights.
    fn new(
        desc: &Conv2dDesc,
        s: &Conv2dShape,
        (weights, scale): (&[f32], Option<&[f32]>),
        kernels: &'static KernelTable,
        threads: usize,
        pointwise: bool,
    ) -> Result<Self> {
        let (kg, pixels) = (s.group_out_channels, s.out_pixels());
        let (tile, transposed) = super::layout_choice::choose(kernels.tiles, s, pointwise, threads);
        let width = if transposed { tile.nr } else { tile.mr };
        let weights = (0..desc.groups)
            .map(|g| {
                let w = &weights[g * kg * s.reduction..(g + 1) * kg * s.reduction];
                let source =
                    StridedSource { data: w, free_len: kg, k_len: s.reduction, free_stride: s.reduction, k_stride: 1 };
                let mut packed = PackedPanels::new(&source, width);
                if let Some(scale) = scale {
                    packed.scale_free(&scale[g * kg..(g + 1) * kg]);
                }
                packed
            })
            .collect();
        // Weights are always packed; the image is read in place (transposed, as A), or as B
        // packed on the fly or (a 1x1's, where faster) read in place.
        let (m, n) = if transposed { (pixels, kg) } else { (kg, pixels) };
        let feeds = super::layout_choice::feeds(tile, transposed, pointwise, s);
        let blocking = blocking(tile, s.reduction, transposed);
        let split = Split::new(m, n, tile, feeds, threads);
        let image = if transposed {
            ImageRead::Indirect(
                Indirect::new(desc, s)
                    .ok_or_else(|| Error::Overflow(format!("conv2d: im2col indices of {desc:?} overflow usize")))?,
            )
        } else if feeds.1 == Feed::InPlace {
            ImageRead::InPlace
        } else if pointwise {
            ImageRead::Direct
        } else {
            ImageRead::Phased(Phases::new(desc, s, tile.lanes))
        };
        let padded_len = match &image {
            ImageRead::Indirect(ind) => ind.scratch_len(s.group_in_channels),
            ImageRead::Phased(phases) => phases.scratch_len(s.group_in_channels),
            ImageRead::Direct | ImageRead::InPlace => 0,
        };
        Ok(GemmLayout {
            tile,
            blocking,
            image,
            weights,
            split,
            padded_len,
            scratch_len: padded_len + split.scratch_len(feeds, tile, blocking, transposed),
        })
    }
}

/// One-shot convolution: builds a plan with [`PlanOptions::default`], runs it, returns the
/// output. For repeated use, build a [`Conv2d`].
pub fn conv2d(
    desc: &Conv2dDesc,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    epilogue: &Epilogue,
    residual: Option<&[f32]>,
    algo: Algo,
) -> Result<Vec<f32>> {
    let plan = Conv2d::new(desc, weights, bias, epilogue, algo)?;
    let mut output = vec![0.0f32; plan.shape.output_len];
    let mut scratch = vec![0.0f32; plan.scratch_len()];
    plan.run(input, residual, &mut output, &mut scratch)?;
    Ok(output)
}
