//! ferrocnn-macros: the `#[network]` attribute.
//!
//! A network is declared once, as a module of blocks and models whose fields are layers:
//!
//! ```ignore
//! #[network]
//! mod small {
//!     #[block(planes, stride = 1)]
//!     #[residual(activation = relu)]
//!     struct Basic {
//!         conv1: conv!(planes, 3, stride = stride, padding = 1, bias = false),
//!         bn1: batch_norm!(),
//!         relu: relu!(),
//!         conv2: conv!(planes, 3, padding = 1, bias = false),
//!         bn2: batch_norm!(),
//!         #[shortcut(when = stride != 1 || in_channels != planes)]
//!         downsample: seq![conv!(planes, 1, stride = stride, bias = false), batch_norm!()],
//!     }
//!
//!     #[model(input = [3, 32, 32])]
//!     pub struct Net {
//!         stem: conv!(16, 3, padding = same),
//!         layer1: seq![Basic!(16), Basic!(32, stride = 2)],
//!         pool: global_avg_pool!(),
//!         flatten: flatten!(),
//!         fc: linear!(10),
//!     }
//! }
//! ```
//!
//! The macro parses (`ast`), checks every shape from the declared input and lowers the
//! layers to a graph (`lower`), and generates the model (`expand`): see
//! `ferrocnn_models::nn` for what the generated code calls and the full layer reference.

use proc_macro::TokenStream;
use quote::quote;
use syn::{Item, ItemMod, parse_macro_input};

mod ast;
mod eval;
mod expand;
mod lower;

#[proc_macro_attribute]
pub fn network(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = proc_macro2::TokenStream::from(args);
    let out = match parse_macro_input!(item as Item) {
        Item::Mod(m) => module(args, m),
        Item::Struct(s) => {
            let mut errors = Vec::new();
            let model = ast::parse_model(s, args, &mut errors);
            let expanded = model.map(|m| models(&[], &[m], &mut errors)).unwrap_or_default();
            finish(expanded, errors)
        }
        other => {
            syn::Error::new_spanned(other, "#[network] goes on a `mod` of blocks and models, or on a model struct")
                .to_compile_error()
        }
    };
    out.into()
}

fn finish(expanded: proc_macro2::TokenStream, errors: Vec<syn::Error>) -> proc_macro2::TokenStream {
    match errors.into_iter().reduce(|mut all, e| {
        all.combine(e);
        all
    }) {
        Some(e) => e.to_compile_error(),
        None => expanded,
    }
}

fn models(blocks: &[ast::Block], models: &[ast::Model], errors: &mut Vec<syn::Error>) -> proc_macro2::TokenStream {
    let mut out = proc_macro2::TokenStream::new();
    for model in models {
        let mut lowerer = lower::Lowerer::new(blocks);
        lowerer.lower_model(model);
        if lowerer.errors.is_empty() && !lowerer.nodes.is_empty() {
            out.extend(expand::model(model, &lowerer.nodes));
        }
        errors.append(&mut lowerer.errors);
    }
    out
}

fn module(args: proc_macro2::TokenStream, m: ItemMod) -> proc_macro2::TokenStream {
    if !args.is_empty() {
        return syn::Error::new_spanned(
            args,
            "#[network] on a module takes no arguments; put `#[model(input = [..])]` on each model",
        )
        .to_compile_error();
    }
    let Some((_, items)) = &m.content else {
        return syn::Error::new_spanned(&m, "#[network] needs the module's items inline: `mod name { .. }`")
            .to_compile_error();
    };
    let mut errors = Vec::new();
    let (mut blocks, mut parsed_models, mut rest) = (Vec::new(), Vec::new(), Vec::new());
    for item in items {
        match item {
            Item::Struct(s) if s.attrs.iter().any(|a| a.path().is_ident("block")) => {
                let attr = s.attrs.iter().find(|a| a.path().is_ident("block")).unwrap();
                if let Some(b) = ast::parse_block(s, attr, &mut errors) {
                    blocks.push(b);
                }
            }
            Item::Struct(s) if s.attrs.iter().any(|a| a.path().is_ident("model")) => {
                let attr = s.attrs.iter().find(|a| a.path().is_ident("model")).unwrap();
                let args = ast::attr_tokens(attr);
                if let Some(model) = ast::parse_model(s.clone(), args, &mut errors) {
                    parsed_models.push(model);
                }
            }
            other => rest.push(other.clone()),
        }
    }
    let generated = models(&blocks, &parsed_models, &mut errors);
    let (attrs, vis, ident) = (&m.attrs, &m.vis, &m.ident);
    let body = finish(generated, errors);
    quote! {
        #(#attrs)*
        #vis mod #ident {
            #(#rest)*
            #body
        }
    }
}
