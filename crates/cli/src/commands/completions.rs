//! `dancu completions <shell>`: shell completion scripts.

/// Writes the completion script for `shell` to standard output.
pub fn run(shell: clap_complete::Shell, command: &mut clap::Command) {
    let name = command.get_name().to_owned();
    clap_complete::generate(shell, command, name, &mut std::io::stdout());
}
