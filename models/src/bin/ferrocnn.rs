//! The `ferrocnn` command; see `ferrocnn help`.

fn main() {
    quiet_broken_pipe();
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if let Err(failure) = ferrocnn_models::cli::main(&argv) {
        eprintln!("ferrocnn: {}", failure.message());
        std::process::exit(failure.exit_code());
    }
}

/// `ferrocnn list | head` should end quietly when `head` stops reading, as other Unix
/// tools do; Rust ignores SIGPIPE, so `println!` would panic on the closed pipe instead.
#[cfg(unix)]
fn quiet_broken_pipe() {
    unsafe extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
    }
    const SIGPIPE: i32 = 13;
    const SIG_DFL: usize = 0;
    // SAFETY: signal(2) restoring the default disposition installs no handler code; it
    // runs first in `main`, before any other thread exists.
    unsafe { signal(SIGPIPE, SIG_DFL) };
}

#[cfg(not(unix))]
fn quiet_broken_pipe() {}
