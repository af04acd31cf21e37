//! Validation and lowering: every layer invocation is resolved against its input shape into
//! graph nodes with their output shapes. Shape mistakes become errors at the offending
//! layer's tokens (for a layer inside a block, at the model line that uses the block), with
//! the layer's weight-name path and the numbers; lowering goes on after an error so that all
//! mistakes are reported together.

use crate::ast::{Arg, Block, BlockKind, Invocation, Layer, Member, Model, SeqItem};
use crate::eval::{Scope, Value, eval};
use proc_macro2::TokenStream;
use std::collections::HashMap;
use syn::Expr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub flat: bool,
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.flat { write!(f, "{}", self.c) } else { write!(f, "{}x{}x{}", self.c, self.h, self.w) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Act {
    Relu,
    Relu6,
    LeakyRelu(f64),
    Sigmoid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    Avg,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    /// top, left, bottom, right.
    pub padding: [usize; 4],
    pub dilation: [usize; 2],
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Input,
    Conv { out: usize, window: Window, groups: usize, bias: bool },
    BatchNorm { eps: f64 },
    Activation(Act),
    Pool { kind: PoolKind, window: Window, ceil_mode: bool, count_include_pad: bool },
    GlobalPool(PoolKind),
    AdaptiveAvgPool { out_h: usize, out_w: usize },
    Lrn { size: usize, alpha: f64, beta: f64, k: f64 },
    Flatten,
    Dropout,
    Linear { out: usize, bias: bool },
    Softmax,
    Add,
    Concat,
    Scale,
}

pub struct Node {
    pub name: String,
    pub op: Op,
    pub inputs: Vec<usize>,
    pub shape: Shape,
}

/// The node holding the current value, or `None` after an error poisoned it.
type Flow = Option<usize>;

/// Every built-in layer with its options, positional ones first. `seq!` and `repeat!` are
/// structure, parsed before lowering.
const BUILTINS: &[(&str, &[&str])] = &[
    ("conv", &["out", "kernel", "stride", "padding", "dilation", "groups", "bias", "in_channels"]),
    ("depthwise", &["kernel", "stride", "padding", "dilation", "multiplier", "bias"]),
    ("batch_norm", &["eps"]),
    ("relu", &[]),
    ("relu6", &[]),
    ("leaky_relu", &["slope"]),
    ("sigmoid", &[]),
    ("max_pool", &["kernel", "stride", "padding", "dilation", "ceil_mode"]),
    ("avg_pool", &["kernel", "stride", "padding", "ceil_mode", "count_include_pad"]),
    ("global_avg_pool", &[]),
    ("global_max_pool", &[]),
    ("adaptive_avg_pool", &["out"]),
    ("lrn", &["size", "alpha", "beta", "k"]),
    ("flatten", &[]),
    ("dropout", &["p"]),
    ("linear", &["out", "bias", "in_features"]),
    ("softmax", &[]),
];

/// Blocks can use blocks; a cycle would never end.
const MAX_BLOCK_DEPTH: usize = 32;

pub struct Lowerer<'a> {
    blocks: HashMap<String, &'a Block>,
    pub nodes: Vec<Node>,
    pub errors: Vec<syn::Error>,
    /// The model line being lowered: where errors inside blocks are reported.
    site: TokenStream,
    depth: usize,
}

fn join(prefix: &str, segment: &str) -> String {
    match (prefix.is_empty(), segment.is_empty()) {
        (true, _) => segment.to_string(),
        (_, true) => prefix.to_string(),
        _ => format!("{prefix}.{segment}"),
    }
}

/// Arguments bound to a layer's signature; reports unknown and duplicate names.
struct Bound<'e> {
    values: HashMap<String, (Value, &'e Expr)>,
}

impl<'e> Bound<'e> {
    fn get(&self, key: &str) -> Option<&(Value, &'e Expr)> {
        self.values.get(key)
    }
}

