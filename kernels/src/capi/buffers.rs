//! Pointers from C checked into Rust references: NULL, alignment, size and overlap are
//! refused with an error naming the argument, before any reference exists.

use crate::Error;

fn invalid(message: String) -> Error {
    Error::InvalidArgument(message)
}

/// Checks what `slice::from_raw_parts` needs of `len` values of `T` at `ptr`, beyond the
/// memory being the caller's: non-NULL unless empty, aligned, at most `isize::MAX` bytes.
fn check<T>(name: &str, ptr: *const T, len: usize) -> Result<(), Error> {
    if ptr.is_null() {
        return if len == 0 { Ok(()) } else { Err(invalid(format!("`{name}` is NULL but its length is {len}"))) };
    }
    if !ptr.is_aligned() {
        return Err(invalid(format!("`{name}` ({ptr:p}) is not aligned to {} bytes", std::mem::align_of::<T>())));
    }
    if len.checked_mul(std::mem::size_of::<T>()).is_none_or(|bytes| bytes > isize::MAX as usize) {
        return Err(invalid(format!("`{name}`: length {len} is larger than any buffer can be")));
    }
    Ok(())
}

/// `len` floats at `ptr` to read; NULL with length 0 is the empty slice.
///
/// # Safety
/// Unless NULL, `ptr` points to `len` initialised floats that nothing writes for `'a`.
pub(super) unsafe fn input<'a>(name: &str, ptr: *const f32, len: usize) -> Result<&'a [f32], Error> {
    check(name, ptr, len)?;
    if ptr.is_null() {
        return Ok(&[]);
    }
    // SAFETY: `check` established non-NULL, alignment and size; the caller the rest.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// [`input`] where NULL means "not given" (an optional bias or residual).
///
/// # Safety
/// As for [`input`].
pub(super) unsafe fn optional<'a>(name: &str, ptr: *const f32, len: usize) -> Result<Option<&'a [f32]>, Error> {
    if ptr.is_null() {
        return if len == 0 { Ok(None) } else { Err(invalid(format!("`{name}` is NULL but its length is {len}"))) };
    }
    // SAFETY: forwarded contract.
    unsafe { input(name, ptr, len) }.map(Some)
}

/// `len` floats at `ptr` to write.
///
/// # Safety
/// Unless NULL, `ptr` points to `len` floats that nothing else reads or writes for `'a`
/// (overlap with the call's inputs is refused by [`disjoint`] first).
pub(super) unsafe fn output<'a>(name: &str, ptr: *mut f32, len: usize) -> Result<&'a mut [f32], Error> {
    check(name, ptr.cast_const(), len)?;
    if ptr.is_null() {
        return Ok(&mut []);
    }
    // SAFETY: `check` established non-NULL, alignment and size; the caller the rest.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

/// A buffer as the call received it: name, address, floats.
pub(super) type Raw = (&'static str, *const f32, usize);

/// Refuses any two of `buffers` that share memory when at least one is written: Rust's
/// references (and the kernels' assumptions) need a written buffer to be alone.
fn disjoint(written: &[Raw], read: &[Raw]) -> Result<(), Error> {
    let range = |&(_, p, n): &Raw| (p as usize, p as usize + n * 4);
    for (i, w) in written.iter().enumerate() {
        for other in written[i + 1..].iter().chain(read) {
            let ((a0, a1), (b0, b1)) = (range(w), range(other));
            if w.2 > 0 && other.2 > 0 && a0 < b1 && b0 < a1 {
                return Err(invalid(format!(
                    "`{}` overlaps `{}`; a written buffer must not share memory",
                    w.0, other.0
                )));
            }
        }
    }
    Ok(())
}

/// A run's `output` and `scratch`, refused if they overlap each other or any of `read`.
///
/// # Safety
/// As for [`output`], for both.
pub(super) unsafe fn written<'a>(
    (output_ptr, output_len): (*mut f32, usize),
    (scratch_ptr, scratch_len): (*mut f32, usize),
    read: &[Raw],
) -> Result<(&'a mut [f32], &'a mut [f32]), Error> {
    let written: [Raw; 2] =
        [("output", output_ptr.cast_const(), output_len), ("scratch", scratch_ptr.cast_const(), scratch_len)];
    disjoint(&written, read)?;
    // SAFETY: forwarded contract; neither overlaps another buffer of the call (checked).
    unsafe { Ok((output("output", output_ptr, output_len)?, output("scratch", scratch_ptr, scratch_len)?)) }
}

/// The plan behind `ptr`.
///
/// # Safety
/// Unless NULL, `ptr` came from this library's matching `_create` and is not destroyed.
pub(super) unsafe fn plan<'a, T>(ptr: *const T) -> Result<&'a T, Error> {
    if ptr.is_null() {
        return Err(invalid("`plan` is NULL".into()));
    }
    // SAFETY: the caller's contract.
    Ok(unsafe { &*ptr })
}

/// A copy of the descriptor at `ptr`.
///
/// # Safety
/// Unless NULL or misaligned, `ptr` points to an initialised `T`.
pub(super) unsafe fn descriptor<T: Copy>(name: &str, ptr: *const T) -> Result<T, Error> {
    if ptr.is_null() {
        return Err(invalid(format!("`{name}` is NULL")));
    }
    check(name, ptr, 1)?;
    // SAFETY: non-NULL and aligned (checked); initialised by the caller's contract.
    Ok(unsafe { *ptr })
}

/// Writes `value` to `ptr`, a result the caller asked for (a length; a plan, or NULL at
/// the start of a `_create` so that a failure leaves it NULL).
///
/// # Safety
/// Unless NULL or misaligned, `ptr` points to a `T` the caller lets us write.
pub(super) unsafe fn store<T>(name: &str, ptr: *mut T, value: T) -> Result<(), Error> {
    if ptr.is_null() {
        return Err(invalid(format!("`{name}` is NULL")));
    }
    check(name, ptr.cast_const(), 1)?;
    // SAFETY: non-NULL and aligned (checked); writable by the caller's contract. `write`
    // does not read the old value, which may be uninitialised.
    unsafe { ptr.write(value) };
    Ok(())
}
