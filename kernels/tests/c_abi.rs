//! The C ABI as C sees it: `include/ferrocnn.h` agrees with `src/capi` (every function,
//! struct, typedef and constant, compared as text after mapping Rust types to C), and the
//! C example compiles against the header, links the static library with the system `cc`,
//! and matches its hand-computed results on every ISA path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn kernels_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The header with its comments removed.
fn header() -> String {
    let text = std::fs::read_to_string(kernels_dir().join("include/ferrocnn.h")).unwrap();
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = &rest[start + rest[start..].find("*/").expect("closed comment") + 2..];
    }
    out + rest
}

/// Every Rust source of the C ABI, concatenated.
fn rust_sources() -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(kernels_dir().join("src/capi"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect::<Vec<_>>().join("\n")
}

/// A Rust type of the ABI as C spells it.
fn c_type(rust: &str) -> String {
    let rust = rust.trim();
    if let Some(inner) = rust.strip_prefix("*const ") {
        return match inner.trim() {
            "c_char" => "const char *".into(),
            inner => format!("const {} *", c_type(inner)),
        };
    }
    if let Some(inner) = rust.strip_prefix("*mut ") {
        return format!("{} *", c_type(inner));
    }
    match rust {
        "usize" => "size_t".into(),
        "i32" => "int32_t".into(),
        "u32" => "uint32_t".into(),
        "f32" => "float".into(),
        "" | "()" => "void".into(),
        name if name.starts_with("ferrocnn_") => name.into(),
        other => panic!("no C spelling for the Rust type `{other}`"),
    }
}

/// Whitespace removed: both sides are compared as token streams.
fn squash(s: &str) -> String {
    s.split_whitespace().collect()
}

/// The text between the `(` at `open` and its matching `)`.
fn parenthesised(s: &str, open: usize) -> &str {
    let mut depth = 0;
    for (i, c) in s[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &s[open + 1..open + i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses")
}

fn split_list(list: &str, separator: char) -> Vec<&str> {
    list.split(separator).map(str::trim).filter(|p| !p.is_empty()).collect()
}

/// `extern "C"` functions of the Rust side, as C prototypes keyed by name.
fn rust_functions(src: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (at, _) in src.match_indices("extern \"C\" fn ") {
        let rest = &src[at + "extern \"C\" fn ".len()..];
        let open = rest.find('(').unwrap();
        let name = rest[..open].trim().to_string();
        let params = parenthesised(rest, open);
        let after = &rest[open + params.len() + 2..];
        let signature_end = after.find('{').unwrap();
        let ret = after[..signature_end].trim().strip_prefix("->").unwrap_or("").trim();
        let params: Vec<String> = split_list(params, ',')
            .iter()
            .map(|p| {
                let (pname, ty) = p.split_once(':').unwrap();
                format!("{} {}", c_type(ty), pname.trim())
            })
            .collect();
        let params = if params.is_empty() { "void".to_string() } else { params.join(", ") };
        out.insert(name.clone(), squash(&format!("{} {name}({params});", c_type(ret))));
    }
    out
}

/// Function prototypes of the header keyed by name.
fn header_functions(h: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let declarations: String = h.lines().filter(|l| !l.trim_start().starts_with('#')).collect::<Vec<_>>().join("\n");
    for statement in declarations.split(';') {
        let statement = statement.trim();
        let Some(open) = statement.find('(') else { continue };
        if statement.contains("typedef") || statement.contains('{') {
            continue;
        }
        let head = &statement[..open];
        let name = head.rsplit(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap().to_string();
        out.insert(name, squash(&format!("{statement};")));
    }
    out
}

/// `#[repr(C)]` structs of the Rust side: name -> C fields `type name;`.
fn rust_structs(src: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (at, _) in src.match_indices("#[repr(C)]") {
        let rest = &src[at..];
        let start = rest.find("pub struct ").unwrap() + "pub struct ".len();
        let open = rest.find('{').unwrap();
        let name = rest[start..open].trim().to_string();
        let body = &rest[open + 1..open + rest[open..].find('}').unwrap()];
        let fields = body
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("pub "))
            .map(|l| {
                let (field, ty) = l.trim_start_matches("pub ").trim_end_matches(',').split_once(':').unwrap();
                squash(&format!("{} {};", c_type(ty), field.trim()))
            })
            .collect();
        out.insert(name, fields);
    }
    out
}

/// `typedef struct NAME { ... } NAME;` of the header: name -> fields.
fn header_structs(h: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (at, _) in h.match_indices("typedef struct ") {
        let rest = &h[at + "typedef struct ".len()..];
        let (Some(open), Some(semi)) = (rest.find('{'), rest.find(';')) else { continue };
        if semi < open {
            continue; // an opaque declaration
        }
        let name = rest[..open].trim().to_string();
        let body = &rest[open + 1..rest.find('}').unwrap()];
        out.insert(name, split_list(body, ';').iter().map(|f| squash(&format!("{f};"))).collect());
    }
    out
}

/// Opaque plan types: Rust `pub type ferrocnn_x = Planned<...>`; header `typedef struct X X;`.
fn opaque_types(src: &str, h: &str) -> (Vec<String>, Vec<String>) {
    let rust = src
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub type ferrocnn_"))
        .filter_map(|rest| rest.split_once(" = Planned<"))
        .map(|(name, _)| format!("ferrocnn_{name}"))
        .collect();
    let header = h
        .match_indices("typedef struct ")
        .filter_map(|(at, _)| {
            let decl = &h[at + "typedef struct ".len()..];
            let decl = &decl[..decl.find(';')?];
            let parts: Vec<&str> = decl.split_whitespace().collect();
            (parts.len() == 2 && parts[0] == parts[1]).then(|| parts[0].to_string())
        })
        .collect();
    (rust, header)
}

/// `pub const FERROCNN_X: T = V;` and `pub type ferrocnn_x = T;` (other than the opaque
/// plan types) of the Rust side, as the header's `#define` and `typedef` lines.
fn rust_constants(src: &str) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut defines = BTreeMap::new();
    let mut typedefs = BTreeMap::new();
    for line in src.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("pub const FERROCNN_") {
            let (name, value) = rest.split_once(':').unwrap();
            let value = value.split_once('=').unwrap().1.trim().trim_end_matches(';');
            defines.insert(format!("FERROCNN_{name}"), value.to_string());
        }
        if let Some(rest) = line.strip_prefix("pub type ferrocnn_")
            && !rest.contains("Planned<")
        {
            let (name, ty) = rest.split_once('=').unwrap();
            typedefs.insert(format!("ferrocnn_{}", name.trim()), c_type(ty.trim_end_matches(';')));
        }
    }
    (defines, typedefs)
}

fn header_constants(h: &str) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut defines = BTreeMap::new();
    let mut typedefs = BTreeMap::new();
    for line in h.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("#define FERROCNN_") {
            let parts: Vec<&str> = rest.split_whitespace().collect();
            if let [name, value] = parts[..] {
                defines.insert(format!("FERROCNN_{name}"), value.to_string());
            }
        }
        if let Some(rest) = line.strip_prefix("typedef ")
            && !rest.starts_with("struct")
        {
            let (ty, name) = rest.trim_end_matches(';').rsplit_once(' ').unwrap();
            typedefs.insert(name.to_string(), ty.trim().to_string());
        }
    }
    (defines, typedefs)
}

