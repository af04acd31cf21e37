use super::algo::Algo;
use super::im2col::Im2colSource;
use crate::aligned::{ALIGN, AlignedVec};
use crate::dispatch::{KernelTable, PlanOptions, table};
use crate::epilogue::{Activation, Epilogue};
use crate::error::{Error, Result, check_len, invalid};
use crate::gemm::blocking::{Blocking, blocking};
use crate::gemm::driver::{GemmTask, Operand, TaskEpilogue};
use crate::gemm::microkernel::TileKernel;
use crate::gemm::pack::{PackedPanels, PanelSource, StridedSource};
use crate::gemm::parallel::{self, Split};
use crate::gemm::tile_choice::padding_cost;
use crate::shape::{Conv2dDesc, Conv2dShape};

/// A convolution prepared once and run many times: validated, algorithm chosen, weights
/// packed for the GEMM, epilogue folded.
pub struct Conv2d {
    desc: Conv2dDesc,
    shape: Conv2dShape,
    algo: Algo,
    kernels: &'static KernelTable,
    gemm: Option<GemmLayout>,
    /// The weights as given, for the reference algorithm.
    raw_weights: Option<AlignedVec>,
    scale: Option<AlignedVec>,
    shift: Option<AlignedVec>,
    residual: bool,
    activation: Activation,
}

/// How a GEMM-based plan maps the convolution onto the GEMM.
struct GemmLayout {
    tile: &'static TileKernel,
    blocking: Blocking,
    /// `false`: rows of the GEMM are output channels, columns pixels (C is the output as it
    /// lies). `true`: rows are pixels and columns channels (C is the output transposed),
    /// which vectorises over channels — the better fit when the map is small (7x7: 49 pixels
    /// fill 64 lanes at best) and the channel count large.
    transposed: bool,
    /// Packed weights of each group.
    weights: Vec<PackedPanels>,
    split: Split,
}

