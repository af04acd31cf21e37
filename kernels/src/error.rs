//! The one error type of the kernels crate. Every message names the field and the numbers,
//! so a caller can tell what to change without reading our source.

use std::fmt;

/// What went wrong with a call into the kernels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A descriptor field is out of range or inconsistent with another field.
    InvalidArgument(String),
    /// A buffer's length does not match what the descriptor requires.
    BufferLength { buffer: &'static str, expected: usize, found: usize },
    /// Sizes whose product does not fit in `usize` (or would not fit in memory).
    Overflow(String),
    /// A valid request this build or this algorithm does not handle.
    Unsupported(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument(msg) | Error::Overflow(msg) | Error::Unsupported(msg) => f.write_str(msg),
            Error::BufferLength { buffer, expected, found } => {
                write!(f, "`{buffer}` has {found} elements, the descriptor needs {expected}")
            }
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// `Err(InvalidArgument)` with a formatted message.
macro_rules! invalid {
    ($($arg:tt)*) => { Err($crate::error::Error::InvalidArgument(format!($($arg)*))) };
}
pub(crate) use invalid;

/// Checks a buffer length against the length a descriptor implies.
pub(crate) fn check_len(buffer: &'static str, found: usize, expected: usize) -> Result<()> {
    if found == expected { Ok(()) } else { Err(Error::BufferLength { buffer, expected, found }) }
}

/// Multiplies sizes, naming `what` if the product overflows.
pub(crate) fn checked_product(what: &str, factors: &[usize]) -> Result<usize> {
    factors
        .iter()
        .try_fold(1usize, |acc, &f| acc.checked_mul(f))
        .ok_or_else(|| Error::Overflow(format!("{what}: {factors:?} overflows usize")))
}