#[test]
fn header_matches_the_rust_side() {
    let (src, h) = (rust_sources(), header());
    let (rust_fns, header_fns) = (rust_functions(&src), header_functions(&h));
    assert!(rust_fns.len() >= 20, "found only {} functions: {rust_fns:?}", rust_fns.len());
    assert_eq!(rust_fns, header_fns, "functions: Rust (left) vs ferrocnn.h (right)");
    let structs = rust_structs(&src);
    assert_eq!(structs.len(), 3, "{structs:?}");
    assert_eq!(structs, header_structs(&h), "structs: Rust (left) vs ferrocnn.h (right)");
    let (rust_opaque, header_opaque) = opaque_types(&src, &h);
    assert_eq!(rust_opaque.len(), 4, "{rust_opaque:?}");
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(sorted(rust_opaque), sorted(header_opaque), "opaque plan types");
    let (rust_defines, rust_typedefs) = rust_constants(&src);
    let (header_defines, header_typedefs) = header_constants(&h);
    assert_eq!(rust_defines, header_defines, "constants: Rust (left) vs ferrocnn.h (right)");
    assert_eq!(rust_typedefs, header_typedefs, "typedefs: Rust (left) vs ferrocnn.h (right)");
}

#[test]
fn the_checker_sees_a_mismatch() {
    // The comparison above is only as good as its parsing: a header with one changed
    // parameter type, one missing constant and one reordered field must differ.
    let (src, h) = (rust_sources(), header());
    let bad = h.replacen("size_t weights_len", "int32_t weights_len", 1);
    assert_ne!(rust_functions(&src), header_functions(&bad));
    let bad = h.replacen("#define FERROCNN_POOL_AVG 1", "", 1);
    assert_ne!(rust_constants(&src).0, header_constants(&bad).0);
    let bad = h.replacen("size_t in_h;\n    size_t in_w;", "size_t in_w;\n    size_t in_h;", 1);
    assert_ne!(rust_structs(&src), header_structs(&bad));
}