/// Binds an invocation's arguments to `signature` (positional first, then by name; `name`
/// is always accepted) for `owner` (`` `conv!` `` or `` block `Basic` ``), whose entries are
/// `noun`s ("option", "parameter"). Every unknown, surplus or repeated argument is reported.
fn bind<'e>(inv: &'e Invocation, owner: &str, noun: &str, signature: &[&str], scope: &Scope) -> syn::Result<Bound<'e>> {
    let mut values = HashMap::new();
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    let listed = signature.iter().chain(&["name"]).copied().collect::<Vec<_>>().join(", ");
    let mut position = 0;
    for Arg { name, value } in &inv.args {
        let key = match name {
            Some(n) => {
                let key = n.to_string();
                if !signature.contains(&key.as_str()) && key != "name" {
                    push(syn::Error::new_spanned(
                        n,
                        format!("{owner} has no {noun} `{key}`; its {noun}s are: {listed}"),
                    ));
                    continue;
                }
                key
            }
            None => {
                let Some(key) = signature.get(position) else {
                    push(syn::Error::new_spanned(
                        value,
                        format!("{owner} takes at most {position} positional arguments ({listed})"),
                    ));
                    continue;
                };
                position += 1;
                key.to_string()
            }
        };
        match eval(value, scope) {
            Ok(v) => {
                if values.insert(key.clone(), (v, value)).is_some() {
                    push(syn::Error::new_spanned(value, format!("`{key}` is given twice")));
                }
            }
            Err(e) => push(e),
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(Bound { values }),
    }
}

fn usize_of(v: &Value, expr: &Expr, what: &str, min: usize) -> syn::Result<usize> {
    match v {
        Value::Int(i) if *i >= min as i64 => Ok(*i as usize),
        other => Err(syn::Error::new_spanned(expr, format!("`{what}` must be an integer >= {min}, got {other}"))),
    }
}

fn pair_of(v: &Value, expr: &Expr, what: &str, min: usize) -> syn::Result<[usize; 2]> {
    match v {
        Value::Tuple(t) if t.len() == 2 => Ok([usize_of(&t[0], expr, what, min)?, usize_of(&t[1], expr, what, min)?]),
        other => {
            let n = usize_of(other, expr, what, min)?;
            Ok([n, n])
        }
    }
}

fn bool_of(v: &Value, expr: &Expr, what: &str) -> syn::Result<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        other => Err(syn::Error::new_spanned(expr, format!("`{what}` must be true or false, got {other}"))),
    }
}

fn float_of(v: &Value, expr: &Expr, what: &str) -> syn::Result<f64> {
    match v {
        Value::Int(i) => Ok(*i as f64),
        Value::Float(f) if f.is_finite() => Ok(*f),
        other => Err(syn::Error::new_spanned(expr, format!("`{what}` must be a number, got {other}"))),
    }
}

enum PaddingRule {
    Explicit([usize; 4]),
    Same,
}

fn padding_of(v: &Value, expr: &Expr) -> syn::Result<PaddingRule> {
    match v {
        Value::Word(w) if w == "same" => Ok(PaddingRule::Same),
        Value::Word(w) if w == "valid" => Ok(PaddingRule::Explicit([0; 4])),
        other => {
            let [ph, pw] = pair_of(other, expr, "padding", 0).map_err(|_| {
                syn::Error::new_spanned(
                    expr,
                    format!("`padding` is an integer, `(h, w)`, `same` or `valid`; got {other}"),
                )
            })?;
            Ok(PaddingRule::Explicit([ph, pw, ph, pw]))
        }
    }
}

pub fn activation_of(v: &Value, expr: &Expr) -> syn::Result<Act> {
    match v {
        Value::Word(w) if w == "relu" => Ok(Act::Relu),
        Value::Word(w) if w == "relu6" => Ok(Act::Relu6),
        Value::Word(w) if w == "sigmoid" => Ok(Act::Sigmoid),
        other => Err(syn::Error::new_spanned(expr, format!("expected `relu`, `relu6` or `sigmoid`, got {other}"))),
    }
}

impl<'a> Lowerer<'a> {
    pub fn new(blocks: &'a [Block]) -> Self {
        Lowerer {
            blocks: blocks.iter().map(|b| (b.name.to_string(), b)).collect(),
            nodes: Vec::new(),
            errors: Vec::new(),
            site: TokenStream::new(),
            depth: 0,
        }
    }

    fn error(&mut self, msg: String) {
        self.errors.push(syn::Error::new_spanned(&self.site, msg));
    }

