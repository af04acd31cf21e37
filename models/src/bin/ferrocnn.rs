//! The `ferrocnn` command; see `ferrocnn help`.

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if let Err(failure) = ferrocnn_models::cli::main(&argv) {
        eprintln!("ferrocnn: {}", failure.message());
        std::process::exit(failure.exit_code());
    }
}
