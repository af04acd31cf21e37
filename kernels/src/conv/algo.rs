use crate::shape::Conv2dDesc;

/// A convolution algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algo {
    /// Chosen from the shape: `Depthwise` when every group is one input channel (and
    /// there are several), `Gemm1x1` where it applies, else `Im2col`. A single input channel
    /// in one group (LeNet's and the MNIST CNN's first layers) stays a GEMM: 1 thread,
    /// AVX-512, `ferrocnn conv --algo ...`, 1x32x32 -> 6 5x5: 54 GFLOP/s as a GEMM against
    /// 45 depthwise; 1x28x28 -> 32 3x3: 80-112 against 35.
    Auto,
    /// The naive direct loops of [`crate::reference`], for checking.
    Reference,
    /// Packed GEMM over im2col panels packed straight from the image.
    Im2col,
    /// 1x1, stride 1, no padding: the image is the GEMM's B matrix as it is.
    Gemm1x1,
    /// groups == input channels: each output channel filters one input plane, directly.
    Depthwise,
    /// Winograd F(2x2, 3x3): 3x3, stride 1, dilation 1; 2.25x fewer multiplications.
    WinogradF2,
    /// Winograd F(4x4, 3x3): 4x fewer multiplications.
    WinogradF4,
    /// Winograd F(6x6, 3x3): 5.06x fewer multiplications, the largest rounding error.
    WinogradF6,
    /// Times every algorithm that applies once, at plan creation, and keeps the fastest.
    Tune,
}

impl Algo {
    pub const ALL: [Algo; 9] = [
        Algo::Auto,
        Algo::Reference,
        Algo::Im2col,
        Algo::Gemm1x1,
        Algo::Depthwise,
        Algo::WinogradF2,
        Algo::WinogradF4,
        Algo::WinogradF6,
        Algo::Tune,
    ];

    /// The algorithms that compute a convolution themselves (neither chooses nor checks).
    pub const CONCRETE: [Algo; 6] =
        [Algo::Im2col, Algo::Gemm1x1, Algo::Depthwise, Algo::WinogradF2, Algo::WinogradF4, Algo::WinogradF6];

    pub fn name(self) -> &'static str {
        match self {
            Algo::Auto => "auto",
            Algo::Reference => "reference",
            Algo::Im2col => "im2col",
            Algo::Gemm1x1 => "gemm1x1",
            Algo::Depthwise => "depthwise",
            Algo::WinogradF2 => "winograd-f2",
            Algo::WinogradF4 => "winograd-f4",
            Algo::WinogradF6 => "winograd-f6",
            Algo::Tune => "tune",
        }
    }

    pub fn from_name(name: &str) -> Option<Algo> {
        Algo::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Whether this algorithm computes `desc` (`Auto` always does).
    pub fn applies_to(self, desc: &Conv2dDesc) -> bool {
        match self {
            Algo::Gemm1x1 => {
                (desc.kernel_h, desc.kernel_w, desc.stride_h, desc.stride_w) == (1, 1, 1, 1)
                    && desc.padding == crate::Padding2d::default()
            }
            Algo::Depthwise => desc.groups == desc.in_channels,
            Algo::WinogradF2 | Algo::WinogradF4 | Algo::WinogradF6 => {
                (desc.kernel_h, desc.kernel_w, desc.stride_h, desc.stride_w, desc.dilation_h, desc.dilation_w)
                    == (3, 3, 1, 1, 1, 1)
            }
            _ => true,
        }
    }

    /// The Winograd tile size, for the Winograd algorithms.
    pub(crate) fn winograd(self) -> Option<super::winograd::Variant> {
        use super::winograd::Variant;
        match self {
            Algo::WinogradF2 => Some(Variant::F2),
            Algo::WinogradF4 => Some(Variant::F4),
            Algo::WinogradF6 => Some(Variant::F6),
            _ => None,
        }
    }

    /// What `Auto` runs for `desc`; see [`winograd_choice`] for 3x3 stride-1 layers.
    pub(crate) fn resolve(self, desc: &Conv2dDesc) -> Algo {
        match self {
            Algo::Auto if desc.groups > 1 && Algo::Depthwise.applies_to(desc) => Algo::Depthwise,
            Algo::Auto if Algo::Gemm1x1.applies_to(desc) => Algo::Gemm1x1,
            Algo::Auto => winograd_choice(desc).unwrap_or(Algo::Im2col),
            other => other,
        }
    }
}

