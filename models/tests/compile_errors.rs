//! Every kind of declaration mistake is a compile error at the offending layer, with the
//! numbers; `tests/ui/*.stderr` hold the exact messages.

#[test]
fn declaration_mistakes_are_compile_errors() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