/// `libferrocnn_kernels.a` of this build's profile: beside this test's executable (cargo
/// builds every crate type of the library into `deps`), else built now.
fn static_library() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    for dir in [deps, deps.parent().unwrap()] {
        let lib = dir.join("libferrocnn_kernels.a");
        if lib.exists() {
            return lib;
        }
    }
    let mut build = Command::new(env!("CARGO"));
    build.args(["build", "-p", "ferrocnn-kernels", "--lib"]).current_dir(kernels_dir());
    if !cfg!(debug_assertions) {
        build.arg("--release");
    }
    assert!(build.status().unwrap().success(), "cargo build of the static library failed");
    let lib = deps.parent().unwrap().join("libferrocnn_kernels.a");
    assert!(lib.exists(), "no {}", lib.display());
    lib
}

#[test]
fn c_example_builds_links_and_matches_hand_computed_results() {
    let out_dir = std::env::temp_dir().join(format!("ferrocnn-c-abi-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let exe = out_dir.join("conv");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let compiled = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(kernels_dir().join("include"))
        .arg(kernels_dir().join("examples/c/conv.c"))
        .arg(static_library())
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{cc}` (a C compiler is needed for this test): {e}"));
    assert!(compiled.status.success(), "{cc} failed:\n{}", String::from_utf8_lossy(&compiled.stderr));
    for isa in ferrocnn_kernels::dispatch::supported_isas() {
        let run = Command::new(&exe).env("FERROCNN_ISA", isa.name()).output().unwrap();
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(run.status.success(), "{isa}: {stdout}{}", String::from_utf8_lossy(&run.stderr));
        assert_eq!(stdout.trim(), format!("ok ({}, 2 threads)", isa.name()));
    }
    let _ = std::fs::remove_dir_all(&out_dir);
}

/// The checks at the boundary, called from Rust as C would call them.
mod boundary {
    use ferrocnn_kernels::capi::*;
    use ferrocnn_kernels::{Algo, Conv2dDesc, Epilogue, reference};
    use std::ffi::CStr;
    use std::ptr::{null, null_mut};

    fn last_error() -> String {
        // SAFETY: the library returns a NUL-terminated string that lives until the next
        // failing call on this thread; it is copied at once.
        unsafe { CStr::from_ptr(ferrocnn_last_error_message()) }.to_str().unwrap().to_string()
    }

    fn depthwise_desc() -> ferrocnn_conv2d_desc {
        ferrocnn_conv2d_desc {
            batch: 1,
            in_channels: 3,
            in_h: 9,
            in_w: 9,
            out_channels: 3,
            kernel_h: 3,
            kernel_w: 3,
            stride_h: 2,
            stride_w: 2,
            pad_top: 1,
            pad_bottom: 1,
            pad_left: 1,
            pad_right: 1,
            dilation_h: 1,
            dilation_w: 1,
            groups: 3,
        }
    }

    #[test]
    fn depthwise_with_residual_and_relu6_matches_the_reference() {
        let d = depthwise_desc();
        let desc = Conv2dDesc::new(1, 3, (9, 9), 3, (3, 3)).stride(2).pad(1).groups(3);
        let s = desc.validate().unwrap();
        let x = ferrocnn_kernels::random::signed_uniform(s.input_len, 1);
        let w = ferrocnn_kernels::random::signed_uniform(s.weight_len, 2);
        let residual = ferrocnn_kernels::random::signed_uniform(s.output_len, 3);
        let scale = [1.5f32, 0.5, 2.0];
        let e = ferrocnn_epilogue {
            scale: scale.as_ptr(),
            scale_len: 3,
            shift: null(),
            shift_len: 0,
            residual: 1,
            activation: FERROCNN_ACTIVATION_RELU6,
            leaky_relu_slope: 0.0,
        };
        let mut want = reference::conv2d(&desc, &x, &w, None).unwrap();
        let epilogue = Epilogue::new().scale(scale.to_vec()).residual().activation(ferrocnn_kernels::Activation::Relu6);
        reference::apply_epilogue(1, 3, s.out_h * s.out_w, &mut want, &epilogue, Some(&residual)).unwrap();
        let mut plan = null_mut();
        // SAFETY: every pointer is to a live local of the length passed.
        unsafe {
            let status = ferrocnn_conv2d_create(&d, w.as_ptr(), w.len(), null(), 0, &e, FERROCNN_ALGO_AUTO, &mut plan);
            assert_eq!(status, FERROCNN_OK, "{}", last_error());
            let mut algo = -1;
            assert_eq!(ferrocnn_conv2d_algo(plan, &mut algo), FERROCNN_OK);
            assert_eq!(algo, FERROCNN_ALGO_DEPTHWISE, "Auto routes groups == channels to depthwise");
            assert_eq!(Algo::ALL[algo as usize], Algo::Depthwise);
            let mut scratch_len = 0;
            assert_eq!(ferrocnn_conv2d_scratch_len(plan, &mut scratch_len), FERROCNN_OK);
            let (mut out, mut scratch) = (vec![0.0f32; s.output_len], vec![0.0f32; scratch_len]);
            let status = ferrocnn_conv2d_run(
                plan,
                x.as_ptr(),
                x.len(),
                residual.as_ptr(),
                residual.len(),
                out.as_mut_ptr(),
                out.len(),
                scratch.as_mut_ptr(),
                scratch.len(),
            );
            assert_eq!(status, FERROCNN_OK, "{}", last_error());
            for (g, w) in out.iter().zip(&want) {
                // 9-term dot products of unit-scale data, scaled by at most 2: far within 1e-5.
                assert!((g - w).abs() <= 1e-5, "{g} vs {w}");
            }
            ferrocnn_conv2d_destroy(plan);
        }
    }

    #[test]
    fn algo_codes_index_algo_all() {
        let codes = [
            (FERROCNN_ALGO_AUTO, Algo::Auto),
            (FERROCNN_ALGO_REFERENCE, Algo::Reference),
            (FERROCNN_ALGO_IM2COL, Algo::Im2col),
            (FERROCNN_ALGO_GEMM1X1, Algo::Gemm1x1),
            (FERROCNN_ALGO_DEPTHWISE, Algo::Depthwise),
            (FERROCNN_ALGO_WINOGRAD_F2, Algo::WinogradF2),
            (FERROCNN_ALGO_WINOGRAD_F4, Algo::WinogradF4),
            (FERROCNN_ALGO_WINOGRAD_F6, Algo::WinogradF6),
            (FERROCNN_ALGO_TUNE, Algo::Tune),
            (FERROCNN_ALGO_WINOGRAD_SPLIT, Algo::WinogradSplit),
        ];
        assert_eq!(codes.len(), Algo::ALL.len());
        for (code, algo) in codes {
            assert_eq!(Algo::ALL[code as usize], algo, "the C code of {algo} is its index in Algo::ALL");
        }
    }

    #[test]
    fn bad_pointers_lengths_and_codes_are_refused_with_a_message() {
        let d = depthwise_desc();
        let w = [0.5f32; 27];
        let mut plan = null_mut();
        // SAFETY: every non-NULL pointer is to a live local of the length passed, except
        // where a wrong length or overlap is the point, which the library refuses before
        // touching memory.
        unsafe {
            assert_eq!(ferrocnn_conv2d_create(null(), w.as_ptr(), 27, null(), 0, null(), 0, &mut plan), 1);
            assert_eq!(last_error(), "`desc` is NULL");
            assert_eq!(ferrocnn_conv2d_create(&d, null(), 27, null(), 0, null(), 0, &mut plan), 1);
            assert_eq!(last_error(), "`weights` is NULL but its length is 27");
            assert_eq!(ferrocnn_conv2d_create(&d, w.as_ptr(), 27, null(), 0, null(), 42, &mut plan), 1);
            assert_eq!(last_error(), "`algo` 42 is not a ferrocnn_algo (0 auto .. 9 winograd-split)");
            assert!(plan.is_null());
            let status =
                ferrocnn_conv2d_create(&d, w.as_ptr(), 27, null(), 0, null(), FERROCNN_ALGO_GEMM1X1, &mut plan);
            assert_eq!(status, FERROCNN_UNSUPPORTED, "{}", last_error());
            assert!(last_error().contains("1x1"), "{}", last_error());
            let misaligned = (w.as_ptr() as *const u8).add(1) as *const f32;
            assert_eq!(ferrocnn_conv2d_create(&d, misaligned, 26, null(), 0, null(), 0, &mut plan), 1);
            assert!(last_error().contains("`weights`") && last_error().contains("not aligned"), "{}", last_error());

            assert_eq!(ferrocnn_conv2d_create(&d, w.as_ptr(), 27, null(), 0, null(), 0, &mut plan), FERROCNN_OK);
            let mut buffer = vec![0.0f32; 243 + 75];
            let (input, output) = (buffer.as_ptr(), buffer.as_mut_ptr().add(200));
            let status = ferrocnn_conv2d_run(plan, input, 243, null(), 0, output, 75, null_mut(), 0);
            assert_eq!(status, FERROCNN_INVALID_ARGUMENT);
            assert_eq!(last_error(), "`output` overlaps `input`; a written buffer must not share memory");
            let status =
                ferrocnn_conv2d_run(plan, input, 243, null(), 0, buffer.as_mut_ptr().add(243), 74, null_mut(), 0);
            assert_eq!(status, FERROCNN_INVALID_ARGUMENT);
            assert_eq!(last_error(), "`output` has 74 elements, the descriptor needs 75");
            ferrocnn_conv2d_destroy(plan);
            ferrocnn_conv2d_destroy(null_mut());

            let pool = ferrocnn_pool2d_desc {
                kind: 7,
                ceil_mode: 0,
                count_include_pad: 1,
                batch: 1,
                channels: 1,
                in_h: 4,
                in_w: 4,
                kernel_h: 2,
                kernel_w: 2,
                stride_h: 2,
                stride_w: 2,
                pad_top: 0,
                pad_bottom: 0,
                pad_left: 0,
                pad_right: 0,
                dilation_h: 1,
                dilation_w: 1,
            };
            let mut pool_plan = null_mut();
            assert_eq!(ferrocnn_pool2d_create(&pool, &mut pool_plan), FERROCNN_INVALID_ARGUMENT);
            assert_eq!(last_error(), "`desc.kind` 7 is not a ferrocnn_pool_kind (0 max, 1 avg)");
            assert_eq!(ferrocnn_pool2d_create(&pool, null_mut()), FERROCNN_INVALID_ARGUMENT);
            assert_eq!(last_error(), "`plan` is NULL");

            let mut linear = null_mut();
            let status = ferrocnn_linear_create(3, 2, w.as_ptr(), 6, null(), 0, 9, 0.0, &mut linear);
            assert_eq!(status, FERROCNN_INVALID_ARGUMENT);
            assert_eq!(last_error(), "`activation_kind` 9 is not a ferrocnn_activation (0 identity .. 4 sigmoid)");
            assert_eq!(ferrocnn_set_num_threads(1 << 40), FERROCNN_INVALID_ARGUMENT);
            assert!(last_error().contains("more than 4096"), "{}", last_error());
        }
    }
}
