//! The small expression language of layer arguments: integer, float and boolean literals,
//! block parameters, `in_channels`, arithmetic, comparisons and logic, tuples, and bare
//! words (`same`, `valid`, `relu`) that the layer reading them interprets.

use std::collections::HashMap;
use syn::{BinOp, Expr, Lit, UnOp};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Tuple(Vec<Value>),
    Word(String),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Str(v) => write!(f, "{v:?}"),
            Value::Word(v) => write!(f, "{v}"),
            Value::Tuple(vs) => {
                write!(f, "(")?;
                for (i, v) in vs.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{v}")?;
                }
                write!(f, ")")
            }
        }
    }
}

/// Names visible to an argument: the enclosing block's parameters and `in_channels`.
#[derive(Clone, Default)]
pub struct Scope {
    pub names: HashMap<String, Value>,
}

pub fn eval(expr: &Expr, scope: &Scope) -> syn::Result<Value> {
    let err = |msg: String| Err(syn::Error::new_spanned(expr, msg));
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Int(i) => Ok(Value::Int(i.base10_parse()?)),
            Lit::Float(f) => Ok(Value::Float(f.base10_parse()?)),
            Lit::Bool(b) => Ok(Value::Bool(b.value)),
            Lit::Str(s) => Ok(Value::Str(s.value())),
            _ => err("expected a number, `true`/`false` or a string".into()),
        },
        Expr::Path(p) => match p.path.get_ident() {
            Some(ident) => {
                let name = ident.to_string();
                Ok(scope.names.get(&name).cloned().unwrap_or(Value::Word(name)))
            }
            None => err("expected a parameter name or a word such as `same`".into()),
        },
        Expr::Paren(p) => eval(&p.expr, scope),
        Expr::Group(g) => eval(&g.expr, scope),
        Expr::Tuple(t) => Ok(Value::Tuple(t.elems.iter().map(|e| eval(e, scope)).collect::<syn::Result<_>>()?)),
        Expr::Unary(u) => {
            let v = eval(&u.expr, scope)?;
            match (&u.op, v) {
                (UnOp::Neg(_), Value::Int(i)) => Ok(Value::Int(-i)),
                (UnOp::Neg(_), Value::Float(f)) => Ok(Value::Float(-f)),
                (UnOp::Not(_), Value::Bool(b)) => Ok(Value::Bool(!b)),
                (_, v) => err(format!("cannot apply this operator to {v}")),
            }
        }
        Expr::Binary(b) => {
            let (l, r) = (eval(&b.left, scope)?, eval(&b.right, scope)?);
            binary(&b.op, l, r).or_else(err)
        }
        Expr::If(i) => {
            let Value::Bool(c) = eval(&i.cond, scope)? else {
                return err("the condition of `if` must be true or false".into());
            };
            let block_value = |b: &syn::Block| match b.stmts.as_slice() {
                [syn::Stmt::Expr(e, None)] => eval(e, scope),
                _ => Err(syn::Error::new_spanned(b, "each branch of `if` holds one value")),
            };
            match (&i.else_branch, c) {
                (_, true) => block_value(&i.then_branch),
                (Some((_, e)), false) => eval(e, scope),
                (None, false) => err("`if` needs an `else` branch".into()),
            }
        }
        _ => err("unsupported expression in a layer argument".into()),
    }
}

fn binary(op: &BinOp, l: Value, r: Value) -> Result<Value, String> {
    use Value::*;
    Ok(match (op, l, r) {
        (BinOp::Add(_), Int(a), Int(b)) => Int(a + b),
        (BinOp::Sub(_), Int(a), Int(b)) => Int(a - b),
        (BinOp::Mul(_), Int(a), Int(b)) => Int(a * b),
        (BinOp::Div(_) | BinOp::Rem(_), Int(_), Int(0)) => return Err("division by zero".into()),
        (BinOp::Div(_), Int(a), Int(b)) => Int(a / b),
        (BinOp::Rem(_), Int(a), Int(b)) => Int(a % b),
        (BinOp::Add(_), a, b) if is_num(&a) && is_num(&b) => Float(num(&a) + num(&b)),
        (BinOp::Sub(_), a, b) if is_num(&a) && is_num(&b) => Float(num(&a) - num(&b)),
        (BinOp::Mul(_), a, b) if is_num(&a) && is_num(&b) => Float(num(&a) * num(&b)),
        (BinOp::Div(_), a, b) if is_num(&a) && is_num(&b) => Float(num(&a) / num(&b)),
        (BinOp::Eq(_), a, b) => Bool(a == b),
        (BinOp::Ne(_), a, b) => Bool(a != b),
        (BinOp::Lt(_), a, b) if is_num(&a) && is_num(&b) => Bool(num(&a) < num(&b)),
        (BinOp::Le(_), a, b) if is_num(&a) && is_num(&b) => Bool(num(&a) <= num(&b)),
        (BinOp::Gt(_), a, b) if is_num(&a) && is_num(&b) => Bool(num(&a) > num(&b)),
        (BinOp::Ge(_), a, b) if is_num(&a) && is_num(&b) => Bool(num(&a) >= num(&b)),
        (BinOp::And(_), Bool(a), Bool(b)) => Bool(a && b),
        (BinOp::Or(_), Bool(a), Bool(b)) => Bool(a || b),
        (_, a, b) => return Err(format!("cannot combine {a} and {b} with this operator")),
    })
}

fn is_num(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Float(_))
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => f64::NAN,
    }
}
