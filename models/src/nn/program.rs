//! A network compiled for one batch size: the layout's steps with their kernel plans, the
//! arena and the scratch. `run` allocates nothing.

use super::descriptors::{conv_desc, input_shape, pool_desc};
use super::error::Error;
use super::graph::{Graph, Op};
use super::layout::{Kind, Layout, StepLayout, Val};
use super::weights::Weights;
use ferrocnn_kernels::ops::{
    Activate, AdaptiveAvgPool2d, Add, BatchNorm, BatchNorm2d, ChannelScale, GlobalPool2d, Linear, Lrn, Pool2d, Softmax,
};
use ferrocnn_kernels::{Algo, Conv2d, Epilogue, PlanOptions};
use std::ops::Range;

enum Plan {
    Conv(Box<Conv2d>),
    Linear(Box<Linear>),
    Pool(Box<Pool2d>),
    GlobalPool(GlobalPool2d),
    AdaptivePool(AdaptiveAvgPool2d),
    Lrn(Lrn),
    Add(Add),
    Activate(Activate),
    Scale(ChannelScale),
    /// A batch-norm with nothing to fold into.
    BatchNorm(BatchNorm2d),
    Softmax(Softmax),
    /// `channels x hw` per image into the output's channel slice.
    Copy {
        channels: usize,
        hw: usize,
    },
}

pub struct Step {
    pub layout: StepLayout,
    plan: Plan,
}

impl Step {
    /// The kernel that runs, for reports: for a conv, its algorithm and tile family.
    pub fn kernel_name(&self) -> String {
        match &self.plan {
            Plan::Conv(c) => format!("{} {}", c.algo(), c.kernel_name()),
            Plan::Linear(_) => "linear".into(),
            _ => format!("{:?}", self.layout.kind).to_lowercase(),
        }
    }
}

pub struct Program {
    /// The buffers and the output; its steps are moved into `steps`, beside their plans.
    layout: Layout,
    pub steps: Vec<Step>,
    arena: Vec<f32>,
    scratch: Vec<f32>,
    input_len: usize,
}

fn batch_norm_of<'w>(graph: &Graph, weights: &'w Weights, node: usize) -> BatchNorm<'w> {
    let n = &graph.nodes[node];
    let Op::BatchNorm { eps } = n.op else { unreachable!("the layout folds only batch-norm nodes") };
    let get = |suffix: &str| weights.get(&format!("{}.{suffix}", n.name));
    BatchNorm { gamma: get("weight"), beta: get("bias"), mean: get("running_mean"), var: get("running_var"), eps }
}

/// The weights a program is built from: borrowed and kept, or owned and dropped layer by
/// layer as the plans take their packed copies.
enum WeightStore<'w> {
    Borrowed(&'w Weights),
    Owned(Weights),
}

impl WeightStore<'_> {
    fn get(&self) -> &Weights {
        match self {
            WeightStore::Borrowed(w) => w,
            WeightStore::Owned(w) => w,
        }
    }

    /// The weight tensor of a linear step, out of an owned store (its plan keeps it as it
    /// is); `None` for other steps and borrowed stores.
    fn take_linear_weight(&mut self, graph: &Graph, step: &StepLayout) -> Option<Vec<f32>> {
        let node = &graph.nodes[step.head];
        match (self, step.kind) {
            (WeightStore::Owned(w), Kind::Linear) => w.take(&format!("{}.weight", node.name)),
            _ => None,
        }
    }

    fn release(&mut self, graph: &Graph, node: usize) {
        if let WeightStore::Owned(w) = self {
            for spec in graph.nodes[node].params(graph) {
                w.remove(&spec.name);
            }
        }
    }
}

