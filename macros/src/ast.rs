//! Parsing: the annotated module (or struct) into blocks and models, each a list of members
//! whose types are layer invocations (`conv!(64, 3, padding = 1)`, `seq![..]`, `Block!(..)`).
//! Every piece keeps its tokens so later errors point at what the user wrote.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Fields, Ident, ItemStruct, Token, Type};

/// `name!(args)` or `name![args]`.
pub struct Invocation {
    pub name: Ident,
    pub args: Vec<Arg>,
    pub tokens: TokenStream,
}

pub struct Arg {
    /// `stride = 2` is named `stride`; `64` is positional.
    pub name: Option<Ident>,
    pub value: Expr,
}

pub enum Layer {
    Call(Invocation),
    Seq {
        items: Vec<SeqItem>,
        tokens: TokenStream,
    },
    /// `repeat!(n, a, b if cond, ..)`: the items n times over, spliced into the enclosing
    /// sequence.
    Repeat {
        count: Expr,
        items: Vec<SeqItem>,
        tokens: TokenStream,
    },
}

/// One element of `seq![..]`, included only when its `if` condition holds.
pub struct SeqItem {
    pub layer: Layer,
    pub condition: Option<Expr>,
}

pub struct Member {
    /// The weight-name segment: the field name, the tuple index, or `#[name = ".."]`.
    pub name: String,
    pub layer: Layer,
    /// `#[shortcut]` in a residual block; the optional `when = cond` adds an identity
    /// shortcut when the condition is false.
    pub shortcut: Option<Option<Expr>>,
}

pub struct Param {
    pub name: Ident,
    pub default: Option<Expr>,
}

pub enum BlockKind {
    Sequential,
    /// `#[residual(when = cond, activation = relu)]`.
    Residual {
        when: Option<Box<Expr>>,
        activation: Option<Box<Expr>>,
    },
    Concat,
    Excite,
}

pub struct Block {
    pub name: Ident,
    /// A tuple struct: a sequence whose members are numbered, `repeat!` spliced in.
    pub tuple: bool,
    pub params: Vec<Param>,
    pub kind: BlockKind,
    pub members: Vec<Member>,
}

pub struct Model {
    pub item: ItemStruct,
    pub input: Vec<Expr>,
    pub input_tokens: TokenStream,
    pub members: Vec<Member>,
}

impl Layer {
    pub fn tokens(&self) -> &TokenStream {
        match self {
            Layer::Call(c) => &c.tokens,
            Layer::Seq { tokens, .. } | Layer::Repeat { tokens, .. } => tokens,
        }
    }
}

fn parse_invocation(input: ParseStream) -> syn::Result<(Ident, TokenStream, TokenStream)> {
    let name: Ident = input.parse()?;
    let bang: Token![!] = input.parse()?;
    let group: proc_macro2::Group = input.parse()?;
    let mut tokens = TokenStream::new();
    name.to_tokens(&mut tokens);
    bang.to_tokens(&mut tokens);
    group.to_tokens(&mut tokens);
    Ok((name, group.stream(), tokens))
}

impl Parse for Layer {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let (name, body, tokens) = parse_invocation(input)?;
        match name.to_string().as_str() {
            "seq" => {
                let items = Punctuated::<SeqItem, Token![,]>::parse_terminated.parse2(body)?;
                Ok(Layer::Seq { items: items.into_iter().collect(), tokens })
            }
            "repeat" => {
                let (count, items) = (|input: ParseStream| {
                    let count: Expr = input.parse()?;
                    input.parse::<Token![,]>()?;
                    let items = Punctuated::<SeqItem, Token![,]>::parse_terminated(input)?;
                    Ok((count, items.into_iter().collect::<Vec<_>>()))
                })
                .parse2(body)?;
                if items.is_empty() {
                    return Err(syn::Error::new_spanned(&tokens, "`repeat!(n, layers..)` needs at least one layer"));
                }
                Ok(Layer::Repeat { count, items, tokens })
            }
            _ => {
                let args = Punctuated::<Expr, Token![,]>::parse_terminated.parse2(body)?;
                let args = args.into_iter().map(Arg::from_expr).collect();
                Ok(Layer::Call(Invocation { name, args, tokens }))
            }
        }
    }
}

impl Parse for SeqItem {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let layer: Layer = input.parse()?;
        let condition = if input.peek(Token![if]) {
            input.parse::<Token![if]>()?;
            Some(Expr::parse_without_eager_brace(input)?)
        } else {
            None
        };
        Ok(SeqItem { layer, condition })
    }
}

impl Arg {
    fn from_expr(expr: Expr) -> Arg {
        if let Expr::Assign(assign) = &expr
            && let Expr::Path(path) = &*assign.left
            && let Some(ident) = path.path.get_ident()
        {
            return Arg { name: Some(ident.clone()), value: (*assign.right).clone() };
        }
        Arg { name: None, value: expr }
    }
}

/// The layer a field's type declares: `conv1: conv!(64, 3)`.
fn field_layer(ty: &Type) -> syn::Result<Layer> {
    match ty {
        Type::Macro(m) => {
            let tokens = m.to_token_stream();
            syn::parse2::<Layer>(tokens)
        }
        other => Err(syn::Error::new_spanned(
            other,
            "a layer's type is a layer invocation such as `conv!(64, 3, padding = 1)`, `relu!()`, `seq![..]` or a block `Name!(..)`",
        )),
    }
}

fn attr_named<'a>(attrs: &'a [Attribute], name: &str) -> Option<&'a Attribute> {
    attrs.iter().find(|a| a.path().is_ident(name))
}

