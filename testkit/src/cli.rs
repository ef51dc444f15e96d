//! Minimal flag parsing: `--name value` or `--name=value`, with optional
//! environment-variable fallbacks (flags win over the environment).

use std::collections::HashMap;
use std::str::FromStr;

/// Flags given on the command line, by name (without the leading `--`).
pub struct Flags {
    values: HashMap<String, String>,
}

impl Flags {
    /// Parses `args` (program name excluded), rejecting names not in `known`.
    pub fn parse(args: impl IntoIterator<Item = String>, known: &[&str]) -> Result<Flags, String> {
        let mut values = HashMap::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let Some(flag) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument {arg:?}"));
            };
            let (name, value) = match flag.split_once('=') {
                Some((name, value)) => (name.to_string(), value.to_string()),
                None => {
                    let value = args.next().ok_or(format!("--{flag} needs a value"))?;
                    (flag.to_string(), value)
                }
            };
            if !known.contains(&name.as_str()) {
                return Err(format!("unknown flag --{name}"));
            }
            values.insert(name, value);
        }
        Ok(Flags { values })
    }

    /// The value of `--name`, else of the non-empty environment variable `env`.
    pub fn get(&self, name: &str, env: Option<&str>) -> Option<String> {
        self.values.get(name).cloned().or_else(|| {
            env.and_then(|var| std::env::var(var).ok())
                .filter(|value| !value.is_empty())
        })
    }

    /// Like [`Flags::get`], parsed with `FromStr`; the error names the flag.
    pub fn parsed<T: FromStr>(&self, name: &str, env: Option<&str>) -> Result<Option<T>, String> {
        self.get(name, env)
            .map(|value| {
                value
                    .parse()
                    .map_err(|_| format!("invalid value {value:?} for --{name}"))
            })
            .transpose()
    }
}

/// True when the arguments ask for usage (`-h` or `--help`).
pub fn wants_help(args: &[String]) -> bool {
    args.iter().any(|arg| arg == "-h" || arg == "--help")
}
