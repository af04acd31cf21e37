//! The `ferrocnn` command; see `ferrocnn help`.

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if let Err(message) = ferrocnn_models::cli::main(&argv) {
        eprintln!("ferrocnn: {}", message.lines().next().unwrap_or_default());
        std::process::exit(2);
    }
}
