//! Packed, cache-blocked SGEMM with a fused epilogue.
//!
//! [`Gemm`] is the plan: A (say, a layer's weights) is validated and packed once, then `run`
//! multiplies it by any B without allocating. [`sgemm`] is the one-shot form.

pub(crate) mod blocking;
pub(crate) mod driver;
pub(crate) mod epilogue;
pub(crate) mod in_place;
pub(crate) mod microkernel;
pub(crate) mod pack;
pub(crate) mod parallel;
#[cfg(test)]
mod tests;
pub(crate) mod tile_choice;
pub(crate) mod transposed_store;

pub use blocking::{CacheSizes, cache_sizes};

use crate::dispatch::{KernelTable, PlanOptions, table};
use crate::epilogue::Epilogue;
use crate::error::{Result, check_len, checked_product, invalid};
use blocking::{Blocking, blocking};
use driver::{Feed, GemmTask, IndirectIndex, IndirectSource, Operand};
use epilogue::FusedEpilogue;
use in_place::InPlaceRows;
use microkernel::TileKernel;
use pack::{PackedPanels, StridedSource};
use parallel::Split;

/// C (m x n) = epilogue(A (m x k) * B (k x n)), all row-major; A packed once.
///
/// The epilogue's per-channel vectors run along the rows of C (m entries).
pub struct Gemm {
    shape: Shape,
    a: PackedPanels,
}

/// What a GEMM is, apart from its A: sizes, kernels, blocking, epilogue, threads.
struct Shape {
    m: usize,
    k: usize,
    threads: usize,
    kernels: &'static KernelTable,
    tile: &'static TileKernel,
    blocking: Blocking,
    epilogue: FusedEpilogue,
    /// A is packed ahead ([`Gemm`]) or read in place ([`InPlaceGemm`]); B is packed on
    /// the fly or, behind a packed A, read in place where that is faster
    /// (`in_place::reads_b_in_place`; the indirect kernels read B packed).
    feeds: (Feed, Feed),
}

impl Shape {
    /// `n` known (one-shot): choose the tile for it, and A is read in place.
    fn new(
        m: usize,
        k: usize,
        a_len: usize,
        epilogue: &Epilogue,
        options: PlanOptions,
        n: Option<usize>,
    ) -> Result<Shape> {
        if m == 0 || k == 0 {
            return invalid!("gemm: `m` {m} and `k` {k} must be at least 1");
        }
        check_len("a", a_len, checked_product("gemm A m*k", &[m, k])?)?;
        epilogue.validate(m)?;
        let kernels = table(options.isa)?;
        let tile = tile_choice::choose_tile(kernels.tiles, m, n);
        let feeds = match n {
            Some(_) => (Feed::InPlace, Feed::OnTheFly),
            None if in_place::reads_b_in_place(tile, m, k) => (Feed::Ahead, Feed::InPlace),
            None => (Feed::Ahead, Feed::OnTheFly),
        };
        Ok(Shape {
            m,
            k,
            threads: options.threads.max(1),
            kernels,
            tile,
            blocking: blocking(tile, k, n.is_some()),
            epilogue: FusedEpilogue::new(epilogue, None, m),
            feeds,
        })
    }

    fn split(&self, n: usize) -> Split {
        Split::new(self.m, n, self.tile, self.feeds, self.threads)
    }

    fn scratch_len(&self, n: usize) -> usize {
        self.split(n).scratch_len(self.feeds, self.tile, self.blocking, false)
    }

    /// Validates B, C, the residual and scratch for `n` columns, then runs.
    fn multiply(
        &self,
        a: Operand,
        n: usize,
        b: &[f32],
        residual: Option<&[f32]>,
        c: &mut [f32],
        scratch: &mut [f32],
    ) -> Result<()> {
        if n == 0 {
            return invalid!("gemm: `n` is 0, it must be at least 1");
        }
        check_len("b", b.len(), checked_product("gemm B k*n", &[self.k, n])?)?;
        let c_len = checked_product("gemm C m*n", &[self.m, n])?;
        check_len("c", c.len(), c_len)?;
        let residual = self.epilogue.check_residual("gemm", residual, c_len)?;
        let split = self.split(n);
        let needed = split.scratch_len(self.feeds, self.tile, self.blocking, false);
        if scratch.len() < needed {
            return invalid!("gemm: `scratch` has {} floats, this plan needs {needed} for n = {n}", scratch.len());
        }
        let b_source = StridedSource { data: b, free_len: n, k_len: self.k, free_stride: 1, k_stride: n };
        debug_assert_eq!(a.feed(), self.feeds.0);
        let b = match self.feeds.1 {
            // `b` holds k rows of n floats (checked above).
            Feed::InPlace => Operand::InPlace(InPlaceRows::new(b_source).ok_or_else(|| {
                crate::Error::Unsupported(format!("gemm: internal: B of {} x {n} does not hold its rows", self.k))
            })?),
            _ => Operand::Source(&b_source),
        };
        let task = GemmTask {
            m: self.m,
            n,
            k: self.k,
            a,
            b,
            c: c.as_mut_ptr(),
            rs_c: n,
            cs_c: 1,
            epilogue: self.epilogue.task(0, residual, true),
            tile: self.tile,
            kernels: self.kernels,
            blocking: self.blocking,
            then: None,
        };
        // SAFETY: lengths of B, C and the residual were checked against m, n, k; A (packed
        // for this shape, or an indirect source checked against its buffer) covers m x k;
        // the epilogue vectors have m entries (validated at creation); scratch is long
        // enough; the table was returned by `dispatch::table`, which checked the CPU.
        unsafe { parallel::run(&task, &split, scratch) };
        Ok(())
    }
}

