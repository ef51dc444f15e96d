//! Shell completions and the man page, both generated from the command
//! line's own definition, so that neither can fall behind it.

use std::io::{self, Write as _};

use clap::ValueEnum;
use clap_complete::Shell;

/// `completions SHELL`: the shells a completion script is printed for.
#[derive(Clone, Copy, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

/// Prints the completion script of `command` for `shell` to stdout.
pub fn completions(shell: CompletionShell, mut command: clap::Command) -> io::Result<()> {
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let name = command.get_name().to_string();
    // Into memory first: the generator panics on a write error (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, name, &mut script);
    io::stdout().lock().write_all(&script)
}

/// Prints the roff man page of `command` to stdout.
pub fn man(command: clap::Command) -> io::Result<()> {
    clap_mangen::Man::new(command).render(&mut io::stdout().lock())
}
