//! Fusion and buffer planning: which graph nodes run as one kernel call, and where every
//! value lives in one arena, planned once per batch size.
//!
//! Fusions, each only when the fused node has no other reader:
//! - conv -> batch-norm -> residual add -> activation: one conv call; the batch-norm's
//!   scale and shift, the add and the activation run in the store epilogue;
//! - linear -> activation, add -> activation;
//! - a conv whose only reader is a channel concat writes straight into its slice of the
//!   concat's buffer;
//! - flatten and dropout are the same memory; activation, scale, softmax and a standalone
//!   batch-norm run in place when they are the last reader of their input.
//!
//! Buffers: each value gets the lifetime [step that writes it, last step that reads it];
//! values are placed largest first at the lowest offset that overlaps no value alive at the
//! same time (the greedy-by-size plan of TensorFlow Lite's arena planner).

use super::graph::{Graph, Op};
use ferrocnn_kernels::{Activation, ChannelSlice};
use std::ops::Range;

/// Where a step reads a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Val {
    /// The caller's input.
    Input,
    Buffer(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Conv,
    Linear,
    Pool,
    GlobalPool,
    AdaptivePool,
    Lrn,
    Add,
    Activate,
    Scale,
    BatchNorm,
    Softmax,
    /// The input copied into a channel slice of the output (a concat branch that could not
    /// write in place), or a whole copy.
    Copy,
}

#[derive(Debug, Clone)]
pub struct StepLayout {
    pub kind: Kind,
    /// The first graph node of the fused chain (the conv, linear, pool, ...).
    pub head: usize,
    /// The last: the node whose value this step's output is.
    pub tail: usize,
    /// A batch-norm folded into the conv.
    pub batch_norm: Option<usize>,
    pub activation: Activation,
    pub input: Val,
    /// Conv: the residual; add: the other term; scale: the gate.
    pub second: Option<Val>,
    pub output: usize,
    /// Which channels of the output buffer the step writes.
    pub slice: ChannelSlice,
    /// Elementwise kinds: the output buffer is the input's; otherwise it is copied first.
    pub in_place: bool,
}

#[derive(Debug, Clone)]
pub struct BufferLayout {
    /// Floats.
    pub len: usize,
    pub offset: usize,
    first_step: usize,
    last_step: usize,
}

impl BufferLayout {
    pub fn range(&self) -> Range<usize> {
        self.offset..self.offset + self.len
    }
}

#[derive(Debug, Clone)]
pub struct Layout {
    pub batch: usize,
    pub steps: Vec<StepLayout>,
    pub buffers: Vec<BufferLayout>,
    /// Floats of the arena all buffers share.
    pub arena_len: usize,
    pub output: usize,
}

/// 64-byte alignment for every buffer.
const ALIGN_FLOATS: usize = 16;

struct Builder<'g> {
    graph: &'g Graph,
    batch: usize,
    readers: Vec<Vec<usize>>,
    /// The node whose memory each node shares by construction (itself, or what a flatten or
    /// dropout reads).
    root: Vec<usize>,
    /// The last node that reads a root's memory through the root or any alias of it.
    last_read: Vec<usize>,
    /// The buffer (or input) holding each node's value once computed.
    value: Vec<Option<Val>>,
    buffers: Vec<usize>,
    /// A concat node's buffer, created by the first branch that writes into it.
    concat_buffer: Vec<Option<usize>>,
    steps: Vec<StepLayout>,
}

