//! The network as the `#[network]` macro lowers it: a list of nodes in execution order, each
//! with its resolved hyper-parameters and output shape. The macro has already checked every
//! shape; the runtime fuses, plans buffers and runs it.

use ferrocnn_kernels::{Activation, PoolKind};

/// A whole network: `nodes[0]` is its input; each node reads earlier nodes only.
#[derive(Debug, Clone, Copy)]
pub struct Graph {
    pub name: &'static str,
    pub nodes: &'static [Node],
}

#[derive(Debug, Clone, Copy)]
pub struct Node {
    /// Weight-name prefix and summary label: `layer1.0.conv1`.
    pub name: &'static str,
    pub op: Op,
    /// Indices of the nodes whose outputs this one reads, in the order the op takes them.
    pub inputs: &'static [usize],
    /// Output shape of one image, channels x height x width; flat tensors are `[n, 1, 1]`.
    pub shape: Shape,
}

/// Channels, height and width of one image; `flat` after a flatten or a linear layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub flat: bool,
}

impl Shape {
    pub const fn len(&self) -> usize {
        self.channels * self.height * self.width
    }

    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub const fn pixels(&self) -> usize {
        self.height * self.width
    }

    /// `[C, H, W]`, or `[N]` for a flat tensor.
    pub fn dims(&self) -> Vec<usize> {
        if self.flat { vec![self.channels] } else { vec![self.channels, self.height, self.width] }
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.flat {
            write!(f, "{}", self.channels)
        } else {
            write!(f, "{}x{}x{}", self.channels, self.height, self.width)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Input,
    Conv(ConvSpec),
    BatchNorm {
        eps: f32,
    },
    Activation(Activation),
    Pool(PoolSpec),
    GlobalPool(PoolKind),
    AdaptiveAvgPool {
        out_h: usize,
        out_w: usize,
    },
    Lrn {
        size: usize,
        alpha: f32,
        beta: f32,
        k: f32,
    },
    /// NCHW to `[N, C*H*W]`: the same memory.
    Flatten,
    /// Identity at inference.
    Dropout,
    Linear {
        out_features: usize,
        bias: bool,
    },
    Softmax,
    /// `inputs[0] + inputs[1]`: a residual join.
    Add,
    /// The inputs stacked along channels, in order.
    Concat,
    /// `inputs[0]` with channel c of image n multiplied by `inputs[1][n][c]`: SE's excite.
    Scale,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvSpec {
    pub out_channels: usize,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    /// top, left, bottom, right.
    pub padding: [usize; 4],
    pub dilation: [usize; 2],
    pub groups: usize,
    pub bias: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSpec {
    pub kind: PoolKind,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    /// top, left, bottom, right.
    pub padding: [usize; 4],
    pub dilation: [usize; 2],
    pub ceil_mode: bool,
    pub count_include_pad: bool,
}

/// One learnable or statistics tensor a node needs, by its state-dict name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamSpec {
    pub name: String,
    pub dims: Vec<usize>,
    /// Counted in [`Graph::params`]: PyTorch counts BN weight and bias, not running stats.
    pub trainable: bool,
}

impl Node {
    /// The tensors this node loads, in state-dict order.
    pub fn params(&self, graph: &Graph) -> Vec<ParamSpec> {
        let named = |suffix: &str, dims: Vec<usize>, trainable: bool| ParamSpec {
            name: format!("{}.{suffix}", self.name),
            dims,
            trainable,
        };
        let in_shape = |i: usize| graph.nodes[self.inputs[i]].shape;
        match self.op {
            Op::Conv(c) => {
                let in_channels = in_shape(0).channels;
                let mut p =
                    vec![named("weight", vec![c.out_channels, in_channels / c.groups, c.kernel[0], c.kernel[1]], true)];
                if c.bias {
                    p.push(named("bias", vec![c.out_channels], true));
                }
                p
            }
            Op::BatchNorm { .. } => {
                let c = self.shape.channels;
                vec![
                    named("weight", vec![c], true),
                    named("bias", vec![c], true),
                    named("running_mean", vec![c], false),
                    named("running_var", vec![c], false),
                ]
            }
            Op::Linear { out_features, bias } => {
                let mut p = vec![named("weight", vec![out_features, in_shape(0).len()], true)];
                if bias {
                    p.push(named("bias", vec![out_features], true));
                }
                p
            }
            _ => Vec::new(),
        }
    }

    /// Floating-point operations per image: 2 per multiply-add of a conv or linear layer.
    /// The other layers are bound by memory, not arithmetic, and count 0 (as in the
    /// "GFLOPs" figures quoted for torchvision's models, doubled from multiply-adds).
    pub const fn flops(&self, graph: &Graph) -> u64 {
        match self.op {
            Op::Conv(c) => {
                let in_channels = graph.nodes[self.inputs[0]].shape.channels;
                let per_output = (in_channels / c.groups * c.kernel[0] * c.kernel[1]) as u64;
                2 * per_output * self.shape.len() as u64
            }
            Op::Linear { out_features, .. } => 2 * (graph.nodes[self.inputs[0]].shape.len() * out_features) as u64,
            _ => 0,
        }
    }

    /// Short kind label for summaries.
    pub fn kind(&self) -> String {
        match self.op {
            Op::Input => "Input".into(),
            Op::Conv(c) => {
                let mut s = format!("Conv {}x{}", c.kernel[0], c.kernel[1]);
                if c.stride != [1, 1] {
                    s += &format!(" s{}", c.stride[0]);
                }
                if c.groups > 1 {
                    s += &format!(" g{}", c.groups);
                }
                s
            }
            Op::BatchNorm { .. } => "BatchNorm".into(),
            Op::Activation(a) => format!("{a:?}"),
            Op::Pool(p) => format!("{:?}Pool {}x{} s{}", p.kind, p.kernel[0], p.kernel[1], p.stride[0]),
            Op::GlobalPool(k) => format!("Global{k:?}Pool"),
            Op::AdaptiveAvgPool { .. } => "AdaptiveAvgPool".into(),
            Op::Lrn { size, .. } => format!("LRN {size}"),
            Op::Flatten => "Flatten".into(),
            Op::Dropout => "Dropout".into(),
            Op::Linear { .. } => "Linear".into(),
            Op::Softmax => "Softmax".into(),
            Op::Add => "Add".into(),
            Op::Concat => "Concat".into(),
            Op::Scale => "Scale".into(),
        }
    }
}

impl Graph {
    pub const fn input(&self) -> Shape {
        self.nodes[0].shape
    }

    pub const fn output(&self) -> Shape {
        self.nodes[self.nodes.len() - 1].shape
    }

    /// Every tensor the network loads, in node order.
    pub fn param_specs(&self) -> Vec<ParamSpec> {
        self.nodes.iter().flat_map(|n| n.params(self)).collect()
    }

    /// Trainable parameter count, PyTorch's convention (BN weight and bias count, its
    /// running statistics do not). `const` so the generated `PARAMS` is computed by the
    /// compiler from the same graph the runtime loads.
    pub const fn params(&self) -> u64 {
        let mut total = 0u64;
        let mut i = 0;
        while i < self.nodes.len() {
            let node = &self.nodes[i];
            total += match node.op {
                Op::Conv(c) => {
                    let in_channels = self.nodes[node.inputs[0]].shape.channels;
                    let weights = c.out_channels * (in_channels / c.groups) * c.kernel[0] * c.kernel[1];
                    (weights + if c.bias { c.out_channels } else { 0 }) as u64
                }
                Op::BatchNorm { .. } => 2 * node.shape.channels as u64,
                Op::Linear { out_features, bias } => {
                    let in_features = self.nodes[node.inputs[0]].shape.len();
                    (out_features * in_features + if bias { out_features } else { 0 }) as u64
                }
                _ => 0,
            };
            i += 1;
        }
        total
    }

    /// Floating-point operations per image: 2 per multiply-add of the conv and linear layers
    /// (see [`Node::flops`]).
    pub const fn flops(&self) -> u64 {
        let mut total = 0u64;
        let mut i = 0;
        while i < self.nodes.len() {
            total += self.nodes[i].flops(self);
            i += 1;
        }
        total
    }

    /// How many later nodes read each node's output.
    pub(crate) fn consumers(&self) -> Vec<Vec<usize>> {
        let mut readers = vec![Vec::new(); self.nodes.len()];
        for (i, node) in self.nodes.iter().enumerate() {
            for &input in node.inputs {
                readers[input].push(i);
            }
        }
        readers
    }
}