/// Extra cost of the transposed layout: its tiles go through a buffer to reach C (measured
/// at 2-4% of a tile's time for K = 576..4608 on Zen 4).
const TRANSPOSED_COST: f64 = 1.04;

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
            return Err(Error::Unsupported(format!(
                "conv2d: {algo} needs a 1x1 kernel, stride 1 and no padding; got {}x{}, stride {}x{}, padding {:?}",
                desc.kernel_h, desc.kernel_w, desc.stride_h, desc.stride_w, desc.padding
            )));
        }
        let algo = algo.resolve(desc);
        let kernels = table(options.isa)?;
        let (scale, shift) = epilogue.fold_bias(bias, desc.out_channels);
        let has_shift = bias.is_some() || epilogue.shift.is_some();
        let aligned = |v: &[f32]| AlignedVec::from_slice(ALIGN, v);
        let (gemm, raw_weights) = match algo {
            Algo::Reference => (None, Some(aligned(weights))),
            _ => (
                Some(GemmLayout::new(
                    desc,
                    &shape,
                    weights,
                    kernels,
                    options.threads.max(1),
                )),
                None,
            ),
        };
        Ok(Conv2d {
            desc: *desc,
            shape,
            algo,
            kernels,
            gemm,
            raw_weights,
            scale: scale.as_deref().map(aligned),
            shift: has_shift.then(|| aligned(&shift)),
            residual: epilogue.residual,
            activation: epilogue.activation,
        })
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
        match &self.gemm {
            Some(g) if g.transposed => format!("{} (transposed)", g.tile.name),
            Some(g) => g.tile.name.to_string(),
            None => "reference".to_string(),
        }
    }

    /// Bytes of packed weights the plan holds.
    pub fn weight_bytes(&self) -> usize {
        match &self.gemm {
            Some(g) => g.weights.iter().map(PackedPanels::bytes).sum(),
            None => self.raw_weights.as_ref().map_or(0, |w| w.len() * 4),
        }
    }

    /// Floats of scratch `run` needs.
    pub fn scratch_len(&self) -> usize {
        self.gemm.as_ref().map_or(0, |g| g.scratch_len())
    }

    /// output = epilogue(conv(input)); `residual` (output's shape) if the epilogue adds one.
    pub fn run(
        &self,
        input: &[f32],
        residual: Option<&[f32]>,
        output: &mut [f32],
        scratch: &mut [f32],
    ) -> Result<()> {
        let s = &self.shape;
        check_len("input", input.len(), s.input_len)?;
        check_len("output", output.len(), s.output_len)?;
        let residual = match (self.residual, residual) {
            (true, Some(r)) => {
                check_len("residual", r.len(), s.output_len)?;
                Some(r)
            }
            (true, None) => {
                return invalid!("conv2d: the epilogue adds a residual but `residual` is None");
            }
            (false, Some(_)) => {
                return invalid!("conv2d: `residual` given but the epilogue adds none");
            }
            (false, None) => None,
        };
        if scratch.len() < self.scratch_len() {
            return invalid!(
                "conv2d: `scratch` has {} floats, this plan needs {}",
                scratch.len(),
                self.scratch_len()
            );
        }
        match &self.gemm {
            None => self.run_reference(input, residual, output),
            Some(g) => {
                self.run_gemm(g, input, residual, output, scratch);
                Ok(())
            }
        }
    }

    fn run_reference(
        &self,
        input: &[f32],
        residual: Option<&[f32]>,
        output: &mut [f32],
    ) -> Result<()> {
        let weights = self
            .raw_weights
            .as_deref()
            .expect("reference plans keep their weights");
        crate::reference::conv2d_into(&self.desc, input, weights, None, output)?;
        let epilogue = Epilogue {
            scale: None,
            shift: None,
            residual: residual.is_some(),
            activation: self.activation,
        };
        let (scale, shift) = (self.scale.as_deref(), self.shift.as_deref());
        crate::reference::apply_epilogue_with(
            self.desc.batch,
            self.desc.out_channels,
            self.shape.out_pixels(),
            output,
            (scale, shift),
            &epilogue,
            residual,
        )
    }

    fn run_gemm(
        &self,
        g: &GemmLayout,
        input: &[f32],
        residual: Option<&[f32]>,
        output: &mut [f32],
        scratch: &mut [f32],
    ) {
        let (d, s) = (&self.desc, &self.shape);
        let (cg, kg, pixels) = (s.group_in_channels, s.group_out_channels, s.out_pixels());
        let plane = d.in_h * d.in_w;
        for n in 0..d.batch {
            for grp in 0..d.groups {
                let image = &input[(n * d.in_channels + grp * cg) * plane..][..cg * plane];
                let im2col = Im2colSource {
                    image,
                    desc: d,
                    channels: cg,
                    out_w: s.out_w,
                    out_pixels: pixels,
                };
                let direct = StridedSource {
                    data: image,
                    free_len: pixels,
                    k_len: cg,
                    free_stride: 1,
                    k_stride: plane,
                };
                let source: &dyn PanelSource = if self.algo == Algo::Gemm1x1 {
                    &direct
                } else {
                    &im2col
                };
                let weights = Operand::Packed(&g.weights[grp]);
                let out_offset = (n * d.out_channels + grp * kg) * pixels;
                let at = |v: &Option<AlignedVec>| {
                    v.as_ref()
                        .map_or(std::ptr::null(), |v| v[grp * kg..].as_ptr())
                };
                let (m, nn, a, b, rs_c, cs_c) = if g.transposed {
                    (pixels, kg, Operand::Source(source), weights, 1, pixels)
                } else {
                    (kg, pixels, weights, Operand::Source(source), pixels, 1)
                };
                let task = GemmTask {
                    m,
                    n: nn,
                    k: s.reduction,
                    a,
                    b,
                    c: output[out_offset..].as_mut_ptr(),
                    rs_c,
                    cs_c,
                    epilogue: TaskEpilogue {
                        channels_on_rows: !g.transposed,
                        scale: at(&self.scale),
                        shift: at(&self.shift),
                        residual: residual.map_or(std::ptr::null(), |r| r[out_offset..].as_ptr()),
                        activation: self.activation,
                    },
                    tile: g.tile,
                    epilogue_fn: self.kernels.epilogue,
                    blocking: g.blocking,
                };
                // SAFETY: `run` checked input, output and residual lengths against the
                // validated shape, so this group's K/g x OH*OW block of C (and residual) and
                // its C/g input planes are in bounds; the epilogue vectors hold all K
                // channels; scratch holds the split's length; the kernels passed the CPU check.
                unsafe { parallel::run(&task, &g.split, scratch) };
            }
        }
    }
}

impl GemmLayout {
    fn new(
        desc: &Conv2dDesc,
        s: &Conv2dShape,
        weights: &[f32],
        kernels: &'static KernelTable,
        threads: usize,
    ) -> Self {
        let (kg, pixels) = (s.group_out_channels, s.out_pixels());
        let mut best: Option<(f64, &'static TileKernel, bool)> = None;
        for tile in kernels.tiles {
            for transposed in [false, true] {
                let cost = if transposed {
                    padding_cost(pixels, tile.mr) * padding_cost(kg, tile.nr) * TRANSPOSED_COST
                } else {
                    padding_cost(kg, tile.mr) * padding_cost(pixels, tile.nr)
                };
                if best.is_none_or(|(c, _, _)| cost < c - 1e-9) {
                    best = Some((cost, tile, transposed));
                }
            }
        }
        let (_, tile, transposed) = best.expect("every ISA has a tile kernel");
        let width = if transposed { tile.nr } else { tile.mr };
        let weights = (0..desc.groups)
            .map(|g| {
                let w = &weights[g * kg * s.reduction..(g + 1) * kg * s.reduction];
                let source = StridedSource {
                    data: w,
                    free_len: kg,
                    k_len: s.reduction,
                    free_stride: s.reduction,
                    k_stride: 1,
                };
                PackedPanels::new(&source, width)
            })
            .collect();
        let (m, n) = if transposed {
            (pixels, kg)
        } else {
            (kg, pixels)
        };
        let packed = (!transposed, transposed);
        GemmLayout {
            tile,
            blocking: blocking(tile, s.reduction),
            transposed,
            weights,
            split: Split::new(m, n, tile, packed, threads),
        }
    }

    fn scratch_len(&self) -> usize {
        self.split.scratch_len(
            (!self.transposed, self.transposed),
            self.tile,
            self.blocking,
        )
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