impl Gemm {
    /// Packs `a` (m x k, row-major). Chooses the microkernel family for large N.
    pub fn new(m: usize, k: usize, a: &[f32], epilogue: &Epilogue, options: PlanOptions) -> Result<Gemm> {
        let mut shape = Shape::new(m, k, a.len(), epilogue, options, None)?;
        let source = StridedSource { data: a, free_len: m, k_len: k, free_stride: k, k_stride: 1 };
        let mut a = PackedPanels::new(&source, shape.tile.mr);
        // The scale goes into the packed rows, as a convolution's does (`conv::plan`).
        if let Some(scale) = shape.epilogue.take_scale() {
            a.scale_free(&scale);
        }
        Ok(Gemm { shape, a })
    }

    /// Scratch floats `run` needs for `n` columns.
    pub fn scratch_len(&self, n: usize) -> usize {
        self.shape.scratch_len(n)
    }

    /// The instruction-set path this plan runs.
    pub fn isa(&self) -> crate::Isa {
        self.shape.kernels.isa
    }

    /// The microkernel family chosen, e.g. `avx512f_8x48`.
    pub fn kernel_name(&self) -> &'static str {
        self.shape.tile.name
    }

    /// C = epilogue(A * B); `b` is k x n, `c` and `residual` m x n, all row-major.
    pub fn run(&self, n: usize, b: &[f32], residual: Option<&[f32]>, c: &mut [f32], scratch: &mut [f32]) -> Result<()> {
        self.shape.multiply(Operand::Packed(self.a.view()), n, b, residual, c, scratch)
    }
}

/// One-shot C = epilogue(A * B), row-major; allocates its scratch. A is read in place by the
/// indirect microkernels (row i at `i*k`, column p at `+p`), so only B is packed; for repeated
/// products with the same A, a [`Gemm`] packs A once instead.
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    epilogue: &Epilogue,
    residual: Option<&[f32]>,
    options: PlanOptions,
) -> Result<()> {
    check_len("a", a.len(), checked_product("gemm A m*k", &[m, k])?)?;
    let plan = InPlaceGemm::new(m, k, epilogue, options, n)?;
    let mut scratch = vec![0.0f32; plan.scratch_len(n.max(1))];
    plan.run(a, n, b, residual, c, &mut scratch)
}

/// A GEMM whose A (m x k, row-major) stays where its owner keeps it and is read in place by
/// the indirect kernels: for weights too large to hold twice (a linear layer's), with the
/// epilogue fused as in [`Gemm`].
pub(crate) struct InPlaceGemm {
    shape: Shape,
    index: IndirectIndex,
}

impl InPlaceGemm {
    /// `n`: the N the family is chosen for.
    pub(crate) fn new(m: usize, k: usize, epilogue: &Epilogue, options: PlanOptions, n: usize) -> Result<Self> {
        // The A length is only checked at `run`; saturating, so absurd sizes reach
        // `Shape::new`'s overflow error instead of wrapping here.
        let shape = Shape::new(m, k, m.saturating_mul(k), epilogue, options, Some(n))?;
        let index = IndirectIndex::new((0..k).collect(), (0..m).map(|i| i * k).collect())
            .ok_or_else(|| crate::Error::Overflow(format!("gemm: a {m}x{k} index overflows usize")))?;
        Ok(InPlaceGemm { shape, index })
    }

    pub(crate) fn scratch_len(&self, n: usize) -> usize {
        self.shape.scratch_len(n)
    }

    /// The fused epilogue (its shift holds the bias).
    pub(crate) fn epilogue(&self) -> &FusedEpilogue {
        &self.shape.epilogue
    }

    /// C = epilogue(A * B): `a` m x k, `b` k x n, `c` and `residual` m x n, row-major.
    pub(crate) fn run(
        &self,
        a: &[f32],
        n: usize,
        b: &[f32],
        residual: Option<&[f32]>,
        c: &mut [f32],
        scratch: &mut [f32],
    ) -> Result<()> {
        check_len("a", a.len(), self.shape.m * self.shape.k)?;
        // Row i of A at i*k, column p at +p: the index reaches (m-1)*k + k-1 < a.len().
        let source = IndirectSource::new(a, &self.index)
            .ok_or_else(|| crate::Error::Unsupported("gemm: internal: A does not hold its own rows".into()))?;
        self.shape.multiply(Operand::Indirect(source), n, b, residual, c, scratch)
    }
}