impl Builder<'_> {
    fn sole_reader(&self, node: usize) -> Option<usize> {
        match self.readers[node].as_slice() {
            [only] => Some(*only),
            _ => None,
        }
    }

    fn new_buffer(&mut self, node: usize) -> usize {
        self.buffers.push(self.batch * self.graph.nodes[node].shape.len());
        self.buffers.len() - 1
    }

    fn val(&self, node: usize) -> Val {
        self.value[node].expect("graph nodes read only earlier nodes")
    }

    /// Whether `node` may overwrite its input `input` in place: it is the last reader of
    /// that memory, which is not the caller's input.
    fn may_overwrite(&self, node: usize, input: usize) -> bool {
        let root = self.root[input];
        !matches!(self.value[root], Some(Val::Input) | None) && self.last_read[root] <= node
    }

    /// Concat `node`'s channel slice for its input number `index`.
    fn concat_slice(&self, concat: usize, index: usize) -> ChannelSlice {
        let node = &self.graph.nodes[concat];
        let first = node.inputs[..index].iter().map(|&i| self.graph.nodes[i].shape.channels).sum();
        ChannelSlice { total: node.shape.channels, first }
    }

    fn whole(&self, node: usize) -> ChannelSlice {
        ChannelSlice { total: self.graph.nodes[node].shape.channels, first: 0 }
    }

    fn step(&mut self, kind: Kind, head: usize, tail: usize, input: Val) -> StepLayout {
        StepLayout {
            kind,
            head,
            tail,
            batch_norm: None,
            activation: Activation::Identity,
            input,
            second: None,
            output: usize::MAX,
            slice: self.whole(tail),
            in_place: false,
        }
    }

    /// Output buffer for a step ending at `tail`, or the concat slice it writes in place.
    fn place_output(&mut self, step: &mut StepLayout, allow_slice: bool) {
        let tail = step.tail;
        if allow_slice
            && let Some(concat) = self.sole_reader(tail)
            && self.graph.nodes[concat].op == Op::Concat
        {
            let index = self.graph.nodes[concat].inputs.iter().position(|&i| i == tail).unwrap();
            let buffer = match self.concat_buffer[concat] {
                Some(b) => b,
                None => {
                    let b = self.new_buffer(concat);
                    self.concat_buffer[concat] = Some(b);
                    b
                }
            };
            step.output = buffer;
            step.slice = self.concat_slice(concat, index);
            // The branch value lives only inside the concat buffer.
            self.value[tail] = Some(Val::Buffer(buffer));
            return;
        }
        step.output = self.new_buffer(tail);
        self.value[tail] = Some(Val::Buffer(step.output));
    }

    /// An elementwise step on node `i` reading `input`: in place when allowed.
    fn elementwise(&mut self, kind: Kind, i: usize, tail: usize, input: usize) -> StepLayout {
        let mut step = self.step(kind, i, tail, self.val(input));
        if self.may_overwrite(i, input)
            && let Val::Buffer(b) = self.val(input)
        {
            step.in_place = true;
            step.output = b;
            self.value[tail] = Some(Val::Buffer(b));
        } else {
            self.place_output(&mut step, false);
        }
        step
    }

    /// Absorbs a sole-reader activation after `tail` into `step`.
    fn absorb_activation(&self, step: &mut StepLayout, absorbed: &mut [bool]) {
        if let Some(next) = self.sole_reader(step.tail)
            && let Op::Activation(a) = self.graph.nodes[next].op
        {
            step.activation = a;
            step.tail = next;
            absorbed[next] = true;
        }
    }
}

