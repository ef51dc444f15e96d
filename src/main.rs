//! The `greenlight` command line: parses arguments, runs the library's
//! pipeline, prints diagnostics, and maps outcomes to exit codes
//! (0 ok, 1 drift found by `check`, 2 spec or usage error).

mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;

use camino::{Utf8Path, Utf8PathBuf};
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use cli::{github, init, reference};
use greenlight::render::{shell_quote, TemplateSource};
use greenlight::{emit, load_scoped, render, LoadError, Loaded, OutputScope};
use miette::Diagnostic;

/// Compile a KDL blue/green deployment spec into a reviewable deploy kit
/// (deploy.sh, compose files, nginx confs, PLAN.md).
#[derive(Parser)]
#[command(name = "greenlight", version, about, long_about = None)]
#[command(
    after_help = "Exit status: 0 ok, 1 the kit on disk differs from the spec (check), 2 spec or usage error.\nA kit file or directory that is a symbolic link (or a pipe, socket or device) is an error: build and check never read, write or remove through one.\nNO_COLOR disables colour in diagnostics."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Let a spec's `output` lead outside the git repository that holds the
    /// spec (by default it must stay inside, so that a spec from a pull
    /// request cannot make build write elsewhere; -o DIR is taken as given).
    #[arg(long, global = true)]
    allow_output_outside: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Write the deploy kit of each spec (all or nothing; stale generated files are removed).
    Build {
        /// Spec files.
        #[arg(required = true)]
        specs: Vec<Utf8PathBuf>,
        /// Kit directory, taken as given (default: the spec's `output`, else deploy/<project> beside the spec; either must stay inside the spec's repository).
        #[arg(short, long)]
        output: Option<Utf8PathBuf>,
        /// Directory of template overrides, by path relative to templates/ (e.g. nginx/site.conf.j2); a file matching no template is an error.
        #[arg(long)]
        templates: Option<Utf8PathBuf>,
    },
    /// Compare each spec's kit with what is on disk; exit 1 when they differ, with a diff per file (or, with --format github, an annotation per file).
    Check {
        /// Spec files.
        #[arg(required = true)]
        specs: Vec<Utf8PathBuf>,
        /// Kit directory (default: as for build).
        #[arg(short, long)]
        output: Option<Utf8PathBuf>,
        /// Directory of template overrides, as for build.
        #[arg(long)]
        templates: Option<Utf8PathBuf>,
        /// How to report: text (a diff per file) or github (GitHub Actions `::error` annotations on the spec's lines and the kit's files).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Parse and validate specs only; print every problem found.
    Validate {
        /// Spec files.
        #[arg(required = true)]
        specs: Vec<Utf8PathBuf>,
    },
    /// Print the plan in plain words: hosts, apps, colors and ports, health gate, routes, hooks, deploy steps.
    Explain {
        /// Spec file.
        spec: Utf8PathBuf,
        /// Directory of template overrides, as for build.
        #[arg(long)]
        templates: Option<Utf8PathBuf>,
    },
    /// Write a commented starter spec (one app, `web`, and its proxy) from flags, without asking questions; it passes `validate` as written.
    Init {
        /// Where to write the spec; an existing file is left alone unless --force.
        #[arg(default_value = "greenlight.kdl")]
        path: Utf8PathBuf,
        #[command(flatten)]
        starter: init::Starter,
        /// Replace PATH if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Print the completion script for SHELL (e.g. `greenlight completions bash > /etc/bash_completion.d/greenlight`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: reference::CompletionShell,
    },
    /// Print the man page, in roff (e.g. `greenlight man > /usr/local/share/man/man1/greenlight.1`).
    Man,
}

/// How `check` reports what it finds.
#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Format {
    /// Diagnostics drawn in the spec, a unified diff per file, and the command that fixes them.
    Text,
    /// GitHub Actions workflow commands: `::error file=…` on each spec line and kit file at fault.
    Github,
}

impl Format {
    /// Reports a spec that did not load.
    fn spec_failed(self, spec: &Utf8Path, error: &LoadError) {
        match self {
            Format::Text => report(error),
            Format::Github => {
                for line in github::load_errors(spec, error) {
                    println!("{line}");
                }
            }
        }
    }