/// `linear_weight`: a linear step's weight tensor, taken from an owned store.
fn plan_step(
    graph: &Graph,
    weights: &Weights,
    linear_weight: Option<Vec<f32>>,
    s: &StepLayout,
    batch: usize,
    options: PlanOptions,
    conv_algo: Algo,
) -> Result<Plan, Error> {
    let node = &graph.nodes[s.head];
    let x = || input_shape(graph, node, 0);
    let param = |suffix: &str| weights.get(&format!("{}.{suffix}", node.name));
    Ok(match s.kind {
        Kind::Conv => {
            let Op::Conv(spec) = node.op else { unreachable!("a conv step starts at a conv") };
            let desc = conv_desc(&spec, batch, x());
            let bias = spec.bias.then(|| param("bias"));
            let mut epilogue = Epilogue::new().activation(s.activation);
            if s.second.is_some() {
                epilogue = epilogue.residual();
            }
            // The requested algorithm where it applies, Auto's choice on the other layers.
            let algo = if conv_algo.applies_to(&desc) { conv_algo } else { Algo::Auto };
            // Batch-norm becomes the epilogue's per-channel scale and shift rather than
            // being folded into a copy of the weights: the plan packs the weights straight
            // from the model's tensors, and compiling ResNet-50 holds one layer fewer at
            // its peak (the 9.4 MB of layer4's 3x3 filters).
            let (epilogue, bias) = match s.batch_norm {
                Some(bn) => {
                    let (scale, shift) = batch_norm_of(graph, weights, bn).scale_shift(bias)?;
                    (epilogue.scale(scale).shift(shift), None)
                }
                None => (epilogue, bias),
            };
            let conv = Conv2d::with_options(&desc, param("weight"), bias, &epilogue, algo, options)?;
            Plan::Conv(Box::new(conv))
        }
        Kind::Linear => {
            let Op::Linear { out_features, bias } = node.op else { unreachable!("a linear step starts at a linear") };
            let bias = bias.then(|| param("bias"));
            let (k, act) = (x().len(), s.activation);
            Plan::Linear(Box::new(match linear_weight {
                Some(w) => Linear::from_vec(k, out_features, w, bias, act, options)?,
                None => Linear::new(k, out_features, param("weight"), bias, act, options)?,
            }))
        }
        Kind::Pool => {
            let Op::Pool(spec) = node.op else { unreachable!("a pool step is a pool") };
            Plan::Pool(Box::new(Pool2d::new(&pool_desc(&spec, batch, x()), options)?))
        }
        Kind::GlobalPool => {
            let Op::GlobalPool(kind) = node.op else { unreachable!("a global pool step is a global pool") };
            Plan::GlobalPool(GlobalPool2d::new(kind, batch, x().channels, x().pixels(), options)?)
        }
        Kind::AdaptivePool => {
            let Op::AdaptiveAvgPool { out_h, out_w } = node.op else { unreachable!("an adaptive pool step") };
            Plan::AdaptivePool(AdaptiveAvgPool2d::new(batch, x().channels, (x().height, x().width), (out_h, out_w))?)
        }
        Kind::Lrn => {
            let Op::Lrn { size, alpha, beta, k } = node.op else { unreachable!("an LRN step is an LRN") };
            Plan::Lrn(Lrn::new(batch, x().channels, x().pixels(), size, alpha, beta, k, options)?)
        }
        Kind::Add => Plan::Add(Add::new(s.activation, options)?),
        Kind::Activate => Plan::Activate(Activate::new(s.activation, options)?),
        Kind::Scale => Plan::Scale(ChannelScale::new(batch, x().channels, x().pixels(), options)?),
        Kind::BatchNorm => {
            let bn = batch_norm_of(graph, weights, s.head);
            Plan::BatchNorm(BatchNorm2d::new(batch, x().channels, x().pixels(), &bn, s.activation, options)?)
        }
        Kind::Softmax => Plan::Softmax(Softmax::new(batch, x().len(), options)?),
        Kind::Copy => Plan::Copy { channels: node.shape.channels, hw: graph.nodes[s.tail].shape.pixels() },
    })
}

/// The arena around the range one step writes: reads come from `before` and `after`.
struct Split<'a> {
    input: &'a [f32],
    before: &'a [f32],
    after: &'a [f32],
    write: Range<usize>,
    layout: &'a Layout,
}

impl<'a> Split<'a> {
    fn read(&self, v: Val) -> &'a [f32] {
        match v {
            Val::Input => self.input,
            Val::Buffer(id) => {
                let r = self.layout.buffers[id].range();
                if r.end <= self.write.start {
                    &self.before[r]
                } else {
                    // The layout never overlaps a value read with the value written by the
                    // same step; if it did, this range is out of bounds and panics.
                    &self.after[r.start - self.write.end..r.end - self.write.end]
                }
            }
        }
    }
}

fn run_step(step: &Step, batch: usize, split: &Split, out: &mut [f32], scratch: &mut [f32]) -> Result<(), Error> {
    let s = &step.layout;
    let second = || split.read(s.second.expect("this step kind has a second input"));
    // Elementwise steps run on the output; out of place, the input is copied there first.
    let copy_in = |out: &mut [f32]| {
        if !s.in_place {
            out.copy_from_slice(split.read(s.input));
        }
    };
    match &step.plan {
        Plan::Conv(c) => c.run_into(split.read(s.input), s.second.map(|v| split.read(v)), out, s.slice, scratch)?,
        Plan::Linear(l) => l.run(batch, split.read(s.input), out, scratch)?,
        Plan::Pool(p) => p.run(split.read(s.input), out, scratch)?,
        Plan::GlobalPool(p) => p.run(split.read(s.input), out)?,
        Plan::AdaptivePool(p) => p.run(split.read(s.input), out)?,
        Plan::Lrn(l) => l.run(split.read(s.input), out)?,
        Plan::Add(a) => a.run(split.read(s.input), second(), out)?,
        Plan::Activate(a) => {
            copy_in(out);
            a.run(out);
        }
        Plan::Scale(c) => {
            copy_in(out);
            c.run(out, second())?;
        }
        Plan::BatchNorm(bn) => {
            copy_in(out);
            bn.run(out)?;
        }
        Plan::Softmax(sm) => {
            copy_in(out);
            sm.run(out)?;
        }
        Plan::Copy { channels, hw } => {
            let (per_image, stride, first) = (channels * hw, s.slice.total * hw, s.slice.first * hw);
            for (src, dst) in split.read(s.input).chunks_exact(per_image).zip(out.chunks_exact_mut(stride)) {
                dst[first..first + per_image].copy_from_slice(src);
            }
        }
    }
    Ok(())
}

