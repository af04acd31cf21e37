//! ferrocnn-macros: the `#[network]` attribute.
//!
//! The attribute itself — layers declared once, shapes checked at compile time, weights,
//! forward pass, summary and weight loading generated — is being built in its own issue;
//! this crate exports nothing until it is real.
