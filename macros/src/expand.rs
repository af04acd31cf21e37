//! Code generation: the model struct, its graph as a constant, the constants computed from
//! it, and the methods that hand the graph to `::ferrocnn_models::nn::Model`.

use crate::ast::Model;
use crate::lower::{Act, Node, Op, PoolKind, Shape, Window};
use proc_macro2::{Literal, TokenStream};
use quote::quote;

fn f32_lit(v: f64) -> Literal {
    Literal::f32_suffixed(v as f32)
}

fn shape_tokens(s: Shape) -> TokenStream {
    let (c, h, w, flat) = (s.c, s.h, s.w, s.flat);
    quote!(::ferrocnn_models::nn::Shape { channels: #c, height: #h, width: #w, flat: #flat })
}

fn act_tokens(a: Act) -> TokenStream {
    match a {
        Act::Relu => quote!(::ferrocnn_models::kernels::Activation::Relu),
        Act::Relu6 => quote!(::ferrocnn_models::kernels::Activation::Relu6),
        Act::Sigmoid => quote!(::ferrocnn_models::kernels::Activation::Sigmoid),
        Act::LeakyRelu(slope) => {
            let slope = f32_lit(slope);
            quote!(::ferrocnn_models::kernels::Activation::LeakyRelu(#slope))
        }
    }
}

fn pool_kind_tokens(k: PoolKind) -> TokenStream {
    match k {
        PoolKind::Max => quote!(::ferrocnn_models::kernels::PoolKind::Max),
        PoolKind::Avg => quote!(::ferrocnn_models::kernels::PoolKind::Avg),
    }
}

fn window_fields(w: &Window) -> TokenStream {
    let ([kh, kw], [sh, sw], [pt, pl, pb, pr], [dh, dw]) = (w.kernel, w.stride, w.padding, w.dilation);
    quote!(kernel: [#kh, #kw], stride: [#sh, #sw], padding: [#pt, #pl, #pb, #pr], dilation: [#dh, #dw])
}

fn op_tokens(op: &Op) -> TokenStream {
    let nn = quote!(::ferrocnn_models::nn);
    match op {
        Op::Input => quote!(#nn::Op::Input),
        Op::Conv { out, window, groups, bias } => {
            let w = window_fields(window);
            quote!(#nn::Op::Conv(#nn::ConvSpec { out_channels: #out, #w, groups: #groups, bias: #bias }))
        }
        Op::BatchNorm { eps } => {
            let eps = f32_lit(*eps);
            quote!(#nn::Op::BatchNorm { eps: #eps })
        }
        Op::Activation(a) => {
            let a = act_tokens(*a);
            quote!(#nn::Op::Activation(#a))
        }
        Op::Pool { kind, window, ceil_mode, count_include_pad } => {
            let (k, w) = (pool_kind_tokens(*kind), window_fields(window));
            quote!(#nn::Op::Pool(#nn::PoolSpec {
                kind: #k, #w, ceil_mode: #ceil_mode, count_include_pad: #count_include_pad
            }))
        }
        Op::GlobalPool(k) => {
            let k = pool_kind_tokens(*k);
            quote!(#nn::Op::GlobalPool(#k))
        }
        Op::AdaptiveAvgPool { out_h, out_w } => quote!(#nn::Op::AdaptiveAvgPool { out_h: #out_h, out_w: #out_w }),
        Op::Lrn { size, alpha, beta, k } => {
            let (alpha, beta, k) = (f32_lit(*alpha), f32_lit(*beta), f32_lit(*k));
            quote!(#nn::Op::Lrn { size: #size, alpha: #alpha, beta: #beta, k: #k })
        }
        Op::Flatten => quote!(#nn::Op::Flatten),
        Op::Dropout => quote!(#nn::Op::Dropout),
        Op::Linear { out, bias } => quote!(#nn::Op::Linear { out_features: #out, bias: #bias }),
        Op::Softmax => quote!(#nn::Op::Softmax),
        Op::Add => quote!(#nn::Op::Add),
        Op::Concat => quote!(#nn::Op::Concat),
        Op::Scale => quote!(#nn::Op::Scale),
    }
}

fn dims(s: Shape) -> Vec<usize> {
    if s.flat { vec![s.c] } else { vec![s.c, s.h, s.w] }
}

pub fn model(model: &Model, nodes: &[Node]) -> TokenStream {
    let item = &model.item;
    let (vis, ident) = (&item.vis, &item.ident);
    let attrs: Vec<_> = item.attrs.iter().filter(|a| !a.path().is_ident("model")).collect();
    let title = ident.to_string();
    let node_tokens = nodes.iter().map(|n| {
        let (name, op, inputs, shape) = (&n.name, op_tokens(&n.op), &n.inputs, shape_tokens(n.shape));
        quote!(::ferrocnn_models::nn::Node { name: #name, op: #op, inputs: &[#(#inputs),*], shape: #shape })
    });
    let input_dims = dims(nodes[0].shape);
    let output_dims = dims(nodes[nodes.len() - 1].shape);
    quote! {
        #(#attrs)*
        #vis struct #ident {
            model: ::ferrocnn_models::nn::Model,
        }

        impl #ident {
            /// The network as lowered by `#[network]`: every layer with its output shape.
            pub const GRAPH: ::ferrocnn_models::nn::Graph =
                ::ferrocnn_models::nn::Graph { name: #title, nodes: &[#(#node_tokens),*] };
            /// Trainable parameters, PyTorch's convention (BN running statistics excluded).
            pub const PARAMS: u64 = Self::GRAPH.params();
            /// Floating-point operations per image: 2 per multiply-add of conv and linear layers.
            pub const FLOPS: u64 = Self::GRAPH.flops();
            pub const INPUT_SHAPE: &'static [usize] = &[#(#input_dims),*];
            pub const OUTPUT_SHAPE: &'static [usize] = &[#(#output_dims),*];

            /// Kaiming-normal weights and unit batch-norm statistics from `seed`, for benchmarks.
            pub fn random(seed: u64) -> Self {
                #ident { model: ::ferrocnn_models::nn::Model::random(Self::GRAPH, seed) }
            }

            /// Loads every tensor by its state-dict name from a safetensors file.
            pub fn from_safetensors(path: impl ::core::convert::AsRef<::std::path::Path>)
                -> ::core::result::Result<Self, ::ferrocnn_models::nn::Error>
            {
                Ok(#ident { model: ::ferrocnn_models::nn::Model::from_safetensors(Self::GRAPH, path.as_ref())? })
            }

            /// [`Self::from_safetensors`] from the file's bytes.
            pub fn from_safetensors_bytes(bytes: &[u8]) -> ::core::result::Result<Self, ::ferrocnn_models::nn::Error> {
                Ok(#ident { model: ::ferrocnn_models::nn::Model::from_safetensors_bytes(Self::GRAPH, bytes)? })
            }

            /// Runs `batch` images (NCHW, `INPUT_SHAPE` each); returns `batch` outputs.
            pub fn forward(&mut self, input: &[f32], batch: usize)
                -> ::core::result::Result<&[f32], ::ferrocnn_models::nn::Error>
            {
                self.model.forward(input, batch)
            }

            /// A table of every layer: name, kind, output shape, parameters, MFLOPs.
            pub fn summary(&self) -> ::ferrocnn_models::nn::Summary {
                self.model.summary()
            }

            /// The runtime: threads, instruction set, weights, the layer-by-layer reference check.
            pub fn model(&self) -> &::ferrocnn_models::nn::Model {
                &self.model
            }

            pub fn model_mut(&mut self) -> &mut ::ferrocnn_models::nn::Model {
                &mut self.model
            }
        }

        impl ::core::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Display::fmt(&self.model.summary(), f)
            }
        }
    }
}