/// `key = value` pairs of an attribute's argument list, checked against `allowed`.
fn attr_pairs(attr: &Attribute, allowed: &[&str]) -> syn::Result<Vec<(Ident, Expr)>> {
    if matches!(attr.meta, syn::Meta::Path(_)) {
        return Ok(Vec::new());
    }
    let exprs = attr.parse_args_with(Punctuated::<Expr, Token![,]>::parse_terminated)?;
    let mut pairs = Vec::new();
    for expr in exprs {
        let arg = Arg::from_expr(expr.clone());
        match arg.name {
            Some(name) if allowed.contains(&name.to_string().as_str()) => pairs.push((name, arg.value)),
            _ => {
                return Err(syn::Error::new_spanned(
                    expr,
                    format!("expected `key = value` with key one of: {}", allowed.join(", ")),
                ));
            }
        }
    }
    Ok(pairs)
}

fn members(fields: &Fields, errors: &mut Vec<syn::Error>) -> Vec<Member> {
    let mut out = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        let mut name = field.ident.as_ref().map_or(index.to_string(), |i| i.to_string());
        if let Some(attr) = attr_named(&field.attrs, "name") {
            match &attr.meta {
                syn::Meta::NameValue(nv) => match &nv.value {
                    Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => name = s.value(),
                    other => errors.push(syn::Error::new_spanned(other, "expected `#[name = \"weights.prefix\"]`")),
                },
                other => errors.push(syn::Error::new_spanned(other, "expected `#[name = \"weights.prefix\"]`")),
            }
        }
        let shortcut = match attr_named(&field.attrs, "shortcut") {
            None => None,
            Some(attr) => match attr_pairs(attr, &["when"]) {
                Ok(pairs) => Some(pairs.into_iter().next().map(|(_, v)| v)),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
        };
        for attr in &field.attrs {
            if !["name", "shortcut", "doc"].iter().any(|n| attr.path().is_ident(n)) {
                errors.push(syn::Error::new_spanned(
                    attr,
                    "unknown layer attribute; expected `#[name = \"..\"]` or `#[shortcut]`",
                ));
            }
        }
        match field_layer(&field.ty) {
            Ok(layer) => out.push(Member { name, layer, shortcut }),
            Err(e) => errors.push(e),
        }
    }
    out
}

pub fn parse_block(item: &ItemStruct, attr: &Attribute, errors: &mut Vec<syn::Error>) -> Option<Block> {
    let params = if matches!(attr.meta, syn::Meta::Path(_)) {
        Vec::new()
    } else {
        match attr.parse_args_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
            Ok(exprs) => exprs
                .into_iter()
                .filter_map(|e| {
                    let arg = Arg::from_expr(e.clone());
                    match (arg.name, &arg.value) {
                        (Some(name), _) => Some(Param { name, default: Some(arg.value) }),
                        (None, Expr::Path(p)) if p.path.get_ident().is_some() => {
                            Some(Param { name: p.path.get_ident().cloned().unwrap(), default: None })
                        }
                        _ => {
                            errors.push(syn::Error::new_spanned(e, "a block parameter is `name` or `name = default`"));
                            None
                        }
                    }
                })
                .collect(),
            Err(e) => {
                errors.push(e);
                return None;
            }
        }
    };
    let mut kind = BlockKind::Sequential;
    for attr in &item.attrs {
        let path = attr.path();
        if path.is_ident("residual") {
            match attr_pairs(attr, &["when", "activation"]) {
                Ok(pairs) => {
                    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| Box::new(v.clone()));
                    kind = BlockKind::Residual { when: get("when"), activation: get("activation") };
                }
                Err(e) => errors.push(e),
            }
        } else if path.is_ident("concat") {
            kind = BlockKind::Concat;
        } else if path.is_ident("excite") {
            kind = BlockKind::Excite;
        } else if !path.is_ident("block") && !path.is_ident("doc") {
            errors.push(syn::Error::new_spanned(
                attr,
                "unknown block attribute; expected `#[residual]`, `#[concat]` or `#[excite]`",
            ));
        }
    }
    let members = members(&item.fields, errors);
    let tuple = matches!(item.fields, Fields::Unnamed(_));
    Some(Block { name: item.ident.clone(), tuple, params, kind, members })
}

pub fn parse_model(item: ItemStruct, args: TokenStream, errors: &mut Vec<syn::Error>) -> Option<Model> {
    let exprs = match Punctuated::<Expr, Token![,]>::parse_terminated.parse2(args.clone()) {
        Ok(e) => e,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let mut input = None;
    for expr in exprs {
        let arg = Arg::from_expr(expr.clone());
        match (arg.name.as_ref().map(|n| n.to_string()), arg.value) {
            (Some(n), Expr::Array(a)) if n == "input" => {
                input = Some((a.elems.iter().cloned().collect::<Vec<_>>(), a.to_token_stream()))
            }
            _ => errors
                .push(syn::Error::new_spanned(expr, "expected `input = [channels, height, width]` (or `[features]`)")),
        }
    }
    let Some((input, input_tokens)) = input else {
        errors.push(syn::Error::new_spanned(
            &item.ident,
            format!("`{}` needs its input shape: `#[model(input = [channels, height, width])]`", item.ident),
        ));
        return None;
    };
    let members = members(&item.fields, errors);
    Some(Model { item, input, input_tokens, members })
}

pub fn attr_tokens(attr: &Attribute) -> TokenStream {
    match &attr.meta {
        syn::Meta::List(list) => list.tokens.clone(),
        _ => TokenStream::new(),
    }
}
