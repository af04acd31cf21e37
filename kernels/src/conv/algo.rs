use crate::shape::Conv2dDesc;

/// A convolution algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algo {
    /// Chosen from the shape: `Depthwise` when every group is one input channel (and
    /// there are several), `Gemm1x1` where it applies, Winograd on 3x3 stride-1 layers
    /// (`winograd_choice`), `WinogradSplit` on larger stride-1 kernels whose 3x3 layer runs
    /// F(4x4) (`split_choice`), else `Im2col`. A single input channel
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
    /// A kernel larger than 3x3 (stride 1, dilation 1) cut into 3x3 pieces, run as one 3x3
    /// Winograd layer over the input's shifted copies (`conv::kernel_split`): 2.78x fewer
    /// multiplications for 5x5 with F(4x4). AlexNet's 64x27x27 -> 192 5x5 alone (`ferrocnn
    /// conv --input 1x64x27x27 --out-channels 192 --kernel 5 --pad 2 --algo A --threads T`,
    /// medians): 1 thread 1.62 ms im2col, 1.02 split (444 GFLOP/s effective); 2 threads
    /// 0.87 / 0.52. `Auto` runs it where the 3x3 layer would run F(4x4) (`split_choice`).
    WinogradSplit,
}

impl Algo {
    /// Every algorithm, in the order of the C ABI's codes (`FERROCNN_ALGO_*`).
    pub const ALL: [Algo; 10] = [
        Algo::Auto,
        Algo::Reference,
        Algo::Im2col,
        Algo::Gemm1x1,
        Algo::Depthwise,
        Algo::WinogradF2,
        Algo::WinogradF4,
        Algo::WinogradF6,
        Algo::Tune,
        Algo::WinogradSplit,
    ];