/// Below this many input channels per group Winograd loses to im2col: the transforms cost
/// per channel while the savings grow with the output channels each input feeds.
const WINOGRAD_MIN_CHANNELS: usize = 16;
/// Below this many direct-convolution flops per image the transforms' fixed costs win.
const WINOGRAD_MIN_FLOPS: u64 = 10_000_000;

/// The Winograd variant `Auto` runs on a 3x3 stride-1 layer, if any.
///
/// Measured on this machine (AVX-512, Zen 5, 1 and 2 threads, effective GFLOP/s =
/// direct-convolution flops / time, `ferrocnn conv --input 1xCxHxW --out-channels K
/// --kernel 3 --pad 1 --algo A --threads T --json`, 15 runs, median):
///
/// | layer C x H x W -> K | T | im2col | F(2x2) | F(4x4) | F(6x6) |
/// |---|---|---|---|---|---|
/// | 3x224x224 -> 64 | 1 | **189** | 127 | 155 | 98 |
/// | 64x224x224 -> 64 | 1 | 147 | 314 | **445** | 418 |
/// | 128x112x112 -> 128 | 1 | 200 | 417 | **634** | 610 |
/// | 128x56x56 -> 256 | 1 | 250 | 470 | **667** | 423 |
/// | 256x56x56 -> 256 | 1 | 249 | 487 | **519** | 387 |
/// | 64x56x56 -> 64 | 1 | 242 | 368 | **466** | 418 |
/// | 256x28x28 -> 512 | 1 | 246 | 412 | **550** | 224 |
/// | 256x28x28 -> 512 | 2 | 499 | **815** | 813 | 447 |
/// | 512x28x28 -> 512 | 1 | 256 | **422** | 368 | 305 |
/// | 128x28x28 -> 128 | 1 | 259 | 373 | **557** | 355 |
/// | 512x14x14 -> 512 | 1 | 250 | **425** | 288 | 178 |
/// | 256x14x14 -> 256 | 1 | 253 | 365 | **431** | 301 |
/// | 512x7x7 -> 512 | 1 | 240 | **301** | 175 | 82 |
/// | 16x8x8 -> 16 | 1 | **87** | 50 | 27 | 14 |
///
/// So: im2col for few input channels (3) or little work (16x8x8, 0.3 MFLOP); F(4x4) unless
/// its transformed weights (alpha^2 = 36 floats per filter) outgrow 3/4 of L3 and stream from
/// DRAM for every block (512 -> 512: 37.7 MB against 32 MB), then F(2x2) (16 floats per
/// filter, 16.8 MB). F(6x6) is never the fastest here: its 64 GEMMs per block and larger
/// transforms cost more than its 1.27x fewer multiplications save. It stays selectable
/// and `Tune` times it.
fn winograd_choice(desc: &Conv2dDesc) -> Option<Algo> {
    let cg = desc.in_channels / desc.groups.max(1);
    let flops = desc.flops().ok()? / desc.batch.max(1) as u64;
    if !Algo::WinogradF4.applies_to(desc) || cg < WINOGRAD_MIN_CHANNELS || flops < WINOGRAD_MIN_FLOPS {
        return None;
    }
    let f4_weights = 36 * desc.in_channels / desc.groups.max(1) * desc.out_channels * size_of::<f32>();
    let l3 = crate::gemm::cache_sizes().l3;
    Some(if f4_weights <= l3 * 3 / 4 { Algo::WinogradF4 } else { Algo::WinogradF2 })
}

impl std::fmt::Display for Algo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
