//! Packed, cache-blocked SGEMM with a fused epilogue.
//!
//! [`Gemm`] is the plan: A (say, a layer's weights) is validated and packed once, then `run`
//! multiplies it by any B without allocating. [`sgemm`] is the one-shot form.

pub(crate) mod blocking;
pub(crate) mod driver;
pub(crate) mod epilogue;
pub(crate) mod microkernel;
pub(crate) mod pack;
pub(crate) mod parallel;
#[cfg(test)]
mod tests;
pub(crate) mod tile_choice;

pub use blocking::{CacheSizes, cache_sizes};

use crate::aligned::AlignedVec;
use crate::dispatch::{KernelTable, PlanOptions, table};
use crate::epilogue::Epilogue;
use crate::error::{Result, check_len, checked_product, invalid};
use blocking::{Blocking, blocking};
use driver::{GemmTask, Operand, TaskEpilogue};
use microkernel::TileKernel;
use pack::{PackedPanels, StridedSource};
use parallel::Split;

/// C (m x n) = epilogue(A (m x k) * B (k x n)), all row-major; A packed once.
///
/// The epilogue's per-channel vectors run along the rows of C (m entries).
pub struct Gemm {
    m: usize,
    k: usize,
    threads: usize,
    kernels: &'static KernelTable,
    tile: &'static TileKernel,
    blocking: Blocking,
    a: PackedPanels,
    scale: Option<AlignedVec>,
    shift: Option<AlignedVec>,
    residual: bool,
    activation: crate::epilogue::Activation,
}

impl Gemm {
    /// Packs `a` (m x k, row-major). Chooses the microkernel family for large N.
    pub fn new(m: usize, k: usize, a: &[f32], epilogue: &Epilogue, options: PlanOptions) -> Result<Gemm> {
        Gemm::build(m, k, a, epilogue, options, None)
    }

    fn build(
        m: usize,
        k: usize,
        a: &[f32],
        epilogue: &Epilogue,
        options: PlanOptions,
        n: Option<usize>,
    ) -> Result<Gemm> {
        if m == 0 || k == 0 {
            return invalid!("gemm: `m` {m} and `k` {k} must be at least 1");
        }
        check_len("a", a.len(), checked_product("gemm A m*k", &[m, k])?)?;
        epilogue.validate(m)?;
        let kernels = table(options.isa)?;
        let tile = tile_choice::choose_tile(kernels.tiles, m, n);
        let source = StridedSource { data: a, free_len: m, k_len: k, free_stride: k, k_stride: 1 };
        let to_aligned = |v: &Vec<f32>| AlignedVec::from_slice(crate::aligned::ALIGN, v);
        Ok(Gemm {
            m,
            k,
            threads: options.threads.max(1),
            kernels,
            tile,
            blocking: blocking(tile, k),
            a: PackedPanels::new(&source, tile.mr),
            scale: epilogue.scale.as_ref().map(to_aligned),
            shift: epilogue.shift.as_ref().map(to_aligned),
            residual: epilogue.residual,
            activation: epilogue.activation,
        })
    }

    fn split(&self, n: usize) -> Split {
        Split::new(self.m, n, self.tile, (true, false), self.threads)
    }

    /// Scratch floats `run` needs for `n` columns.
    pub fn scratch_len(&self, n: usize) -> usize {
        self.split(n).scratch_len((true, false), self.tile, self.blocking)
    }

    /// The instruction-set path this plan runs.
    pub fn isa(&self) -> crate::Isa {
        self.kernels.isa
    }

    /// The microkernel family chosen, e.g. `avx512f_8x48`.
    pub fn kernel_name(&self) -> &'static str {
        self.tile.name
    }

    /// C = epilogue(A * B); `b` is k x n, `c` and `residual` m x n, all row-major.
    pub fn run(&self, n: usize, b: &[f32], residual: Option<&[f32]>, c: &mut [f32], scratch: &mut [f32]) -> Result<()> {
        if n == 0 {
            return invalid!("gemm: `n` is 0, it must be at least 1");
        }
        check_len("b", b.len(), checked_product("gemm B k*n", &[self.k, n])?)?;
        let c_len = checked_product("gemm C m*n", &[self.m, n])?;
        check_len("c", c.len(), c_len)?;
        let residual_ptr = match (self.residual, residual) {
            (true, Some(r)) => {
                check_len("residual", r.len(), c_len)?;
                r.as_ptr()
            }
            (true, None) => {
                return invalid!("gemm: the epilogue adds a residual but `residual` is None");
            }
            (false, Some(_)) => {
                return invalid!("gemm: `residual` given but the epilogue adds none");
            }
            (false, None) => std::ptr::null(),
        };
        let split = self.split(n);
        let needed = split.scratch_len((true, false), self.tile, self.blocking);
        if scratch.len() < needed {
            return invalid!("gemm: `scratch` has {} floats, this plan needs {needed} for n = {n}", scratch.len());
        }
        let b_source = StridedSource { data: b, free_len: n, k_len: self.k, free_stride: 1, k_stride: n };
        let task = GemmTask {
            m: self.m,
            n,
            k: self.k,
            a: Operand::Packed(&self.a),
            b: Operand::Source(&b_source),
            c: c.as_mut_ptr(),
            rs_c: n,
            cs_c: 1,
            epilogue: TaskEpilogue {
                channels_on_rows: true,
                scale: self.scale.as_ref().map_or(std::ptr::null(), |v| v.as_ptr()),
                shift: self.shift.as_ref().map_or(std::ptr::null(), |v| v.as_ptr()),
                residual: residual_ptr,
                activation: self.activation,
            },
            tile: self.tile,
            epilogue_fn: self.kernels.epilogue,
            blocking: self.blocking,
        };
        // SAFETY: lengths of B, C and the residual were checked against m, n, k; the epilogue
        // vectors have m entries (validated at creation); scratch is long enough; the table
        // was returned by `dispatch::table`, which checked the CPU.
        unsafe { parallel::run(&task, &split, scratch) };
        Ok(())
    }
}

/// One-shot C = epilogue(A * B), row-major, packing A and B as it goes; allocates its
/// scratch. For repeated products with the same A, build a [`Gemm`].
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
    let plan = Gemm::build(m, k, a, epilogue, options, Some(n))?;
    let mut scratch = vec![0.0f32; plan.scratch_len(n.max(1))];
    plan.run(n, b, residual, c, &mut scratch)
}
