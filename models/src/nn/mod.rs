//! The runtime `#[network]` expands into: the lowered graph, weights and their loading,
//! fusion and buffer planning, the compiled program, the summary, and the layer-by-layer
//! reference check.
//!
//! # Layers
//!
//! Each field of a block or model is a layer invocation. Input channels and features are
//! inferred from the layer before; options have PyTorch's defaults.
//!
//! | invocation | options (positional first) |
//! |---|---|
//! | `conv!(out, kernel, ..)` | `stride = 1`, `padding = 0` (or `(h, w)`, `same`, `valid`), `dilation = 1`, `groups = 1`, `bias = true`, `in_channels` (checked) |
//! | `depthwise!(kernel, ..)` | `stride`, `padding`, `dilation`, `multiplier = 1`, `bias = true` |
//! | `batch_norm!()` | `eps = 1e-5` |
//! | `relu!()`, `relu6!()`, `sigmoid!()`, `leaky_relu!(slope = 0.01)` | |
//! | `max_pool!(kernel, ..)` | `stride = kernel`, `padding = 0`, `dilation = 1`, `ceil_mode = false` |
//! | `avg_pool!(kernel, ..)` | `stride = kernel`, `padding = 0`, `ceil_mode = false`, `count_include_pad = true` |
//! | `global_avg_pool!()`, `global_max_pool!()`, `adaptive_avg_pool!(out)` | `out` = `n` or `(h, w)` |
//! | `lrn!(size, ..)` | `alpha = 1e-4`, `beta = 0.75`, `k = 1.0` |
//! | `flatten!()`, `dropout!(p = 0.5)`, `softmax!()` | identity at inference (dropout) |
//! | `linear!(out, ..)` | `bias = true`, `in_features` (checked) |
//! | `seq![a, b if cond, repeat!(n, c, d)]` | children named `0`, `1`, ...; `if` drops an element; `repeat!` splices `c, d` n times |
//! | `Block!(args)` | a `#[block(params)]` struct of the same module |
//!
//! Every invocation also takes `name = "..."`, the weight-name segment it stands for.
//! Blocks: `#[residual(when = cond, activation = relu)]` adds the `#[shortcut]` member (or
//! the input) to the other members' output; `#[concat]` runs every member on the input and
//! stacks the results; `#[excite]` multiplies the input's channels by the members' output.
//! Arguments are expressions over block parameters and `in_channels`.

mod descriptors;
mod error;
mod graph;
mod layout;
mod model;
mod program;
mod reference;
mod summary;
pub(crate) use summary::thousands;
mod weights;

pub use error::{Error, WeightProblem};
pub use graph::{ConvSpec, Graph, Node, Op, ParamSpec, PoolSpec, Shape};
pub use layout::{Kind, Layout};
pub use model::Model;
pub use program::{Program, Step};
pub use reference::{LayerCheck, ReferenceReport, check_against_reference, reference_values};
pub use summary::{Summary, SummaryRow};
pub use weights::Weights;
