//! The end-to-end check that fused == unfused: the network run layer by layer through
//! `ferrocnn_kernels::reference`, compared with every step of the compiled program.

use super::descriptors::{conv_desc, input_shape, pool_desc};
use super::error::Error;
use super::graph::{Graph, Op};
use super::layout::Kind;
use super::program::Program;
use super::weights::Weights;
use ferrocnn_kernels::reference;

#[derive(Debug, Clone)]
pub struct LayerCheck {
    /// The step's first layer (a conv, say) ...
    pub layer: String,
    /// ... and the layer whose value it completes (its fused batch-norm, add or activation).
    pub completes: String,
    /// The kernel that ran.
    pub kernel: String,
    /// max |fast - reference| / max |reference| over the layer's output.
    pub error: f32,
    pub passed: bool,
}

#[derive(Debug, Clone)]
pub struct ReferenceReport {
    pub tolerance: f32,
    pub layers: Vec<LayerCheck>,
}

impl ReferenceReport {
    /// The first layer whose output differs beyond the tolerance.
    pub fn first_mismatch(&self) -> Option<&LayerCheck> {
        self.layers.iter().find(|l| !l.passed)
    }

    pub fn max_error(&self) -> f32 {
        self.layers.iter().map(|l| l.error).fold(0.0, f32::max)
    }
}

/// Every node's value for `input`, through the reference kernels, unfused.
pub fn reference_values(graph: &Graph, weights: &Weights, input: &[f32], batch: usize) -> Result<Vec<Vec<f32>>, Error> {
    let mut values: Vec<Vec<f32>> = Vec::with_capacity(graph.nodes.len());
    for node in graph.nodes {
        let x = |i: usize| values[node.inputs[i]].as_slice();
        let param = |suffix: &str| weights.get(&format!("{}.{suffix}", node.name));
        let shape = |i: usize| input_shape(graph, node, i);
        let value = match node.op {
            Op::Input => input.to_vec(),
            Op::Conv(c) => reference::conv2d(
                &conv_desc(&c, batch, shape(0)),
                x(0),
                param("weight"),
                c.bias.then(|| param("bias")),
            )?,
            Op::BatchNorm { eps } => {
                let s = shape(0);
                let p = |n: &str| param(n);
                reference::batch_norm(
                    batch,
                    s.channels,
                    s.pixels(),
                    x(0),
                    p("weight"),
                    p("bias"),
                    p("running_mean"),
                    p("running_var"),
                    eps,
                )?
            }
            Op::Activation(a) => reference::activation(a, x(0)),
            Op::Pool(p) => reference::pool2d(&pool_desc(&p, batch, shape(0)), x(0))?,
            Op::GlobalPool(kind) => {
                let s = shape(0);
                reference::global_pool2d(kind, batch, s.channels, s.pixels(), x(0))?
            }
            Op::AdaptiveAvgPool { out_h, out_w } => {
                let s = shape(0);
                reference::adaptive_avg_pool2d(batch, s.channels, (s.height, s.width), (out_h, out_w), x(0))?
            }
            Op::Lrn { size, alpha, beta, k } => {
                let s = shape(0);
                reference::lrn(batch, s.channels, s.pixels(), x(0), size, alpha, beta, k)?
            }
            Op::Flatten | Op::Dropout => x(0).to_vec(),
            Op::Linear { out_features, bias } => reference::linear(
                batch,
                shape(0).len(),
                out_features,
                x(0),
                param("weight"),
                bias.then(|| param("bias")),
            )?,
            Op::Softmax => reference::softmax(batch, shape(0).len(), x(0))?,
            Op::Add => reference::add(x(0), x(1))?,
            Op::Concat => {
                let parts: Vec<(&[f32], usize)> =
                    node.inputs.iter().map(|&i| (values[i].as_slice(), graph.nodes[i].shape.channels)).collect();
                reference::concat_channels(batch, node.shape.pixels(), &parts)?
            }
            Op::Scale => {
                let hw = shape(0).pixels();
                let gate = x(1);
                x(0).chunks_exact(hw).zip(gate).flat_map(|(plane, &g)| plane.iter().map(move |v| v * g)).collect()
            }
        };
        values.push(value);
    }
    Ok(values)
}

pub fn check_against_reference(
    graph: &Graph,
    weights: &Weights,
    program: &mut Program,
    input: &[f32],
    tolerance: f32,
) -> Result<ReferenceReport, Error> {
    let batch = program.batch();
    let expected_len = batch * graph.input().len();
    if input.len() != expected_len {
        return Err(ferrocnn_kernels::Error::BufferLength {
            buffer: "input",
            expected: expected_len,
            found: input.len(),
        }
        .into());
    }
    let want = reference_values(graph, weights, input, batch)?;
    let mut layers = Vec::new();
    program.run_with(input, |step, out| {
        let s = &step.layout;
        // A copy step's value is the branch it copies; every other step's, its last node's.
        let node = if s.kind == Kind::Copy { s.head } else { s.tail };
        let shape = graph.nodes[node].shape;
        let hw = graph.nodes[s.tail].shape.pixels();
        let (len, stride, first) = (shape.channels * hw, s.slice.total * hw, s.slice.first * hw);
        let expected = &want[node];
        let got = out.chunks_exact(stride).flat_map(|image| &image[first..first + len]);
        let error = reference::max_relative_error(got, expected);
        layers.push(LayerCheck {
            layer: graph.nodes[s.head].name.to_string(),
            completes: graph.nodes[node].name.to_string(),
            kernel: step.kernel_name(),
            error,
            passed: error <= tolerance,
        });
    })?;
    Ok(ReferenceReport { tolerance, layers })
}