impl Layout {
    pub fn new(graph: &Graph, batch: usize) -> Layout {
        let n = graph.nodes.len();
        let readers = graph.consumers();
        let mut root: Vec<usize> = (0..n).collect();
        let mut last_read = vec![0; n];
        for (i, node) in graph.nodes.iter().enumerate() {
            if matches!(node.op, Op::Flatten | Op::Dropout) {
                root[i] = root[node.inputs[0]];
            }
            let last = readers[i].iter().copied().max().unwrap_or(0);
            last_read[root[i]] = last_read[root[i]].max(last);
        }
        let mut b = Builder {
            graph,
            batch,
            readers,
            root,
            last_read,
            value: vec![None; n],
            buffers: Vec::new(),
            concat_buffer: vec![None; n],
            steps: Vec::new(),
        };
        b.value[0] = Some(Val::Input);
        let mut absorbed = vec![false; n];
        for i in 1..n {
            if absorbed[i] {
                continue;
            }
            let node = graph.nodes[i];
            let input = node.inputs.first().copied().unwrap_or(0);
            let simple = |kind: Kind, b: &mut Builder| {
                let mut step = b.step(kind, i, i, b.val(input));
                b.place_output(&mut step, false);
                step
            };
            let step = match node.op {
                Op::Input => continue,
                Op::Flatten | Op::Dropout => {
                    b.value[i] = Some(b.val(input));
                    continue;
                }
                Op::Conv(_) => {
                    let mut step = b.step(Kind::Conv, i, i, b.val(input));
                    if let Some(next) = b.sole_reader(i)
                        && matches!(graph.nodes[next].op, Op::BatchNorm { .. })
                    {
                        step.batch_norm = Some(next);
                        step.tail = next;
                        absorbed[next] = true;
                    }
                    if let Some(next) = b.sole_reader(step.tail)
                        && graph.nodes[next].op == Op::Add
                    {
                        let add = graph.nodes[next];
                        let other = if add.inputs[0] == step.tail { add.inputs[1] } else { add.inputs[0] };
                        if other < i && other != step.tail {
                            step.second = Some(b.val(other));
                            step.tail = next;
                            absorbed[next] = true;
                        }
                    }
                    b.absorb_activation(&mut step, &mut absorbed);
                    // A residual has the conv output's own layout, not a concat's.
                    let into_concat = step.second.is_none();
                    b.place_output(&mut step, into_concat);
                    step
                }
                Op::Linear { .. } => {
                    let mut step = b.step(Kind::Linear, i, i, b.val(input));
                    b.absorb_activation(&mut step, &mut absorbed);
                    b.place_output(&mut step, false);
                    step
                }
                Op::Add => {
                    let mut step = b.step(Kind::Add, i, i, b.val(input));
                    step.second = Some(b.val(node.inputs[1]));
                    b.absorb_activation(&mut step, &mut absorbed);
                    b.place_output(&mut step, false);
                    step
                }
                Op::Pool(_) => simple(Kind::Pool, &mut b),
                Op::GlobalPool(_) => simple(Kind::GlobalPool, &mut b),
                Op::AdaptiveAvgPool { .. } => simple(Kind::AdaptivePool, &mut b),
                Op::Lrn { .. } => simple(Kind::Lrn, &mut b),
                Op::Activation(a) => {
                    let mut step = b.elementwise(Kind::Activate, i, i, input);
                    step.activation = a;
                    step
                }
                Op::BatchNorm { .. } => b.elementwise(Kind::BatchNorm, i, i, input),
                Op::Softmax => b.elementwise(Kind::Softmax, i, i, input),
                Op::Scale => {
                    let mut step = b.elementwise(Kind::Scale, i, i, input);
                    step.second = Some(b.val(node.inputs[1]));
                    step
                }
                Op::Concat => {
                    let buffer = match b.concat_buffer[i] {
                        Some(buf) => buf,
                        None => {
                            let buf = b.new_buffer(i);
                            b.concat_buffer[i] = Some(buf);
                            buf
                        }
                    };
                    for (index, &branch) in node.inputs.iter().enumerate() {
                        let written_in_place = b.sole_reader(branch) == Some(i)
                            && b.steps.iter().any(|s| s.tail == branch && s.output == buffer);
                        if !written_in_place {
                            // A copy's head is the node it copies.
                            let mut copy = b.step(Kind::Copy, branch, i, b.val(branch));
                            copy.output = buffer;
                            copy.slice = b.concat_slice(i, index);
                            b.steps.push(copy);
                        }
                    }
                    b.value[i] = Some(Val::Buffer(buffer));
                    continue;
                }
            };
            b.steps.push(step);
        }
        // A network that is all flatten and dropout still returns its own buffer.
        let last = n - 1;
        if b.val(last) == Val::Input {
            let mut copy = b.step(Kind::Copy, last, last, Val::Input);
            b.place_output(&mut copy, false);
            b.steps.push(copy);
        }
        let Val::Buffer(output) = b.val(last) else { unreachable!("the output was just given a buffer") };
        let mut layout = Layout { batch, steps: b.steps, buffers: Vec::new(), arena_len: 0, output };
        layout.place(&b.buffers);
        layout
    }

    /// Lifetimes from the steps, then greedy-by-size placement.
    fn place(&mut self, lens: &[usize]) {
        let mut buffers: Vec<BufferLayout> =
            lens.iter().map(|&len| BufferLayout { len, offset: 0, first_step: usize::MAX, last_step: 0 }).collect();
        for (s, step) in self.steps.iter().enumerate() {
            for v in [Some(step.input), step.second].into_iter().flatten() {
                if let Val::Buffer(id) = v {
                    buffers[id].last_step = buffers[id].last_step.max(s);
                }
            }
            let out = &mut buffers[step.output];
            out.first_step = out.first_step.min(s);
            out.last_step = out.last_step.max(s);
        }
        buffers[self.output].last_step = usize::MAX;
        let mut order: Vec<usize> = (0..buffers.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(buffers[i].len));
        let mut placed: Vec<usize> = Vec::new();
        let mut arena_len = 0;
        for id in order {
            let (first, last, len) = (buffers[id].first_step, buffers[id].last_step, buffers[id].len);
            let mut live: Vec<Range<usize>> = placed
                .iter()
                .filter(|&&p| buffers[p].first_step <= last && first <= buffers[p].last_step)
                .map(|&p| buffers[p].range())
                .collect();
            live.sort_by_key(|r| r.start);
            let mut offset = 0;
            for r in live {
                if offset + len <= r.start {
                    break;
                }
                offset = offset.max(r.end.next_multiple_of(ALIGN_FLOATS));
            }
            buffers[id].offset = offset;
            arena_len = arena_len.max(offset + len);
            placed.push(id);
        }
        self.buffers = buffers;
        self.arena_len = arena_len;
    }

    /// Floats the arena would need with no reuse: every buffer on its own.
    pub fn unshared_len(&self) -> usize {
        self.buffers.iter().map(|b| b.len).sum()
    }
}
