//! ferrocnn-models: the runtime the `#[network]` macro expands into, the model zoo, and the
//! `ferrocnn` command-line tool.
//!
//! Today it holds the command-line tool's kernel commands (`ferrocnn gemm`, `ferrocnn conv`);
//! the network runtime (`nn`) and the zoo arrive with the macro.

pub mod cli;

pub use ferrocnn_kernels as kernels;
