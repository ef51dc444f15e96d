//! The subcommands that stand beside the compiler: a starter spec, shell
//! completions and the man page, and check's GitHub Actions output.

pub mod github;
pub mod init;
pub mod reference;
