//! Which instruction set runs: detected once, cached, overridable with `FERROCNN_ISA`.
//!
//! Plans take an [`Isa`] (default [`active_isa`]) and keep the `KernelTable` of that ISA,
//! so nothing probes the CPU in a hot loop and tests can run every path in one process.

use crate::gemm::epilogue::EpilogueFn;
use crate::gemm::microkernel::TileKernel;
use crate::gemm::transposed_store::TransposedStoreFn;
use std::sync::OnceLock;

/// An instruction-set path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Isa {
    /// `wide`'s vectors at the compile-time baseline; runs everywhere.
    Portable,
    /// x86-64 AVX2 with FMA.
    Avx2Fma,
    /// x86-64 AVX-512F.
    Avx512f,
}

impl Isa {
    /// All paths, slowest first.
    pub const ALL: [Isa; 3] = [Isa::Portable, Isa::Avx2Fma, Isa::Avx512f];

    /// The name `FERROCNN_ISA` takes and reports print.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2Fma => "avx2",
            Isa::Avx512f => "avx512",
        }
    }

    pub fn from_name(name: &str) -> Option<Isa> {
        Isa::ALL.into_iter().find(|isa| isa.name() == name)
    }

    /// Whether this CPU can run the path.
    pub fn is_supported(self) -> bool {
        match self {
            Isa::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512f => is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }
}

impl std::fmt::Display for Isa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The paths this CPU supports, slowest first.
pub fn supported_isas() -> Vec<Isa> {
    Isa::ALL.into_iter().filter(|i| i.is_supported()).collect()
}

/// The fastest path this CPU supports.
pub fn detected_isa() -> Isa {
    static DETECTED: OnceLock<Isa> = OnceLock::new();
    *DETECTED.get_or_init(|| *supported_isas().last().unwrap_or(&Isa::Portable))
}

/// The path plans use by default: `FERROCNN_ISA` if set to a supported path, else the
/// detected one. An unknown or unsupported value is reported once on stderr and ignored,
/// so a typo never silently benchmarks the wrong code.
pub fn active_isa() -> Isa {
    static ACTIVE: OnceLock<Isa> = OnceLock::new();
    *ACTIVE.get_or_init(|| match std::env::var("FERROCNN_ISA") {
        Err(_) => detected_isa(),
        Ok(name) => match Isa::from_name(&name) {
            Some(isa) if isa.is_supported() => isa,
            Some(isa) => {
                eprintln!("ferrocnn: FERROCNN_ISA={name}: this CPU does not support {isa}; using {}", detected_isa());
                detected_isa()
            }
            None => {
                eprintln!(
                    "ferrocnn: FERROCNN_ISA={name} is not one of portable, avx2, avx512; using {}",
                    detected_isa()
                );
                detected_isa()
            }
        },
    })
}

/// `(w, x, bias, activation, y)`: `y[r] = act(dot(w[r], x) + bias[r])` ([`crate::ops::Linear`]).
pub(crate) type GemvFn = unsafe fn(&[f32], &[f32], &[f32], crate::Activation, bool, &mut [f32]);

/// `(geometry, band, scratch, the band's output planes)` ([`crate::conv::Algo::Depthwise`]).
pub(crate) type DepthwiseFn = unsafe fn(
    &crate::conv::depthwise::DepthwiseGeometry,
    &crate::conv::depthwise::DepthwiseBand,
    &mut [f32],
    &mut [f32],
);

/// The kernels of one path.
pub(crate) struct KernelTable {
    pub isa: Isa,
    /// Microkernel families, the first the default for GEMMs whose shape is unknown.
    pub tiles: &'static [TileKernel],
    pub epilogue: EpilogueFn,
    /// The store of a transposed-layout GEMM tile, with the epilogue ([`crate::gemm::transposed_store`]).
    pub transposed_store: TransposedStoreFn,
    /// f32 lanes per vector.
    pub lanes: usize,
    /// The FMA-only loop that measures the path's peak ([`crate::peak`]), and its number
    /// of independent vector FMAs per iteration.
    pub fma_loop: unsafe fn(usize) -> f32,
    pub fma_chains: usize,
    /// Whether masked multiply-adds and maxima are one instruction ([`crate::arch::simd::Simd::MASKED_OPS`]).
    pub masked_ops: bool,
    /// Pooling of a band of planes ([`crate::ops::Pool2d`]) and global pooling of a band of
    /// planes of the given size into one value each.
    pub pool_band: unsafe fn(&crate::ops::pool::PoolGeometry, &[f32], &mut [f32], &mut [f32]),
    /// im2col panels packed from phase planes ([`crate::conv::phases`]).
    pub phased_pack: crate::conv::phases::PhasedPackFn,
    /// One channel's phase planes ([`crate::conv::phases::split_channel`]).
    pub phase_split: crate::conv::phases::PhaseSplitFn,
    pub global_pool: unsafe fn(crate::PoolKind, &[f32], usize, &mut [f32]),
    /// Elementwise layers ([`crate::ops`]).
    pub activation: unsafe fn(crate::Activation, &mut [f32]),
    pub add: unsafe fn(crate::Activation, &[f32], &[f32], &mut [f32]),
    pub scale: unsafe fn(&mut [f32], f32),
    /// One plane of a standalone batch-norm ([`crate::ops::BatchNorm2d`]).
    pub affine: unsafe fn(&mut [f32], f32, f32, crate::Activation),
    pub softmax: unsafe fn(&mut [f32]),
    /// Matrix-vector product of a linear layer at batch 1.
    pub gemv: GemvFn,
    /// A band of output planes of a depthwise convolution, with their epilogue, one shell
    /// per sweep ([`crate::conv::depthwise::Sweep`]).
    pub depthwise: [DepthwiseFn; 3],
    /// One output channel of local response normalisation ([`crate::ops::Lrn`]).
    pub lrn: unsafe fn(&crate::ops::lrn::LrnParams, &[f32], usize, usize, &mut [f32]),
    /// Winograd input and output transforms, F(2x2), F(4x4), F(6x6) in that order.
    pub winograd_input: [unsafe fn(&crate::conv::winograd::transform::InputJob); 3],
    pub winograd_output: [unsafe fn(&crate::conv::winograd::transform::OutputJob); 3],
    /// Filters transformed as the run needs them: F(2x2)'s input transform (G's factors
    /// folded in) and filter transform, and F(4x4)'s filter transform (G itself).
    pub winograd_input_f2_folded: unsafe fn(&crate::conv::winograd::transform::InputJob),
    pub winograd_filters_f2: unsafe fn(&crate::conv::winograd::transform::FilterJob),
    pub winograd_filters_f4: unsafe fn(&crate::conv::winograd::transform::FilterJob),
}

