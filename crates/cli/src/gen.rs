//! `dancu gen`: write a deterministic synthetic population as NDJSON.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// Arguments of `dancu gen`.
#[derive(clap::Args)]
pub struct GenArgs {
    /// Number of citizens to generate (foreigners and subjects come on top: about 1 % and
    /// 0.5 %).
    #[arg(long, default_value_t = 1_000)]
    pub count: u64,
    /// Seed: the same seed and count always give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// File to write (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Writes the population; shows a progress bar on a terminal when writing to a file.
pub fn run(args: &GenArgs) -> anyhow::Result<()> {
    let settings = dancu_popgen::Settings::new(args.count, args.seed);
    let summary = match &args.out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut sink = BufWriter::with_capacity(1 << 20, file);
            let bar = ProgressBar::new(args.count).with_style(
                ProgressStyle::with_template(
                    "{spinner} {wide_bar} {human_pos}/{human_len} citizens ({per_sec}, ETA {eta})",
                )
                .expect("static template"),
            );
            let summary = dancu_popgen::generate(settings, &mut sink, |n| {
                if n % 4_096 < 8 {
                    bar.set_position(n);
                }
            })
            .with_context(|| format!("cannot write {}", path.display()))?;
            sink.flush()?;
            bar.finish_and_clear();
            summary
        }
        None => {
            let stdout = std::io::stdout();
            let mut sink = BufWriter::with_capacity(1 << 20, stdout.lock());
            dancu_popgen::generate(settings, &mut sink, |_| {}).context("cannot write")?
        }
    };
    eprintln!(
        "dancu gen: {} citizens in {} households, {} foreigners, {} subjects ({} lines, seed {})",
        summary.citizens,
        summary.households,
        summary.foreigners,
        summary.subjects,
        summary.lines(),
        args.seed
    );
    Ok(())
}