    /// The algorithms that compute a convolution themselves (neither chooses nor checks).
    pub const CONCRETE: [Algo; 7] = [
        Algo::Im2col,
        Algo::Gemm1x1,
        Algo::Depthwise,
        Algo::WinogradF2,
        Algo::WinogradF4,
        Algo::WinogradF6,
        Algo::WinogradSplit,
    ];

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
            Algo::WinogradSplit => "winograd-split",
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
            Algo::WinogradSplit => {
                desc.kernel_h >= 3
                    && desc.kernel_w >= 3
                    && desc.kernel_h.max(desc.kernel_w) > 3
                    && (desc.stride_h, desc.stride_w, desc.dilation_h, desc.dilation_w) == (1, 1, 1, 1)
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

    /// What `Auto` runs for `desc`; see [`winograd_choice`] for 3x3 stride-1 layers and
    /// [`split_choice`] for larger ones.
    pub(crate) fn resolve(self, desc: &Conv2dDesc) -> Algo {
        match self {
            Algo::Auto if desc.groups > 1 && Algo::Depthwise.applies_to(desc) => Algo::Depthwise,
            Algo::Auto if Algo::Gemm1x1.applies_to(desc) => Algo::Gemm1x1,
            Algo::Auto => winograd_choice(desc).or_else(|| split_choice(desc)).unwrap_or(Algo::Im2col),
            other => other,
        }
    }
}

/// Below this many input channels per group Winograd loses to im2col: the transforms cost
/// per input channel, the savings grow with the output channels each one feeds.
const WINOGRAD_MIN_CHANNELS: usize = 8;
/// F(4x4) needs this many (tiles x input channels) per image for its 36 GEMMs to run at
/// speed; below it F(2x2)'s 16 larger GEMMs win.
const F4_MIN_TILE_CHANNELS: usize = 49 * 32;
/// A Winograd variant runs on at least this many tiles per image. Each of its GEMMs reads
/// a K x C block of transformed filters once per image and uses each float once per tile:
/// 2 * T flops per 4 bytes. In a model whose weights outgrow the caches (ResNet-50's 102
/// MB) those filters stream from DRAM every image, and below this machine's balance, about
/// 13 flops per byte (a core's 270 GFLOP/s against 21 GB/s), the stream is the layer's
/// bound: T >= 26. The transformed filters are also 16/9 (F(2x2)) to 36/9 (F(4x4)) the
/// size of the 3x3 weights, so the layers it leaves to im2col are the ones whose filters
/// cost the most memory for the least work.
pub(crate) const WINOGRAD_MIN_TILES: usize = 26;
/// Below `WINOGRAD_MIN_TILES` tiles F(2x2) keeps its filters untransformed and transforms
/// them as each run needs them (`winograd::per_run`), which streams the 3x3 weights, no
/// more than im2col does; from this many input channels that beats im2col. 1 / 2 threads,
/// `ferrocnn conv --input 1xCx7x7 --out-channels K --kernel 3 --pad 1 --algo A`, ms,
/// im2col against F(2x2) per run: 512 -> 512 0.928 / 0.502 against 0.83 / 0.50; 256 ->
/// 256 0.242 / 0.128 against 0.251 / 0.131; 192 -> 384 and 160 -> 320 (GoogLeNet's) the
/// same within 3%. Inside the models, medians of five interleaved rounds (`ferrocnn bench
/// MODEL --threads T`), im2col against per run on the 512x7x7 layers: resnet18 10.92 ->
/// 10.57 ms (1 thread), 6.01 -> 5.84 (2); resnet50 30.98 -> 30.75 (1, three rounds),
/// 16.67 -> 16.64 (2). ResNet-18's layers alone, 1 thread (`--per-layer`, three rounds):
/// 0.976-0.993 -> 0.899-0.908 ms.
const PER_RUN_MIN_CHANNELS: usize = 512;
/// On maps of enough F(2x2) tiles but fewer than `WINOGRAD_MIN_TILES` F(4x4) tiles (10x10
/// to 20x20: 14x14 in the zoo), F(4x4) with its filters transformed per run beats F(2x2)
/// with them transformed ahead from this many input channels. It does 36 x 16 products a
/// channel pair on 14x14 against 16 x 49, and streams the 3x3 weights instead of 16/9 of
/// them. Alone, with the filters in cache, the two are within 3% (1 thread, two rounds,
/// `ferrocnn conv --input 1xCx14x14 --out-channels K --kernel 3 --pad 1 --algo A`, ms, F(2x2)
/// / F(4x4)): 256 -> 256 0.545-0.561 / 0.533-0.563, 512 -> 512 1.92-1.94 / 1.89-1.91,
/// 160 -> 320 0.436-0.440 / 0.438-0.447, 96 -> 208 0.200-0.205 / 0.213-0.214. Inside the
/// models, medians of five interleaved rounds (`ferrocnn bench MODEL --threads T`), without
/// / with: resnet18 11.10 -> 10.59 ms (1 thread), 5.87 -> 5.85 (2, seven rounds); resnet50
/// 30.58 -> 30.02 (1); vgg16 62.25 -> 61.90 (1, three rounds), 36.4 -> 37.0 (2, within its
/// noise). GoogLeNet, whose 14x14 layers have 96 to 160 input channels, stays on F(2x2):
/// with them on F(4x4) it ran 9.38 -> 9.37 ms (1 thread) and 5.15 -> 5.20 (2).
const PER_RUN_F4_MIN_CHANNELS: usize = 256;

/// The Winograd variant `Auto` runs on a 3x3 stride-1 layer, if any.
///
/// Measured on this machine (AVX-512, Zen 5, 1 thread unless marked, effective GFLOP/s =
/// direct-convolution flops / time, `ferrocnn conv --input 1xCxHxW --out-channels K
/// --kernel 3 --pad 1 --algo A --threads T --json`, 15-30 runs, median):
///
/// | layer C x H x W -> K | im2col | F(2x2) | F(4x4) | F(6x6) |
/// |---|---|---|---|---|
/// | 3x224x224 -> 64 | **189** | 127 | 155 | 98 |
/// | 4x56x56 -> 64 | 152 | **155** | 153 | |
/// | 8x56x56 -> 64 | 203 | 227 | **246** | |
/// | 8x112x112 -> 32 | 161 | 202 | **245** | |
/// | 8x28x28 -> 32 | 143 | **163** | 145 | |
/// | 16x28x28 -> 16 | 102 | **156** | 148 | |
/// | 32x28x28 -> 32 | 146 | 229 | **254** | |
/// | 16x14x14 -> 16 | 86 | **98** | 59 | |
/// | 32x14x14 -> 32 | 147 | **171** | 106 | |
/// | 64x14x14 -> 64 | 217 | **253** | 192 | |
/// | 128x14x14 -> 128 | 247 | 318 | **321** | |
/// | 16x8x8 -> 16 | **87** | 50 | 27 | 14 |
/// | 64x7x7 -> 64 | **212** | 122 | 122 | |
/// | 128x7x7 -> 128 | **234** | 201 | 202 | |
/// | 256x7x7 -> 256 | 236 | 271 | **282** | |
/// | 64x224x224 -> 64 | 147 | 314 | **445** | 418 |
/// | 128x112x112 -> 128 | 200 | 417 | **634** | 610 |
/// | 128x56x56 -> 256 | 250 | 470 | **667** | 423 |
/// | 256x56x56 -> 256 | 249 | 487 | **519** | 387 |
/// | 64x56x56 -> 64 | 242 | 368 | **466** | 418 |
/// | 64x28x28 -> 64 | 240 | 306 | **386** | |
/// | 256x28x28 -> 512 | 246 | 412 | **550** | 224 |
/// | 256x28x28 -> 512, 2 threads | 499 | **815** | 813 | 447 |
/// | 512x28x28 -> 512 † | 256 | **422** | 368 | 305 |
/// | 128x28x28 -> 128 | 259 | 373 | **557** | 355 |
/// | 512x14x14 -> 512 † | 250 | **425** | 288 | 178 |
/// | 256x14x14 -> 256 | 253 | 365 | **431** | 301 |
/// | 512x7x7 -> 512 | 240 | **301** | 175 | 82 |
///
/// So: im2col below 8 input channels (3 loses, 4 ties) and on maps of fewer than
/// `WINOGRAD_MIN_TILES` F(2x2) tiles (7x7, 8x8), except from `PER_RUN_MIN_CHANNELS` input
/// channels, where F(2x2) runs with its filters transformed per run. Otherwise F(4x4) where
/// it has as many F(4x4) tiles (28x28 maps and up) and at least 49 x 32 tile-channels
/// (32x28x28 wins, 16x28x28 loses), F(4x4) with its filters transformed per run on the
/// smaller maps from `PER_RUN_F4_MIN_CHANNELS` input channels, and F(2x2) everywhere else. The table was timed with L2-sized tile
/// blocks; on the rows marked † those streamed 512 -> 512's 37.7 MB of F(4x4) filters from
/// DRAM once per 6 to 8 tiles. With the blocks of at least 64 tiles that `winograd` now
/// cuts, they stream once per image, and F(4x4) wins 512x28x28 too: inside VGG-16
/// (`ferrocnn bench vgg16 --per-layer --threads 1 --algo A`, 2 rounds, features.19 and 21)
/// F(4x4) 5.98-6.34 ms against F(2x2)'s 8.76-8.89 with the same blocks (9.34 with the
/// L2-sized ones).
///
/// The table times one layer again and again, its filters kept in cache; in a model they
/// are not, and the tile rule costs three rows here to win in the models: 256x7x7 and
/// 512x7x7 run im2col (236 and 240 against F(2x2)'s 271 and 301) and 256x14x14 F(2x2)
/// (365 against F(4x4)'s 431). Inside ResNet-50 (`ferrocnn bench resnet50 --per-layer
/// --threads 1`) layer3's 256x14x14 runs 0.73 ms on F(2x2) against 0.87-0.91 on F(4x4),
/// and layer4's 512x7x7 1.20-1.22 ms on im2col against 1.13-1.17 on F(2x2); the whole
/// model 31.9 ms against 32.4 (medians of three alternating runs) and 138.6 MB resident
/// against 200.5. (Those were F(4x4) and F(2x2) with filters transformed ahead; the
/// filters transformed per run since took the 7x7 layers of 512 channels and the 14x14 of
/// 256 back to Winograd.) Otherwise the choice is right on every row but 16x28x28's neighbour
/// rows, within 5%. F(6x6) is never the fastest here: its 64 GEMMs per block and larger
/// transforms cost more than its 1.27x fewer multiplications save. It stays selectable
/// and `Tune` times it.
fn winograd_choice(desc: &Conv2dDesc) -> Option<Algo> {
    if !Algo::WinogradF4.applies_to(desc) {
        return None;
    }
    let s = desc.validate().ok()?;
    let cg = s.group_in_channels;
    let tiles = |m: usize| s.out_h.div_ceil(m) * s.out_w.div_ceil(m);
    if cg < WINOGRAD_MIN_CHANNELS {
        return None;
    }
    if tiles(2) < WINOGRAD_MIN_TILES {
        return (cg >= PER_RUN_MIN_CHANNELS).then_some(Algo::WinogradF2);
    }
    let f4 = (tiles(4) >= WINOGRAD_MIN_TILES && tiles(4) * cg >= F4_MIN_TILE_CHANNELS)
        || (tiles(4) < WINOGRAD_MIN_TILES && cg >= PER_RUN_F4_MIN_CHANNELS);
    Some(if f4 { Algo::WinogradF4 } else { Algo::WinogradF2 })
}

/// `WinogradSplit` for a kernel larger than 3x3 at stride 1 where its 3x3 layer (pieces x
/// C/g input channels, the output's map plus 2) would run F(4x4) and the layer itself has
/// the input channels Winograd needs; else nothing, and im2col runs it.
///
/// 5x5 layers, padding 2, 1 thread, ms, im2col / split (`ferrocnn conv --input 1xCxHxW
/// --out-channels K --kernel 5 --pad 2 --algo A --threads 1`, two interleaved runs): 3x3
/// layers on F(4x4) 8x56x56 -> 16 0.140 / 0.124, 16x28x28 -> 32 0.118 / 0.097, 48x27x27 ->
/// 128 0.86 / 0.59; on F(2x2) 32x14x14 -> 64 0.079 / 0.098, 64x14x14 -> 128 0.308 / 0.296;
/// 3x32x32 -> 6 (no padding; 12 channels, F(2x2)) 0.011 / 0.013. Inside AlexNet, whose
/// 5x5 layer is the only one in the zoo it takes (LeNet's are too small), 1 / 2 threads,
/// interleaved rounds (`ferrocnn bench alexnet --algo A`, medians): the layer 1.78-1.81 ->
/// 1.61-1.68 ms / 0.93-1.05 -> 0.87-0.92, the model 11.95 -> 11.23 and 12.08 -> 11.59 (5
/// rounds each) / 8.00 -> 7.75 (7 rounds). The model gains more than the layer: the three
/// F(2x2) layers after it ran 10-17% faster on 1 thread (5 rounds of `--per-layer`), for
/// a reason not found — not the larger scratch (the model with im2col and the split's
/// scratch size ran as with its own).
fn split_choice(desc: &Conv2dDesc) -> Option<Algo> {
    if !Algo::WinogradSplit.applies_to(desc) {
        return None;
    }
    let s = desc.validate().ok()?;
    let inner = super::kernel_split::inner_desc(desc, &s);
    (s.group_in_channels >= WINOGRAD_MIN_CHANNELS && winograd_choice(&inner) == Some(Algo::WinogradF4))
        .then_some(Algo::WinogradSplit)
}

impl std::fmt::Display for Algo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
