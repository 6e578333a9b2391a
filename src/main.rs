use clap::Parser;

/// jemalloc: the operator and the embedded server allocate many small JSON nodes, which
/// glibc malloc serves slowly (see the README's Performance section).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
