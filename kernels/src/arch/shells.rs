//! The `#[target_feature]` shells of every generic kernel body, declared once.
//!
//! Each instruction-set folder invokes [`kernel_shells!`] with its attributes and its
//! [`Simd`](super::simd::Simd) type, and [`crate::dispatch`] builds its table from the
//! resulting functions: adding a kernel is one line here and one in the table, and no path
//! can be forgotten. (The tile families, which do differ per path, stay in each folder's
//! `gemm.rs`.)

/// Declares this path's shells: `[attributes] Simd type, fma_chains = N`.
macro_rules! kernel_shells {
    ([$(#[$attr:meta])*] $simd:ty, fma_chains = $chains:literal) => {
        /// Independent FMAs per iteration of the peak loop: enough for latency x pipes,
        /// few enough for the register file.
        pub(crate) const FMA_CHAINS: usize = $chains;

        /// Whether the kernels that mask a tap off in every step run on this path.
        pub(crate) const MASKED_OPS: bool = <$simd as crate::arch::simd::Simd>::MASKED_OPS;

        #[allow(clippy::too_many_arguments)]
        /// # Safety
        /// The CPU runs this path (the dispatcher checked); `t` satisfies `gemm::epilogue::epilogue`'s contract.
        $(#[$attr])*
        pub(crate) unsafe fn epilogue(t: &crate::gemm::epilogue::EpilogueTile) {
            // SAFETY: forwarded contract.
            unsafe { crate::gemm::epilogue::epilogue::<$simd>(t) }
        }

        /// # Safety
        /// The CPU runs this path (the dispatcher checked); `t` satisfies `gemm::transposed_store::store_transposed`'s contract.
        $(#[$attr])*
        pub(crate) unsafe fn transposed_store(t: &crate::gemm::transposed_store::TransposedTile) {
            // SAFETY: forwarded contract.
            unsafe { crate::gemm::transposed_store::store_transposed::<$simd>(t) }
        }

        #[allow(clippy::too_many_arguments)]
        /// # Safety
        /// The CPU runs this path (the dispatcher checked); none beyond the path.
        $(#[$attr])*
        pub(crate) unsafe fn fma_loop(iters: usize) -> f32 {
            // SAFETY: forwarded contract.
            unsafe { crate::peak::fma_loop::<$simd, FMA_CHAINS>(iters) }
        }

        #[allow(clippy::too_many_arguments)]
        /// # Safety
        /// The CPU runs this path (the dispatcher checked); none beyond the path.
        $(#[$attr])*
        pub(crate) unsafe fn pool_band(g: &crate::ops::pool::PoolGeometry, input: &[f32], scratch: &mut [f32], output: &mut [f32]) {
            // SAFETY: forwarded contract.
            unsafe { crate::ops::pool::pool_band::<$simd>(g, input, scratch, output) }
        }

        /// # Safety
        /// The CPU runs this path (the dispatcher checked); none beyond the path.
        $(#[$attr])*
        pub(crate) unsafe fn phase_split(
            phases: &crate::conv::phases::Phases,
            d: &crate::shape::Conv2dDesc,
            src: &[f32],
            planes: &mut [f32],
        ) {
            crate::conv::phases::split_channel(phases, d, src, planes)
        }

        /// # Safety
        /// The CPU runs this path (the dispatcher checked); none beyond the path.
        $(#[$attr])*
        pub(crate) unsafe fn phased_pack(
            src: &crate::conv::phases::PhasedSource,
            dst: &mut [f32],
            width: usize,
            f0: usize,
            count: usize,
            k0: usize,
            kc: usize,
        ) {
            crate::conv::phases::pack_phased(src, dst, width, f0, count, k0, kc)
        }

        #[allow(clippy::too_many_arguments)]
        /// # Safety
        /// The CPU runs this path (the dispatcher checked); none beyond the path.
        $(#[$attr])*
        pub(crate) unsafe fn global_pool(kind: crate::shape::PoolKind, input: &[f32], hw: usize, output: &mut [f32]) {
            // SAFETY: forwarded contract.
            unsafe { crate::ops::pool::global_band::<$simd>(kind, input, hw, output) }
        }

        #[allow(clippy::too_many_arguments)]
        /// # Safety
        /// The CPU runs this path (the dispatcher checked); none beyond the path.
        $(#[$attr])*
        pub(crate) unsafe fn activation(act: crate::epilogue::Activation, data: &mut [f32]) {
            // SAFETY: forwarded contract.
            unsafe { crate::ops::elementwise::activation_body::<$simd>(act, data) }
        }

        #[allow(clippy::too_many_arguments)]
        /// # Safety
        /// The CPU runs this path (the dispatcher checked); `a`, `b` and `out` have equal lengths.
        $(#[$attr])*
        pub(crate) unsafe fn add(act: crate::epilogue::Activation, a: &[f32], b: &[f32], out: &mut [f32]) {
            // SAFETY: forwarded contract.
            unsafe { crate::ops::elementwise::add_body::<$simd>(act, a, b, out) }
        }

        #[allow(clippy::too_many_arguments)]
        /// # Safety
        /// The CPU runs this path (the dispatcher checked); none beyond the path.
        $(#[$attr])*
        pub(crate) unsafe fn scale(plane: &mut [f32], scale: f32) {
            // SAFETY: forwarded contract.
            unsafe { crate::ops::elementwise::scale_body::<$simd>(plane, scale) }
        }

        #[allow(clippy::too_many_arguments)]
        /// # Safety
        /// The CPU runs this path (the dispatcher checked); none beyond the path.
        $(#[$attr])*
        pub(crate) unsafe fn affine(plane: &mut [f32], scale: f32, shift: f32, act: crate::epilogue::Activation) {
            // SAFETY: forwarded contract.
            unsafe { crate::ops::batch_norm::affine_body::<$simd>(plane, scale, shift, act) }
        }

        #[allow(clippy::too_many_arguments)]
        /// # Safety
        /// The CPU runs this path (the dispatcher checked); none beyond the path.
        $(#[$attr])*
        pub(crate) unsafe fn softmax(row: &mut [f32]) {
            // SAFETY: forwarded contract.
            unsafe { crate::ops::elementwise::softmax_body::<$simd>(row) }
        }

        #[allow(clippy::too_many_arguments)]
        /// # Safety
        /// The CPU runs this path (the dispatcher checked); `w` holds `y.len()` rows of `x.len()`; `bias` is empty or `y.len()` long.
        $(#[$attr])*
        pub(crate) unsafe fn gemv(w: &[f32], x: &[f32], bias: &[f32], act: crate::epilogue::Activation, stream: bool, y: &mut [f32]) {
            // SAFETY: forwarded contract.
            unsafe { crate::ops::linear::gemv_body::<$simd>(w, x, bias, act, stream, y) }
        }

        #[allow(clippy::too_many_arguments)]
        /// # Safety
        /// The CPU runs this path (the dispatcher checked); `image` is `channels` planes of `out.len()`.
        $(#[$attr])*
        pub(crate) unsafe fn lrn(p: &crate::ops::lrn::LrnParams, image: &[f32], channels: usize, c: usize, out: &mut [f32]) {
            // SAFETY: forwarded contract.
            unsafe { crate::ops::lrn::lrn_channel::<$simd>(p, image, channels, c, out) }
        }

        #[allow(clippy::too_many_arguments)]
        /// # Safety
        /// The CPU runs this path (the dispatcher checked); none beyond the path.
        $(#[$attr])*
        pub(crate) unsafe fn depthwise_lanes(g: &crate::conv::depthwise::DepthwiseGeometry, band: &crate::conv::depthwise::DepthwiseBand, scratch: &mut [f32], output: &mut [f32]) {
            // SAFETY: forwarded contract.
            unsafe { crate::conv::depthwise::depthwise_band::<$simd, { crate::conv::depthwise::Sweep::Lanes as usize }>(g, band, scratch, output) }
        }

        /// # Safety
        /// The CPU runs this path (the dispatcher checked); none beyond the path.
        $(#[$attr])*
        pub(crate) unsafe fn depthwise_shifted(g: &crate::conv::depthwise::DepthwiseGeometry, band: &crate::conv::depthwise::DepthwiseBand, scratch: &mut [f32], output: &mut [f32]) {
            // SAFETY: forwarded contract.
            unsafe { crate::conv::depthwise::depthwise_band::<$simd, { crate::conv::depthwise::Sweep::Shifted as usize }>(g, band, scratch, output) }
        }

        /// # Safety
        /// The CPU runs this path (the dispatcher checked); none beyond the path.
        $(#[$attr])*
        pub(crate) unsafe fn depthwise_planes(g: &crate::conv::depthwise::DepthwiseGeometry, band: &crate::conv::depthwise::DepthwiseBand, scratch: &mut [f32], output: &mut [f32]) {
            // SAFETY: forwarded contract.
            unsafe { crate::conv::depthwise::depthwise_band::<$simd, { crate::conv::depthwise::Sweep::Planes as usize }>(g, band, scratch, output) }
        }

        /// # Safety
        /// The CPU runs this path (the dispatcher checked); the job satisfies `input_transform`'s contract.
        $(#[$attr])*
        pub(crate) unsafe fn winograd_input_f2_folded(job: &crate::conv::winograd::transform::InputJob) {
            // SAFETY: forwarded contract.
            unsafe {
                crate::conv::winograd::transform::input_transform::<$simd, crate::conv::winograd::transform::F2Folded, 2, 4>(job)
            }
        }

        /// # Safety
        /// The CPU runs this path (the dispatcher checked); the job satisfies `filter_transform`'s contract.
        $(#[$attr])*
        pub(crate) unsafe fn winograd_filters_f2(job: &crate::conv::winograd::transform::FilterJob) {
            // SAFETY: forwarded contract.
            unsafe {
                crate::conv::winograd::transform::filter_transform::<$simd, crate::conv::winograd::transform::F2Folded, 4>(job)
            }
        }

        /// # Safety
        /// The CPU runs this path (the dispatcher checked); the job satisfies `filter_transform`'s contract.
        $(#[$attr])*
        pub(crate) unsafe fn winograd_filters_f4(job: &crate::conv::winograd::transform::FilterJob) {
            // SAFETY: forwarded contract.
            unsafe {
                crate::conv::winograd::transform::filter_transform::<$simd, crate::conv::winograd::transform::F4, 6>(job)
            }
        }

        $crate::arch::shells::winograd_shells!([$(#[$attr])*] $simd,
            winograd_input_f2, winograd_output_f2 = F2, 2, 4;
            winograd_input_f4, winograd_output_f4 = F4, 4, 6;
            winograd_input_f6, winograd_output_f6 = F6, 6, 8);
    };
}
pub(crate) use kernel_shells;

/// The input and output transform shells of each Winograd variant:
/// `input, output = tile, m, alpha;` per variant.
macro_rules! winograd_shells {
    ($attrs:tt $simd:ty, $($input:ident, $output:ident = $tile:ident, $m:literal, $a:literal);+) => {
        $($crate::arch::shells::winograd_shells!(@one $attrs $simd, $input, $output, $tile, $m, $a);)+
    };
    (@one [$(#[$attr:meta])*] $simd:ty, $input:ident, $output:ident, $tile:ident, $m:literal, $a:literal) => {
            /// # Safety
            /// The CPU runs this path (the dispatcher checked); the job satisfies `input_transform`'s contract.
            $(#[$attr])*
            pub(crate) unsafe fn $input(job: &crate::conv::winograd::transform::InputJob) {
                // SAFETY: forwarded contract.
                unsafe {
                    crate::conv::winograd::transform::input_transform::<
                        $simd,
                        crate::conv::winograd::transform::$tile,
                        $m,
                        $a,
                    >(job)
                }
            }

            /// # Safety
            /// The CPU runs this path (the dispatcher checked); the job satisfies `output_transform`'s contract.
            $(#[$attr])*
            pub(crate) unsafe fn $output(job: &crate::conv::winograd::transform::OutputJob) {
                // SAFETY: forwarded contract.
                unsafe {
                    crate::conv::winograd::transform::output_transform::<
                        $simd,
                        crate::conv::winograd::transform::$tile,
                        $m,
                        $a,
                    >(job)
                }
            }
    };
}
pub(crate) use winograd_shells;
