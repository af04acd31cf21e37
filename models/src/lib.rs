//! ferrocnn-models: the runtime the `#[network]` macro expands into, the model zoo, and the
//! `ferrocnn` command-line tool.
//!
//! - [`network`]: the attribute that declares a network (see [`nn`] for the layer reference).
//! - [`nn`]: what the generated code calls: graph, weights, fused program, summary.
//! - [`npy`]: float32 `.npy` files in and out.
//! - [`zoo`]: LeNet, AlexNet, VGG, ResNet, GoogLeNet, MobileNetV2, Xception, SE-ResNet-50 and the
//!   tutorials' networks.
//! - [`cli`]: the `ferrocnn` command-line tool's commands.

// The generated code names `::ferrocnn_models`, which must resolve inside this crate too.
extern crate self as ferrocnn_models;

pub mod cli;
pub mod nn;
pub mod npy;
pub mod zoo;

pub use ferrocnn_macros::network;

pub use ferrocnn_kernels as kernels;
