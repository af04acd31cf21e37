//! The C ABI: create / run / destroy plans for convolution (every algorithm, depthwise
//! included, with the fused epilogue), pooling, linear and batch-norm, declared for C in
//! `kernels/include/ferrocnn.h` (which `tests/c_abi.rs` checks against these signatures).
//!
//! Every entry point:
//! - returns a [`ferrocnn_status`]; on failure, [`ferrocnn_last_error_message`] says why,
//!   naming the argument and the numbers;
//! - checks each pointer for NULL (NULL with length 0 is an empty buffer) and alignment,
//!   and each length against the plan, and refuses an output that overlaps an input;
//! - catches panics, so no unwinding crosses into C (`FERROCNN_INTERNAL_ERROR`).
//!
//! Plans run on a rayon pool of [`ferrocnn_set_num_threads`] threads, fixed when the plan
//! is created. A plan is immutable once created: several threads may run it at once, each
//! with its own output and scratch.
#![allow(non_camel_case_types)]

mod batch_norm;
mod buffers;
mod conv;
mod linear;
mod pool;

pub use batch_norm::*;
pub use conv::*;
pub use linear::*;
pub use pool::*;

use crate::Error;
use crate::dispatch::{PlanOptions, active_isa};
use crate::epilogue::Activation;
use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The result of every call: `FERROCNN_OK` or why not.
pub type ferrocnn_status = i32;
pub const FERROCNN_OK: ferrocnn_status = 0;
/// An argument is wrong: a NULL or misaligned pointer, a length, a descriptor field.
pub const FERROCNN_INVALID_ARGUMENT: ferrocnn_status = 1;
/// A valid request this algorithm, instruction set or CPU does not handle.
pub const FERROCNN_UNSUPPORTED: ferrocnn_status = 2;
/// A bug in ferrocnn, caught before it could unwind into the caller.
pub const FERROCNN_INTERNAL_ERROR: ferrocnn_status = 3;

/// Bumped whenever a signature or struct of the header changes.
pub const FERROCNN_ABI_VERSION: u32 = 1;

/// Activation fused into a plan's output.
pub type ferrocnn_activation = i32;
pub const FERROCNN_ACTIVATION_IDENTITY: ferrocnn_activation = 0;
pub const FERROCNN_ACTIVATION_RELU: ferrocnn_activation = 1;
pub const FERROCNN_ACTIVATION_RELU6: ferrocnn_activation = 2;
/// x for x >= 0, `leaky_relu_slope * x` otherwise.
pub const FERROCNN_ACTIVATION_LEAKY_RELU: ferrocnn_activation = 3;
pub const FERROCNN_ACTIVATION_SIGMOID: ferrocnn_activation = 4;

/// Why the last failing call on this thread failed.
struct LastError;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

impl LastError {
    fn set(message: &str) {
        // Interior NULs cannot occur in our messages, but a C string must not have them.
        let text = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
        LAST_ERROR.with(|e| *e.borrow_mut() = text);
    }
}

/// Why the last call on this thread that did not return `FERROCNN_OK` failed, as a
/// NUL-terminated UTF-8 string ("" if none has failed). Valid until the next failing call
/// on the same thread; never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn ferrocnn_last_error_message() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// The ABI version of the library, to compare with `FERROCNN_ABI_VERSION` of the header.
#[unsafe(no_mangle)]
pub extern "C" fn ferrocnn_abi_version() -> u32 {
    FERROCNN_ABI_VERSION
}

/// The instruction-set path plans created now use (`FERROCNN_ISA` or the best the CPU
/// has): "portable", "avx2" or "avx512". A static string; never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn ferrocnn_isa() -> *const c_char {
    match active_isa() {
        crate::Isa::Portable => c"portable".as_ptr(),
        crate::Isa::Avx2Fma => c"avx2".as_ptr(),
        crate::Isa::Avx512f => c"avx512".as_ptr(),
    }
}

/// Threads of plans created from now on; 0 (the default) means one per core.
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// The largest thread count accepted: far beyond any machine, small enough that a garbage
/// value is caught rather than spawning millions of threads.
const MAX_THREADS: usize = 4096;

/// Sets the number of threads that plans created after this call run on (0: one per
/// core). Plans already created keep theirs. On Linux, when they fit the CPUs the process
/// may use, the workers are bound one to each of the first of them (see [`crate::thread_pool()`]).
#[unsafe(no_mangle)]
pub extern "C" fn ferrocnn_set_num_threads(threads: usize) -> ferrocnn_status {
    guard(|| {
        if threads > MAX_THREADS {
            return Err(Error::InvalidArgument(format!(
                "ferrocnn_set_num_threads: `threads` {threads} is more than {MAX_THREADS}"
            )));
        }
        THREADS.store(threads, Ordering::Relaxed);
        Ok(())
    })
}

