//! The `parvis` binary.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = parvis::cli::Cli::parse();
    match parvis::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("parvis: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