    /// Reports any other failure; `spec` is the spec it is about, if one.
    fn failed(self, spec: Option<&Utf8Path>, message: &str) {
        match (self, spec) {
            (Format::Text, _) => eprintln!("error: {message}"),
            (Format::Github, Some(spec)) => println!(
                "{}",
                github::error(&[("file", spec.as_str()), ("title", "greenlight")], message)
            ),
            (Format::Github, None) => {
                println!("{}", github::error(&[("title", "greenlight")], message))
            }
        }
    }
}

/// How a run ended, before it becomes an exit code.
enum Outcome {
    Ok,
    Drift,
    Failed,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let scope = if cli.allow_output_outside {
        OutputScope::Anywhere
    } else {
        OutputScope::Repository
    };
    let text = Format::Text;
    let outcome = match cli.command {
        Command::Build {
            specs,
            output,
            templates,
        } => with_templates(templates.as_deref(), text, |source| {
            each_spec(&specs, output.as_deref(), scope, text, |spec, loaded| {
                build(spec, loaded, source)
            })
        }),
        Command::Check {
            specs,
            output,
            templates,
            format,
        } => with_templates(templates.as_deref(), format, |source| {
            each_spec(&specs, output.as_deref(), scope, format, |spec, loaded| {
                let fix = fix_command(
                    spec,
                    output.as_deref(),
                    templates.as_deref(),
                    cli.allow_output_outside,
                );
                check(spec, loaded, source, &fix, format)
            })
        }),
        Command::Validate { specs } => each_spec(&specs, None, scope, text, |spec, loaded| {
            println!(
                "{spec}: ok ({} app(s), {} host(s))",
                loaded.plan.apps.len(),
                loaded.plan.hosts.len()
            );
            Outcome::Ok
        }),
        Command::Explain { spec, templates } => {
            with_templates(templates.as_deref(), text, |source| {
                each_spec(
                    std::slice::from_ref(&spec),
                    None,
                    scope,
                    text,
                    |spec, loaded| match render::explain(&loaded.plan, source.clone()) {
                        Ok(text) => {
                            print!("{text}");
                            Outcome::Ok
                        }
                        Err(e) => template_failure(spec, &e, Format::Text),
                    },
                )
            })
        }
        Command::Init {
            path,
            starter,
            force,
        } => match init::run(&starter, &path, force) {
            Ok(()) => {
                println!("{path}: wrote a starter spec; `greenlight validate {path}` checks it, `greenlight build {path}` writes its kit");
                Outcome::Ok
            }
            Err(message) => {
                text.failed(None, &message);
                Outcome::Failed
            }
        },
        Command::Completions { shell } => printed(
            reference::completions(shell, Cli::command()),
            "the completion script",
        ),
        Command::Man => printed(reference::man(Cli::command()), "the man page"),
    };
    match outcome {
        Outcome::Ok => ExitCode::SUCCESS,
        Outcome::Drift => ExitCode::from(1),
        Outcome::Failed => ExitCode::from(2),
    }
}

/// The outcome of printing `what` to stdout.
fn printed(result: std::io::Result<()>, what: &str) -> Outcome {
    match result {
        Ok(()) => Outcome::Ok,
        Err(e) => {
            Format::Text.failed(None, &format!("cannot print {what}: {e}"));
            Outcome::Failed
        }
    }
}

/// Runs `action` with the templates, overridden from `dir` if given; a
/// templates directory that cannot be used fails before any spec is read.
fn with_templates(
    dir: Option<&Utf8Path>,
    format: Format,
    action: impl FnOnce(&TemplateSource) -> Outcome,
) -> Outcome {
    match TemplateSource::new(dir) {
        Ok(source) => action(&source),
        Err(e) => {
            format.failed(None, &e.to_string());
            Outcome::Failed
        }
    }
}

/// Loads each spec and runs `action` on it; the worst outcome wins. Every spec
/// is processed even after one fails, so all problems are shown at once.
fn each_spec(
    specs: &[Utf8PathBuf],
    output: Option<&Utf8Path>,
    scope: OutputScope,
    format: Format,
    mut action: impl FnMut(&Utf8Path, &Loaded) -> Outcome,
) -> Outcome {
    if output.is_some() && specs.len() > 1 {
        format.failed(
            None,
            "-o/--output takes one spec; each spec has its own kit directory",
        );
        return Outcome::Failed;
    }
    let mut worst = Outcome::Ok;
    for spec in specs {
        let outcome = match load_scoped(spec, output, scope) {
            Ok(loaded) => action(spec, &loaded),
            Err(error) => {
                format.spec_failed(spec, &error);
                Outcome::Failed
            }
        };
        worst = match (worst, outcome) {
            (Outcome::Failed, _) | (_, Outcome::Failed) => Outcome::Failed,
            (Outcome::Drift, _) | (_, Outcome::Drift) => Outcome::Drift,
            _ => Outcome::Ok,
        };
    }
    worst
}

