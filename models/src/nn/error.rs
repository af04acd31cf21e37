use std::fmt;
use std::path::PathBuf;

/// What can go wrong building or running a network.
#[derive(Debug)]
pub enum Error {
    /// A kernel refused its arguments (a wrong input length, a bad batch size, ...).
    Kernel(ferrocnn_kernels::Error),
    /// The weight file does not match the network: every problem, not just the first.
    Weights(Vec<WeightProblem>),
    /// The weight file is not valid safetensors.
    Format(String),
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One tensor that does not fit the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeightProblem {
    Missing { name: String, expected: Vec<usize> },
    Unexpected { name: String, found: Vec<usize> },
    Shape { name: String, expected: Vec<usize>, found: Vec<usize> },
    DType { name: String, found: String },
}

impl From<ferrocnn_kernels::Error> for Error {
    fn from(e: ferrocnn_kernels::Error) -> Self {
        Error::Kernel(e)
    }
}

impl fmt::Display for WeightProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WeightProblem::Missing { name, expected } => write!(f, "missing `{name}` (expected shape {expected:?})"),
            WeightProblem::Unexpected { name, found } => {
                write!(f, "unexpected `{name}` (shape {found:?}): no layer of this network has it")
            }
            WeightProblem::Shape { name, expected, found } => {
                write!(f, "`{name}` has shape {found:?}, the network expects {expected:?}")
            }
            WeightProblem::DType { name, found } => write!(f, "`{name}` is {found}, only F32 is read"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Kernel(e) => write!(f, "{e}"),
            Error::Weights(problems) => {
                write!(f, "the weights do not match the network ({} problems):", problems.len())?;
                for p in problems {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
            Error::Format(msg) => write!(f, "not a valid safetensors file: {msg}"),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for Error {}