/// The table of one path, from its folder: the tile families of its `gemm.rs` and the
/// shells its `shells.rs` declares.
macro_rules! kernel_table {
    ($isa:expr, $($folder:ident)::+, lanes = $lanes:literal) => {
        KernelTable {
            isa: $isa,
            tiles: $($folder)::+::gemm::TILES,
            lanes: $lanes,
            epilogue: $($folder)::+::shells::epilogue,
            transposed_store: $($folder)::+::shells::transposed_store,
            fma_loop: $($folder)::+::shells::fma_loop,
            fma_chains: $($folder)::+::shells::FMA_CHAINS,
            masked_ops: $($folder)::+::shells::MASKED_OPS,
            pool_band: $($folder)::+::shells::pool_band,
            phased_pack: $($folder)::+::shells::phased_pack,
            phase_split: $($folder)::+::shells::phase_split,
            global_pool: $($folder)::+::shells::global_pool,
            activation: $($folder)::+::shells::activation,
            add: $($folder)::+::shells::add,
            scale: $($folder)::+::shells::scale,
            affine: $($folder)::+::shells::affine,
            softmax: $($folder)::+::shells::softmax,
            gemv: $($folder)::+::shells::gemv,
            lrn: $($folder)::+::shells::lrn,
            depthwise: [
                $($folder)::+::shells::depthwise_lanes,
                $($folder)::+::shells::depthwise_shifted,
                $($folder)::+::shells::depthwise_planes,
            ],
            winograd_input: [
                $($folder)::+::shells::winograd_input_f2,
                $($folder)::+::shells::winograd_input_f4,
                $($folder)::+::shells::winograd_input_f6,
            ],
            winograd_output: [
                $($folder)::+::shells::winograd_output_f2,
                $($folder)::+::shells::winograd_output_f4,
                $($folder)::+::shells::winograd_output_f6,
            ],
            winograd_input_f2_folded: $($folder)::+::shells::winograd_input_f2_folded,
            winograd_filters_f2: $($folder)::+::shells::winograd_filters_f2,
            winograd_filters_f4: $($folder)::+::shells::winograd_filters_f4,
        }
    };
}

static PORTABLE: KernelTable = kernel_table!(Isa::Portable, crate::arch::generic, lanes = 8);

#[cfg(target_arch = "x86_64")]
static AVX2_FMA: KernelTable = kernel_table!(Isa::Avx2Fma, crate::arch::x86_64::avx2_fma, lanes = 8);

#[cfg(target_arch = "x86_64")]
static AVX512F: KernelTable = kernel_table!(Isa::Avx512f, crate::arch::x86_64::avx512f, lanes = 16);

/// The table of `isa`, or an error if this CPU cannot run it. Returning the table only
/// after the check is what makes calling its `unsafe` shells sound.
pub(crate) fn table(isa: Isa) -> crate::Result<&'static KernelTable> {
    if !isa.is_supported() {
        return Err(crate::Error::Unsupported(format!(
            "ISA {isa} is not supported by this CPU (supported: {:?})",
            supported_isas().iter().map(|i| i.name()).collect::<Vec<_>>()
        )));
    }
    Ok(match isa {
        Isa::Portable => &PORTABLE,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2Fma => &AVX2_FMA,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512f => &AVX512F,
        #[cfg(not(target_arch = "x86_64"))]
        _ => unreachable!("is_supported is false for x86 paths elsewhere"),
    })
}

/// Options every plan takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanOptions {
    /// The instruction-set path; must be supported by this CPU.
    pub isa: Isa,
    /// Threads `run` splits the work over (it runs them on the current rayon pool).
    pub threads: usize,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions { isa: active_isa(), threads: rayon::current_num_threads() }
    }
}