fn build(spec: &Utf8Path, loaded: &Loaded, templates: &TemplateSource) -> Outcome {
    let kit = match greenlight::kit(&loaded.plan, templates.clone()) {
        Ok(kit) => kit,
        Err(e) => return template_failure(spec, &e, Format::Text),
    };
    match emit::write(&kit, &loaded.output) {
        Ok(summary) => {
            for line in &summary.ignored {
                eprintln!(
                    "warning: {}: `{}` is not a file greenlight generates; left alone",
                    loaded.output.join(emit::MANIFEST),
                    line.escape_debug()
                );
            }
            println!(
                "{spec}: wrote {} ({} file(s), {} changed, {} removed)",
                loaded.output,
                kit.len(),
                summary.changed.len(),
                summary.removed.len()
            );
            Outcome::Ok
        }
        Err(e) => {
            eprintln!(
                "error: {spec}: cannot write the kit to {}: {e}",
                loaded.output
            );
            Outcome::Failed
        }
    }
}

/// `fix` is the command that brings the kit up to date, for the last line
/// (text) or each annotation (github).
fn check(
    spec: &Utf8Path,
    loaded: &Loaded,
    templates: &TemplateSource,
    fix: &str,
    format: Format,
) -> Outcome {
    let kit = match greenlight::kit(&loaded.plan, templates.clone()) {
        Ok(kit) => kit,
        Err(e) => return template_failure(spec, &e, format),
    };
    let drift = match emit::check(&kit, &loaded.output) {
        Ok(drift) => drift,
        Err(e) => {
            format.failed(
                Some(spec),
                &format!("{spec}: cannot check the kit in {}: {e}", loaded.output),
            );
            return Outcome::Failed;
        }
    };
    if drift.is_empty() {
        println!(
            "{spec}: {} is up to date ({} files)",
            loaded.output,
            kit.len()
        );
        return Outcome::Ok;
    }
    for d in &drift {
        match format {
            Format::Text => print!("{}", d.describe()),
            // No diff here: a line of a kit file could read as a command.
            Format::Github => println!("{}", github::drift(&loaded.output, d, spec, fix)),
        }
    }
    println!(
        "{spec}: {} file(s) in {} differ from the spec; run `{fix}` to update the kit",
        drift.len(),
        loaded.output
    );
    Outcome::Drift
}

/// The build command that brings a kit `check` found stale up to date: the
/// same spec, kit directory, templates and output scope, quoted for a shell.
fn fix_command(
    spec: &Utf8Path,
    output: Option<&Utf8Path>,
    templates: Option<&Utf8Path>,
    allow_output_outside: bool,
) -> String {
    let mut words = vec!["greenlight build".to_string(), shell_quote(spec.as_str())];
    if let Some(dir) = output {
        words.extend(["-o".to_string(), shell_quote(dir.as_str())]);
    }
    if let Some(dir) = templates {
        words.extend(["--templates".to_string(), shell_quote(dir.as_str())]);
    }
    if allow_output_outside {
        words.push("--allow-output-outside".to_string());
    }
    words.join(" ")
}

fn template_failure(spec: &Utf8Path, error: &minijinja::Error, format: Format) -> Outcome {
    format.failed(Some(spec), &format!("rendering a template failed: {error}"));
    Outcome::Failed
}

/// Prints a diagnostic to stderr, in colour only on a terminal without NO_COLOR.
fn report(diagnostic: &dyn Diagnostic) {
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").map_or(true, |v| v.is_empty());
    if colour {
        let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode());
        let mut out = String::new();
        if handler.render_report(&mut out, diagnostic).is_ok() {
            eprint!("{out}");
            return;
        }
    }
    eprint!("{}", greenlight::diagnostic::render_plain(diagnostic));
}
