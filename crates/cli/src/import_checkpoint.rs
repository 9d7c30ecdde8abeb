//! The checkpoint of `dancu import`: `FILE.checkpoint` holds how far each pass got, so an
//! interrupted import resumes after the last line a server acknowledged.

use crate::import_reader::Pass;
use std::path::{Path, PathBuf};

/// The checkpoint file of `file`.
pub fn checkpoint_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".checkpoint");
    PathBuf::from(name)
}

/// How far each pass got: every line up to `citizens` is settled for the citizen pass,
/// up to `foreigners` for the foreigner pass, up to `subjects` for the subject pass.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Last settled line of the citizen pass.
    pub citizens: u64,
    /// Last settled line of the subject pass.
    pub subjects: u64,
    /// Last settled line of the foreigner pass.
    pub foreigners: u64,
}

/// The checkpoint recorded for `file` (zeros when none): `<citizens> <subjects>
/// <foreigners>`; earlier releases wrote the first two or the first only, and the passes
/// they leave out start from the first line.
pub fn read_checkpoint(path: &Path) -> Checkpoint {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut numbers = text.split_whitespace().map(|n| n.parse().unwrap_or(0));
    Checkpoint {
        citizens: numbers.next().unwrap_or(0),
        subjects: numbers.next().unwrap_or(0),
        foreigners: numbers.next().unwrap_or(0),
    }
}

/// Records `checkpoint` (write to a temporary file, then rename: never half-written).
pub fn write_checkpoint(path: &Path, checkpoint: Checkpoint) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    std::fs::write(
        &temporary,
        format!(
            "{} {} {}\n",
            checkpoint.citizens, checkpoint.subjects, checkpoint.foreigners
        ),
    )?;
    std::fs::rename(&temporary, path)
}

impl Checkpoint {
    /// The last settled line of `pass`.
    pub fn line_mut(&mut self, pass: Pass) -> &mut u64 {
        match pass {
            Pass::Citizens => &mut self.citizens,
            Pass::Foreigners => &mut self.foreigners,
            Pass::Subjects => &mut self.subjects,
        }
    }
}
