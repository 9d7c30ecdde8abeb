//! The `dancu` command line: run the whole suite (`dancu up`) or one service
//! (`dancu serve identity|records|audit`).

mod audit;
mod bench;
mod demo;
#[path = "gen.rs"]
mod generate;
mod import;
mod run;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// dancu — national population register for police work, as gRPC services.
#[derive(Parser)]
#[command(name = "dancu", version, about, long_about = None)]
struct Cli {
    /// Configuration file (TOML). Default: ./dancu.toml if present. `DANCU_*` environment
    /// variables override it.
    #[arg(long, global = true, env = "DANCU_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start identity, records and audit in one process, each on its own port with its own
    /// database under the data directory.
    ///
    /// Example: `dancu up` then, from another terminal,
    /// `grpcurl -plaintext localhost:50051 list`
    Up,
    /// Run one service alone.
    ///
    /// Example: `DANCU_DATA_DIR=/var/lib/dancu dancu serve audit`
    Serve {
        /// Which service.
        #[arg(value_enum)]
        service: run::Service,
    },
    /// Measure the audited personal-data path of a running suite against a bare tonic
    /// server in the same run.
    ///
    /// Example: `DANCU_BENCH_PASSWORD=change-me-now dancu bench --concurrency 32 --seconds 10`
    Bench(bench::BenchArgs),
    /// Operate the audit log (e.g. `dancu audit verify`).
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Write a deterministic synthetic population (NDJSON): same seed, same bytes.
    ///
    /// Example: `dancu gen --count 1000000 --seed 7 --output people.ndjson`
    Gen(generate::GenArgs),
    /// Import a population file into identity, resumably, with a progress bar.
    ///
    /// Example: `DANCU_PASSWORD=… dancu import people.ndjson --batch 500`
    Import(import::ImportArgs),
    /// Load a small generated population into a running `dancu up` and print a tour.
    ///
    /// Example: `DANCU_PASSWORD=… dancu demo --count 2000`
    Demo(demo::DemoArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("dancu: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Up => run::up(cli.config.as_deref()).await,
            Command::Serve { service } => run::serve(cli.config.as_deref(), service).await,
            Command::Bench(args) => bench::run(args).await,
            Command::Audit(command) => audit::run(command).await,
            Command::Gen(args) => generate::run(&args),
            Command::Import(args) => import::run(&args).await,
            Command::Demo(args) => demo::run(&args).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dancu: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
