//! The `dancu` command line: run the whole suite (`dancu up`) or one service
//! (`dancu serve identity|records|audit`), and operate it (`dancu login`, `dancu citizen …`,
//! `dancu audit …`, …).

mod audit;
mod bench;
mod client;
mod commands;
mod demo;
mod exit;
#[path = "gen.rs"]
mod generate;
mod import;
mod import_checkpoint;
mod import_reader;
mod import_rows;
mod output;
mod run;
mod session;

/// The allocator of the binaries (see `mimalloc` in the workspace manifest).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use commands::{alerts, audit as audit_commands, card, citizen, foreigner, household, login};
use commands::{residence, subject};
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  dancu up                                   # run the suite locally
  dancu login --username admin               # prompts for the password
  dancu citizen get 001090000001 --purpose residence_management
  dancu citizen search \"nguyen van an\" --purpose investigation --case 12/VKS-HS -o json
  dancu audit events --subject 001090000001
  dancu completions bash > /etc/bash_completion.d/dancu";

/// dancu — national population register for police work, as gRPC services.
#[derive(Parser)]
#[command(name = "dancu", version, about, long_about = None)]
struct Cli {
    /// Configuration file (TOML). Default: ./dancu.toml if present. `DANCU_*` environment
    /// variables override it.
    #[arg(long, global = true, env = "DANCU_CONFIG")]
    config: Option<PathBuf>,
    /// Connection, purpose, output and authentication flags of the operator commands.
    #[command(flatten)]
    global: client::Global,
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
    /// Log in and keep the session (token) in the user's configuration directory.
    #[command(
        after_help = "Examples:\n  dancu login --username admin\n  printf '%s\\n' \"$PASSWORD\" | dancu login --username inv.c06 --password-stdin"
    )]
    Login(login::LoginArgs),
    /// Revoke the saved session's token and delete the session.
    #[command(after_help = "Example:\n  dancu logout")]
    Logout,
    /// The population register: get, search, register, update, history.
    #[command(subcommand)]
    Citizen(citizen::CitizenCommand),
    /// Residence declarations: declare, get, events.
    #[command(subcommand)]
    Residence(residence::ResidenceCommand),
    /// Households: create, get, move a member.
    #[command(subcommand)]
    Household(household::HouseholdCommand),
    /// Identity cards: issue, renew, report-lost, revoke, get, events.
    #[command(subcommand)]
    Card(card::CardCommand),
    /// Foreigners and their accommodation declarations.
    #[command(subcommand)]
    Foreigner(foreigner::ForeignerCommand),
    /// Subjects: create, list, classify, timelines, movement alerts, hotspots, risk,
    /// scorecards.
    #[command(subcommand)]
    Subject(subject::SubjectCommand),
    /// The audit log: events, subject access report, verify, watch alerts.
    #[command(subcommand)]
    Audit(audit_commands::AuditCommand),
    /// Alerts raised by the audit service: watch, list.
    #[command(subcommand)]
    Alerts(alerts::AlertsCommand),
    /// Write a deterministic synthetic population (NDJSON): same seed, same bytes.
    #[command(
        after_help = "Examples:\n  dancu gen --count 1000000 --seed 7 --out people.ndjson\n  dancu gen --count 20 --seed 1 | head -3"
    )]
    Gen(generate::GenArgs),
    /// Import a population file (citizens and foreigners into identity, then subjects into
    /// records), resumably, with a progress bar.
    #[command(
        after_help = "Examples:\n  dancu login --username admin && dancu import people.ndjson --batch 500\n  dancu import people.ndjson --records-endpoint http://10.0.0.5:50052\n  dancu import people.ndjson --skip-subjects      # identity only (no records)"
    )]
    Import(import::ImportArgs),
    /// Load a small generated population into a running `dancu up` and print a tour.
    #[command(after_help = "Example:\n  dancu login --username admin && dancu demo --count 2000")]
    Demo(demo::DemoArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  dancu completions bash > ~/.local/share/bash-completion/completions/dancu\n  dancu completions zsh > \"${fpath[1]}/_dancu\""
    )]
    Completions {
        /// Shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

fn command() -> clap::Command {
    Cli::command().after_help(format!("{EXAMPLES}\n\n{}", exit::HELP))
}

fn main() -> std::process::ExitCode {
    let cli = match Cli::from_arg_matches(&command().get_matches()) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    if let Command::Completions { shell } = cli.command {
        commands::completions::run(shell, &mut command());
        return std::process::ExitCode::SUCCESS;
    }
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
    let global = &cli.global;
    let result = runtime.block_on(async {
        match cli.command {
            Command::Up => run::up(cli.config.as_deref()).await,
            Command::Serve { service } => run::serve(cli.config.as_deref(), service).await,
            Command::Bench(args) => bench::run(args).await,
            Command::Login(args) => login::run_login(args, global).await,
            Command::Logout => login::run_logout(global).await,
            Command::Citizen(command) => citizen::run(command, global).await,
            Command::Residence(command) => residence::run(command, global).await,
            Command::Household(command) => household::run(command, global).await,
            Command::Card(command) => card::run(command, global).await,
            Command::Foreigner(command) => foreigner::run(command, global).await,
            Command::Subject(command) => subject::run(command, global).await,
            Command::Audit(command) => audit_commands::run(command, global).await,
            Command::Alerts(command) => alerts::run(command, global).await,
            Command::Completions { .. } => Ok(()),
            Command::Gen(args) => generate::run(&args),
            Command::Import(args) => import::run(&args, global).await,
            Command::Demo(args) => demo::run(&args, global).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dancu: {}", exit::message_of(&error));
            std::process::ExitCode::from(exit::code_of(&error))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        command().debug_assert();
    }

    /// Every operator command shows an example in its help.
    #[test]
    fn every_operator_command_has_an_example() {
        fn leaves(command: &clap::Command, path: String, out: &mut Vec<(String, String)>) {
            if command.get_subcommands().next().is_none() {
                let help = format!(
                    "{}{}",
                    command
                        .get_after_help()
                        .map(|h| h.to_string())
                        .unwrap_or_default(),
                    command
                        .get_long_about()
                        .or(command.get_about())
                        .map(|h| h.to_string())
                        .unwrap_or_default()
                );
                out.push((path, help));
                return;
            }
            for sub in command.get_subcommands() {
                leaves(sub, format!("{path} {}", sub.get_name()), out);
            }
        }
        let mut all = Vec::new();
        leaves(&command(), "dancu".to_owned(), &mut all);
        assert!(all.len() > 30, "{}", all.len());
        for (path, help) in all {
            assert!(help.contains("Example"), "{path} has no example");
        }
    }
}
