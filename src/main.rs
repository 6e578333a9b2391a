use clap::Parser;

// jemalloc, with its options (`charter::allocator`).
charter::jemalloc!();

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = charter::cli::Cli::parse();
    match charter::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", charter::cli::describe(&e));
            std::process::ExitCode::FAILURE
        }
    }
}