impl Program {
    /// Plans every step for `batch` images; each convolution runs `conv_algo` where that
    /// applies to its shape and `Algo::Auto`'s choice elsewhere.
    pub fn new(
        graph: &Graph,
        weights: &Weights,
        batch: usize,
        options: PlanOptions,
        conv_algo: Algo,
    ) -> Result<Program, Error> {
        Program::build(graph, WeightStore::Borrowed(weights), batch, options, conv_algo)
    }

    /// As [`Program::new`], dropping each layer's tensors once its plan holds them packed:
    /// memory peaks at one copy of the weights plus one layer, not two copies.
    pub fn from_weights(
        graph: &Graph,
        weights: Weights,
        batch: usize,
        options: PlanOptions,
        conv_algo: Algo,
    ) -> Result<Program, Error> {
        Program::build(graph, WeightStore::Owned(weights), batch, options, conv_algo)
    }

    fn build(
        graph: &Graph,
        mut weights: WeightStore<'_>,
        batch: usize,
        options: PlanOptions,
        conv_algo: Algo,
    ) -> Result<Program, Error> {
        if batch == 0 {
            return Err(ferrocnn_kernels::Error::InvalidArgument(
                "forward: `batch` is 0, it must be at least 1".into(),
            )
            .into());
        }
        let mut layout = Layout::new(graph, batch);
        let mut steps = Vec::with_capacity(layout.steps.len());
        let mut scratch_len = 0;
        for s in std::mem::take(&mut layout.steps) {
            let owned_weight = weights.take_linear_weight(graph, &s);
            let plan = plan_step(graph, weights.get(), owned_weight, &s, batch, options, conv_algo)?;
            // Only a step's head and its folded batch-norm have parameters.
            weights.release(graph, s.head);
            if let Some(bn) = s.batch_norm {
                weights.release(graph, bn);
            }
            scratch_len = scratch_len.max(match &plan {
                Plan::Conv(c) => c.scratch_len(),
                Plan::Linear(l) => l.scratch_len(batch)?,
                Plan::Pool(p) => p.scratch_len(),
                _ => 0,
            });
            steps.push(Step { layout: s, plan });
        }
        Ok(Program {
            arena: vec![0.0; layout.arena_len],
            scratch: vec![0.0; scratch_len],
            input_len: batch * graph.input().len(),
            layout,
            steps,
        })
    }

    pub fn batch(&self) -> usize {
        self.layout.batch
    }

    /// Runs every step on `input`; `inspect` sees each step's output buffer after it runs.
    pub fn run_with<F: FnMut(&Step, &[f32]) + Send>(&mut self, input: &[f32], mut inspect: F) -> Result<&[f32], Error> {
        if input.len() != self.input_len {
            return Err(ferrocnn_kernels::Error::BufferLength {
                buffer: "input",
                expected: self.input_len,
                found: input.len(),
            }
            .into());
        }
        // One worker runs the steps, the others kept looking for its kernels' work between
        // them. Called from outside the pool, every parallel kernel would otherwise inject
        // its own job into rayon's global queue (which allocates a block every 63 jobs and
        // wakes a worker each time); this injects once, and the kernels' joins use the
        // worker's own deque. Measured (2 threads, batch 1, median of 30 passes, 3
        // interleaved rounds, forward called from main): MobileNetV2 3.0 ms vs 4.3 without,
        // ResNet-50 23.1 vs 24.4, ResNet-18 9.9 vs 10.4.
        ferrocnn_kernels::with_workers_kept_busy(|| self.run_steps(input, &mut inspect))?;
        Ok(&self.arena[self.layout.buffers[self.layout.output].range()])
    }

    fn run_steps<F: FnMut(&Step, &[f32])>(&mut self, input: &[f32], inspect: &mut F) -> Result<(), Error> {
        let batch = self.layout.batch;
        for step in &self.steps {
            let write = self.layout.buffers[step.layout.output].range();
            let (before, rest) = self.arena.split_at_mut(write.start);
            let (out, after) = rest.split_at_mut(write.len());
            let split = Split { input, before, after, write: write.clone(), layout: &self.layout };
            run_step(step, batch, &split, out, &mut self.scratch)?;
            inspect(step, &self.arena[write]);
        }
        Ok(())
    }

    pub fn run(&mut self, input: &[f32]) -> Result<&[f32], Error> {
        self.run_with(input, |_, _| {})
    }

    /// Bytes of activations (the shared arena) and scratch.
    pub fn activation_bytes(&self) -> usize {
        (self.arena.len() + self.scratch.len()) * 4
    }
}