    /// The bound arguments, or `None` with their errors recorded.
    fn bound<'e>(&mut self, result: syn::Result<Bound<'e>>) -> Option<Bound<'e>> {
        result.map_err(|e| self.errors.push(e)).ok()
    }

    /// `prefix.segment`, or `prefix.<name = "..">` when the invocation renames itself.
    fn name_of(&mut self, args: &Bound, prefix: &str, segment: &str) -> Option<String> {
        match args.get("name") {
            Some((Value::Str(s), _)) => Some(join(prefix, s)),
            Some((other, expr)) => {
                self.errors.push(syn::Error::new_spanned(expr, format!("`name` must be a string, got {other}")));
                None
            }
            None => Some(join(prefix, segment)),
        }
    }

    fn push(&mut self, name: String, op: Op, inputs: Vec<usize>, shape: Shape) -> Flow {
        self.nodes.push(Node { name, op, inputs, shape });
        Some(self.nodes.len() - 1)
    }

    fn shape(&self, flow: usize) -> Shape {
        self.nodes[flow].shape
    }

    pub fn lower_model(&mut self, model: &Model) {
        let scope = Scope::default();
        let dims: Vec<usize> = model
            .input
            .iter()
            .filter_map(|e| match eval(e, &scope).and_then(|v| usize_of(&v, e, "input dimension", 1)) {
                Ok(v) => Some(v),
                Err(err) => {
                    self.errors.push(err);
                    None
                }
            })
            .collect();
        let shape = match dims.as_slice() {
            [c, h, w] => Shape { c: *c, h: *h, w: *w, flat: false },
            [n] => Shape { c: *n, h: 1, w: 1, flat: true },
            _ => {
                if dims.len() == model.input.len() {
                    self.errors.push(syn::Error::new_spanned(
                        &model.input_tokens,
                        "the input shape is `[channels, height, width]` or `[features]`",
                    ));
                }
                return;
            }
        };
        let mut flow = self.push("input".into(), Op::Input, Vec::new(), shape);
        for member in &model.members {
            self.site = member.layer.tokens().clone();
            if member.shortcut.is_some() {
                self.error("`#[shortcut]` belongs to a member of a `#[residual]` block".into());
            }
            flow = self.lower(&member.layer, "", &member.name, &scope, flow);
        }
    }

    /// Lowers one layer named `prefix.segment` reading `input`.
    fn lower(&mut self, layer: &Layer, prefix: &str, segment: &str, scope: &Scope, input: Flow) -> Flow {
        match layer {
            Layer::Seq { items, .. } => {
                let mut index = 0;
                self.lower_items(items, &join(prefix, segment), &mut index, scope, input)
            }
            Layer::Repeat { .. } => {
                let path = join(prefix, segment);
                let mut index = 0;
                self.lower_counted(layer, &path, &mut index, scope, input)
            }
            Layer::Call(inv) => self.lower_call(inv, prefix, segment, scope, input),
        }
    }

    /// Sequence elements numbered from `index`, those whose `if` fails left out.
    fn lower_items(&mut self, items: &[SeqItem], path: &str, index: &mut usize, scope: &Scope, input: Flow) -> Flow {
        let mut flow = input;
        for item in items {
            if let Some(cond) = &item.condition
                && !self.condition(cond, scope).unwrap_or(false)
            {
                continue;
            }
            flow = self.lower_counted(&item.layer, path, index, scope, flow);
        }
        flow
    }

    /// A sequence element: `repeat!(n, ..)` adds its elements n times, numbered on.
    fn lower_counted(&mut self, layer: &Layer, path: &str, index: &mut usize, scope: &Scope, input: Flow) -> Flow {
        if let Layer::Repeat { count, items, .. } = layer {
            let n = match eval(count, scope).and_then(|v| usize_of(&v, count, "repeat count", 0)) {
                Ok(n) => n,
                Err(e) => {
                    self.errors.push(e);
                    return None;
                }
            };
            let mut flow = input;
            for _ in 0..n {
                flow = self.lower_items(items, path, index, scope, flow);
            }
            return flow;
        }
        let segment = index.to_string();
        *index += 1;
        self.lower(layer, path, &segment, scope, input)
    }

    fn lower_call(&mut self, inv: &Invocation, prefix: &str, segment: &str, scope: &Scope, input: Flow) -> Flow {
        if self.depth == 0 {
            // A line of the model itself (not inside a block): errors point here.
            self.site = inv.tokens.clone();
        }
        let kind = inv.name.to_string();
        if let Some(block) = self.blocks.get(&kind).copied() {
            return self.lower_block(block, inv, prefix, segment, scope, input);
        }
        let Some((_, signature)) = BUILTINS.iter().find(|(builtin, _)| *builtin == kind) else {
            let mut blocks: Vec<String> = self.blocks.keys().cloned().collect();
            blocks.sort();
            let known: Vec<&str> = BUILTINS
                .iter()
                .map(|(n, _)| *n)
                .chain(["seq", "repeat"])
                .chain(blocks.iter().map(|b| b.as_str()))
                .collect();
            self.errors.push(syn::Error::new_spanned(
                &inv.name,
                format!("unknown layer `{kind}!`; expected one of: {}", known.join(", ")),
            ));
            return None;
        };
        let args = self.bound(bind(inv, &format!("`{kind}!`"), "option", signature, scope))?;
        let name = self.name_of(&args, prefix, segment)?;
        let input = input?;
        match self.lower_builtin(&kind, inv, &args, &name, input) {
            Ok(flow) => flow,
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    fn lower_builtin(
        &mut self,
        kind: &str,
        inv: &Invocation,
        args: &Bound,
        name: &str,
        input: usize,
    ) -> syn::Result<Flow> {
        let x = self.shape(input);
        let required = |key: &str| {
            args.get(key).ok_or_else(|| syn::Error::new_spanned(&inv.tokens, format!("`{}!` needs `{key}`", inv.name)))
        };
        let usize_or = |key: &str, default: usize, min: usize| match args.get(key) {
            Some((v, e)) => usize_of(v, e, key, min),
            None => Ok(default),
        };
        let bool_or = |key: &str, default: bool| match args.get(key) {
            Some((v, e)) => bool_of(v, e, key),
            None => Ok(default),
        };
        let float_or = |key: &str, default: f64| match args.get(key) {
            Some((v, e)) => float_of(v, e, key),
            None => Ok(default),
        };
        let pair_or = |key: &str, default: [usize; 2]| match args.get(key) {
            Some((v, e)) => pair_of(v, e, key, 1),
            None => Ok(default),
        };
        let padding_or_zero = || match args.get("padding") {
            Some((v, e)) => padding_of(v, e),
            None => Ok(PaddingRule::Explicit([0; 4])),
        };
        let op = match kind {
            "conv" | "depthwise" => {
                let (out, groups) = if kind == "conv" {
                    let (v, e) = required("out")?;
                    (usize_of(v, e, "out", 1)?, usize_or("groups", 1, 1)?)
                } else {
                    let m = usize_or("multiplier", 1, 1)?;
                    (x.c * m, x.c)
                };
                let (kv, ke) = required("kernel")?;
                let kernel = pair_of(kv, ke, "kernel", 1)?;
                let stride = pair_or("stride", [1, 1])?;
                let dilation = pair_or("dilation", [1, 1])?;
                if x.flat {
                    self.error(format!("`{name}`: a convolution needs an image, but a flat {x} flows in"));
                    return Ok(None);
                }
                if let Some((v, e)) = args.get("in_channels") {
                    let declared = usize_of(v, e, "in_channels", 1)?;
                    if declared != x.c {
                        self.error(format!(
                            "`{name}`: declares in_channels {declared}, but {} channels flow in ({x})",
                            x.c
                        ));
                    }
                }
                if !x.c.is_multiple_of(groups) || !out.is_multiple_of(groups) {
                    // The output shape does not depend on groups: later layers still check.
                    self.error(format!(
                        "`{name}`: groups {groups} must divide in_channels {} and out_channels {out}",
                        x.c
                    ));
                }
                let window = Window { kernel, stride, padding: [0; 4], dilation };
                let Some((window, h, w)) = self.window(name, "kernel", x, window, padding_or_zero()?, false) else {
                    return Ok(None);
                };
                let shape = Shape { c: out, h, w, flat: false };
                return Ok(self.push(
                    name.into(),
                    Op::Conv { out, window, groups, bias: bool_or("bias", true)? },
                    vec![input],
                    shape,
                ));
            }
            "max_pool" | "avg_pool" => {
                let (kv, ke) = required("kernel")?;
                let kernel = pair_of(kv, ke, "kernel", 1)?;
                let stride = pair_or("stride", kernel)?;
                let dilation = pair_or("dilation", [1, 1])?;
                let ceil_mode = bool_or("ceil_mode", false)?;
                if x.flat {
                    self.error(format!("`{name}`: pooling needs an image, but a flat {x} flows in"));
                    return Ok(None);
                }
                let padding = padding_or_zero()?;
                if let PaddingRule::Explicit(p) = padding
                    && (p[0] > kernel[0] / 2 || p[1] > kernel[1] / 2)
                {
                    self.error(format!(
                        "`{name}`: padding {}x{} must be at most half the {}x{} kernel",
                        p[0], p[1], kernel[0], kernel[1]
                    ));
                    return Ok(None);
                }
                let window = Window { kernel, stride, padding: [0; 4], dilation };
                let Some((window, h, w)) = self.window(name, "pooling window", x, window, padding, ceil_mode) else {
                    return Ok(None);
                };
                let pool_kind = if kind == "max_pool" { PoolKind::Max } else { PoolKind::Avg };
                let op = Op::Pool {
                    kind: pool_kind,
                    window,
                    ceil_mode,
                    count_include_pad: bool_or("count_include_pad", true)?,
                };
                return Ok(self.push(name.into(), op, vec![input], Shape { c: x.c, h, w, flat: false }));
            }
            "batch_norm" => Op::BatchNorm { eps: float_or("eps", 1e-5)? },
            "relu" => Op::Activation(Act::Relu),
            "relu6" => Op::Activation(Act::Relu6),
            "sigmoid" => Op::Activation(Act::Sigmoid),
            "leaky_relu" => Op::Activation(Act::LeakyRelu(float_or("slope", 0.01)?)),
            "dropout" => {
                float_or("p", 0.5)?;
                Op::Dropout
            }
            "lrn" => {
                let (v, e) = required("size")?;
                Op::Lrn {
                    size: usize_of(v, e, "size", 1)?,
                    alpha: float_or("alpha", 1e-4)?,
                    beta: float_or("beta", 0.75)?,
                    k: float_or("k", 1.0)?,
                }
            }
            "global_avg_pool" | "global_max_pool" => {
                if x.flat {
                    self.error(format!("`{name}`: global pooling needs an image, but a flat {x} flows in"));
                    return Ok(None);
                }
                let k = if kind == "global_avg_pool" { PoolKind::Avg } else { PoolKind::Max };
                return Ok(self.push(
                    name.into(),
                    Op::GlobalPool(k),
                    vec![input],
                    Shape { c: x.c, h: 1, w: 1, flat: false },
                ));
            }
            "adaptive_avg_pool" => {
                let (v, e) = required("out")?;
                let [out_h, out_w] = pair_of(v, e, "out", 1)?;
                if x.flat {
                    self.error(format!("`{name}`: adaptive pooling needs an image, but a flat {x} flows in"));
                    return Ok(None);
                }
                let shape = Shape { c: x.c, h: out_h, w: out_w, flat: false };
                return Ok(self.push(name.into(), Op::AdaptiveAvgPool { out_h, out_w }, vec![input], shape));
            }
            "flatten" => {
                let shape = Shape { c: x.c * x.h * x.w, h: 1, w: 1, flat: true };
                return Ok(self.push(name.into(), Op::Flatten, vec![input], shape));
            }
            "linear" => {
                let (v, e) = required("out")?;
                let out = usize_of(v, e, "out", 1)?;
                let features = x.c * x.h * x.w;
                if !x.flat && x.h * x.w != 1 {
                    self.error(format!(
                        "`{name}`: linear needs a flat input, but {x} flows in; add `flatten!()` before it"
                    ));
                    return Ok(None);
                }
                if let Some((v, e)) = args.get("in_features") {
                    let declared = usize_of(v, e, "in_features", 1)?;
                    if declared != features {
                        self.error(format!("`{name}`: declares in_features {declared}, but {features} flow in ({x})"));
                    }
                }
                let shape = Shape { c: out, h: 1, w: 1, flat: true };
                return Ok(self.push(
                    name.into(),
                    Op::Linear { out, bias: bool_or("bias", true)? },
                    vec![input],
                    shape,
                ));
            }
            "softmax" => {
                if !x.flat && x.h * x.w != 1 {
                    self.error(format!(
                        "`{name}`: softmax runs over a flat input, but {x} flows in; add `flatten!()` before it"
                    ));
                    return Ok(None);
                }
                Op::Softmax
            }
            _ => unreachable!("every builtin has a signature above"),
        };
        Ok(self.push(name.into(), op, vec![input], x))
    }

    /// Resolves padding and computes the output size of a sliding window, or reports a
    /// window larger than its padded input.
    fn window(
        &mut self,
        name: &str,
        what: &str,
        x: Shape,
        mut window: Window,
        padding: PaddingRule,
        ceil_mode: bool,
    ) -> Option<(Window, usize, usize)> {
        let span = |axis: usize| window.dilation[axis] * (window.kernel[axis] - 1) + 1;
        let spans = [span(0), span(1)];
        for (axis, size) in [x.h, x.w].into_iter().enumerate() {
            let (before, after) = match padding {
                PaddingRule::Explicit(p) => (p[axis], p[axis + 2]),
                PaddingRule::Same => {
                    // TensorFlow's rule: ceil(in / stride) outputs, the odd pixel at the end.
                    let s = window.stride[axis];
                    let total = ((size.div_ceil(s) - 1) * s + spans[axis]).saturating_sub(size);
                    (total / 2, total - total / 2)
                }
            };
            window.padding[axis] = before;
            window.padding[axis + 2] = after;
        }
        let padded = [x.h + window.padding[0] + window.padding[2], x.w + window.padding[1] + window.padding[3]];
        if padded[0] < spans[0] || padded[1] < spans[1] {
            let dilated = if window.dilation != [1, 1] { " (dilated)" } else { "" };
            self.error(format!(
                "`{name}`: {what} {}x{}{dilated} is larger than its padded input {}x{} (input {x})",
                spans[0], spans[1], padded[0], padded[1]
            ));
            return None;
        }
        let mut out = [0usize; 2];
        for (axis, size) in [x.h, x.w].into_iter().enumerate() {
            let (s, span, padded, before) = (window.stride[axis], spans[axis], padded[axis], window.padding[axis]);
            out[axis] = if ceil_mode {
                // PyTorch: round up, but the last window must start inside the input or its
                // leading padding.
                let mut o = (padded - span).div_ceil(s) + 1;
                if (o - 1) * s >= size + before {
                    o -= 1;
                }
                o
            } else {
                (padded - span) / s + 1
            };
        }
        Some((window, out[0], out[1]))
    }

    fn lower_block(
        &mut self,
        block: &Block,
        inv: &Invocation,
        prefix: &str,
        segment: &str,
        scope: &Scope,
        input: Flow,
    ) -> Flow {
        if self.depth >= MAX_BLOCK_DEPTH {
            self.errors.push(syn::Error::new_spanned(
                &inv.name,
                format!("block `{}` uses itself: blocks nest at most {MAX_BLOCK_DEPTH} deep", block.name),
            ));
            return None;
        }
        let params: Vec<String> = block.params.iter().map(|p| p.name.to_string()).collect();
        let signature: Vec<&str> = params.iter().map(|p| p.as_str()).collect();
        let args = self.bound(bind(inv, &format!("block `{}`", block.name), "parameter", &signature, scope))?;
        let name = self.name_of(&args, prefix, segment)?;
        let mut inner = Scope::default();
        inner.names.extend(args.values.into_iter().filter(|(k, _)| k != "name").map(|(k, (v, _))| (k, v)));
        let mut bad = false;
        let input = input?;
        inner.names.insert("in_channels".into(), Value::Int(self.shape(input).c as i64));
        for p in &block.params {
            if inner.names.contains_key(&p.name.to_string()) {
                continue;
            }
            match &p.default {
                Some(default) => match eval(default, &inner) {
                    Ok(v) => {
                        inner.names.insert(p.name.to_string(), v);
                    }
                    Err(e) => {
                        self.errors.push(e);
                        bad = true;
                    }
                },
                None => {
                    self.errors.push(syn::Error::new_spanned(
                        &inv.tokens,
                        format!("block `{}` needs its parameter `{}`", block.name, p.name),
                    ));
                    bad = true;
                }
            }
        }
        if bad {
            return None;
        }
        self.depth += 1;
        let out = self.lower_block_body(block, &name, &inner, input);
        self.depth -= 1;
        out
    }

    fn condition(&mut self, expr: &Expr, scope: &Scope) -> Option<bool> {
        match eval(expr, scope) {
            Ok(Value::Bool(b)) => Some(b),
            Ok(other) => {
                self.errors
                    .push(syn::Error::new_spanned(expr, format!("a condition must be true or false, got {other}")));
                None
            }
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    fn sequence<'m>(
        &mut self,
        members: impl Iterator<Item = &'m Member>,
        name: &str,
        scope: &Scope,
        input: usize,
    ) -> Flow {
        let mut flow = Some(input);
        for m in members {
            flow = self.lower(&m.layer, name, &m.name, scope, flow);
        }
        flow
    }

    fn lower_block_body(&mut self, block: &Block, name: &str, scope: &Scope, input: usize) -> Flow {
        let x = self.shape(input);
        match &block.kind {
            BlockKind::Sequential if block.tuple => {
                let mut index = 0;
                let mut flow = Some(input);
                for m in &block.members {
                    flow = self.lower_counted(&m.layer, name, &mut index, scope, flow);
                }
                flow
            }
            BlockKind::Sequential => self.sequence(block.members.iter(), name, scope, input),
            BlockKind::Residual { when, activation } => {
                let active = match when {
                    Some(cond) => self.condition(cond, scope)?,
                    None => true,
                };
                let main = block.members.iter().filter(|m| m.shortcut.is_none());
                if !active {
                    return self.sequence(main, name, scope, input);
                }
                let mut shortcut = Some(input);
                for m in block.members.iter().filter(|m| m.shortcut.is_some()) {
                    let taken = match m.shortcut.as_ref().and_then(|w| w.as_ref()) {
                        Some(cond) => self.condition(cond, scope)?,
                        None => true,
                    };
                    if taken {
                        shortcut = self.lower(&m.layer, name, &m.name, scope, Some(input));
                    }
                }
                let body = self.sequence(main, name, scope, input);
                let (body, shortcut) = (body?, shortcut?);
                let (a, b) = (self.shape(body), self.shape(shortcut));
                if (a.c, a.h, a.w) != (b.c, b.h, b.w) {
                    self.error(format!("`{name}`: residual add of {a} and {b}"));
                    return None;
                }
                let mut out = self.push(join(name, "add"), Op::Add, vec![body, shortcut], a);
                if let Some(expr) = activation {
                    match eval(expr, scope).and_then(|v| activation_of(&v, expr)) {
                        Ok(act) => out = self.push(join(name, "act"), Op::Activation(act), vec![out?], a),
                        Err(e) => self.errors.push(e),
                    }
                }
                out
            }
            BlockKind::Concat => {
                let branches: Vec<(String, Flow)> = block
                    .members
                    .iter()
                    .map(|m| (m.name.clone(), self.lower(&m.layer, name, &m.name, scope, Some(input))))
                    .collect();
                let known: Vec<(String, usize)> =
                    branches.iter().filter_map(|(n, f)| f.map(|f| (n.clone(), f))).collect();
                if known.len() != branches.len() || known.is_empty() {
                    return None;
                }
                let first = self.shape(known[0].1);
                if known.iter().any(|(_, f)| {
                    let s = self.shape(*f);
                    (s.h, s.w, s.flat) != (first.h, first.w, first.flat)
                }) {
                    let sizes: Vec<String> = known.iter().map(|(n, f)| format!("{n} {}", self.shape(*f))).collect();
                    self.error(format!(
                        "`{name}`: concat of branches with different spatial sizes: {}",
                        sizes.join(", ")
                    ));
                    return None;
                }
                let channels = known.iter().map(|(_, f)| self.shape(*f).c).sum();
                let shape = Shape { c: channels, ..first };
                self.push(name.into(), Op::Concat, known.iter().map(|(_, f)| *f).collect(), shape)
            }
            BlockKind::Excite => {
                let gate = self.sequence(block.members.iter(), name, scope, input)?;
                let g = self.shape(gate);
                if (g.c, g.h, g.w) != (x.c, 1, 1) {
                    self.error(format!("`{name}`: the excite gate is {g}, it must be {}x1x1 to scale {x}", x.c));
                    return None;
                }
                self.push(join(name, "scale"), Op::Scale, vec![input, gate], x)
            }
        }
    }
}