/// The number of threads plans created now run on.
#[unsafe(no_mangle)]
pub extern "C" fn ferrocnn_num_threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => num_cpus::get().max(1),
        n => n,
    }
}

/// What a plan created now runs with: the active ISA, the thread count, and the shared
/// pool of that many threads (one pool per count, not one per plan).
fn runtime() -> Result<(PlanOptions, Arc<rayon::ThreadPool>), Error> {
    static POOL: Mutex<Option<Arc<rayon::ThreadPool>>> = Mutex::new(None);
    let threads = ferrocnn_num_threads();
    let mut cached = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let pool = match cached.as_ref() {
        Some(pool) if pool.current_num_threads() == threads => pool.clone(),
        _ => {
            let pool = Arc::new(crate::thread_pool(threads)?);
            *cached = Some(pool.clone());
            pool
        }
    };
    Ok((PlanOptions { isa: active_isa(), threads }, pool))
}

/// A kernels plan with the pool of the thread count it was created with: every C plan
/// type is one of these (opaque to C).
pub struct Planned<T> {
    plan: T,
    pool: Arc<rayon::ThreadPool>,
}

impl<T: Send> Planned<T> {
    /// Plans with the current ISA and thread count, on the pool the plan will run on
    /// (`Algo::Tune` times its candidates there).
    fn new(make: impl FnOnce(PlanOptions) -> Result<T, Error> + Send) -> Result<Planned<T>, Error> {
        let (options, pool) = runtime()?;
        let plan = pool.install(|| make(options))?;
        Ok(Planned { plan, pool })
    }
}

impl<T: Sync> Planned<T> {
    /// Runs `body` with the plan on the plan's pool.
    fn run<R: Send>(&self, body: impl FnOnce(&T) -> R + Send) -> R {
        self.pool.install(|| body(&self.plan))
    }
}

/// Runs `body`, turning its error or panic into a status and the thread's last error.
fn guard(body: impl FnOnce() -> Result<(), Error>) -> ferrocnn_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => FERROCNN_OK,
        Ok(Err(e)) => {
            LastError::set(&e.to_string());
            match e {
                Error::Unsupported(_) => FERROCNN_UNSUPPORTED,
                _ => FERROCNN_INVALID_ARGUMENT,
            }
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            LastError::set(&format!("internal error (please report): {what}"));
            FERROCNN_INTERNAL_ERROR
        }
    }
}

/// The activation `code` (with LeakyReLU's `slope`), or an error naming `field`.
fn activation(field: &str, code: ferrocnn_activation, slope: f32) -> Result<Activation, Error> {
    Ok(match code {
        FERROCNN_ACTIVATION_IDENTITY => Activation::Identity,
        FERROCNN_ACTIVATION_RELU => Activation::Relu,
        FERROCNN_ACTIVATION_RELU6 => Activation::Relu6,
        FERROCNN_ACTIVATION_LEAKY_RELU => Activation::LeakyRelu(slope),
        FERROCNN_ACTIVATION_SIGMOID => Activation::Sigmoid,
        other => {
            return Err(Error::InvalidArgument(format!(
                "`{field}` {other} is not a ferrocnn_activation (0 identity .. 4 sigmoid)"
            )));
        }
    })
}

/// Creates a plan with `make` into `*out`: NULL first (so it stays NULL on failure), the
/// boxed plan on success.
///
/// # Safety
/// Unless NULL or misaligned, `out` points to a `*mut T` the caller lets us write.
unsafe fn create<T>(out: *mut *mut T, make: impl FnOnce() -> Result<T, Error>) -> ferrocnn_status {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe { buffers::store("plan", out, std::ptr::null_mut())? };
        let plan = Box::into_raw(Box::new(make()?));
        // SAFETY: `store` above checked `out` (non-NULL, aligned) and wrote it.
        unsafe { out.write(plan) };
        Ok(())
    })
}

/// Drops a plan made by [`create`]; NULL is a no-op.
///
/// # Safety
/// `plan` is NULL or came from `create::<T>` and has not been destroyed.
unsafe fn destroy<T>(plan: *mut T) {
    if plan.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller's contract: a live box from `create` of this type.
        drop(unsafe { Box::from_raw(plan) })
    }));
}
