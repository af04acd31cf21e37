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

    /// What `Auto` runs for `desc`.
    pub(crate) fn resolve(self, desc: &Conv2dDesc) -> Algo {
        match self {
            Algo::Auto if desc.groups > 1 && Algo::Depthwise.applies_to(desc) => Algo::Depthwise,
            Algo::Auto if Algo::Gemm1x1.applies_to(desc) => Algo::Gemm1x1,
            Algo::Auto => Algo::Im2col,
            other => other,
        }
    }
}

impl std::fmt::Display for Algo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
