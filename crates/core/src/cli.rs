//! Command-line flags `--name value`, for the examples and small tools built on the crates.
//!
//! A flag that is not known, given twice, or left without its value is an error, so a typo such
//! as `--betta 0.9` fails at once instead of running with the default coupling.
//!
//! ```
//! use wcrg_core::cli::Flags;
//!
//! let args = ["--L", "32", "--betas", "0.9,0.92"].map(String::from);
//! let flags = Flags::parse(args, &["L", "betas", "seed"]).unwrap().expect("not --help");
//! assert_eq!(flags.get("L", 64_usize).unwrap(), 32);
//! assert_eq!(flags.get("seed", 7_u64).unwrap(), 7);
//! assert_eq!(flags.list::<f64>("betas", "0.922").unwrap(), [0.9, 0.92]);
//!
//! let typo = Flags::parse(["--betta", "0.9"].map(String::from), &["beta"]);
//! assert_eq!(typo.unwrap_err().to_string(), "unknown flag --betta (--help lists the flags)");
//! ```

use std::collections::HashMap;
use std::str::FromStr;

/// What is wrong with the command line, as a message for its user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FlagError(pub String);

/// For tools whose errors are messages.
impl From<FlagError> for String {
    fn from(e: FlagError) -> String {
        e.0
    }
}

/// Parsed `--name value` pairs, each name one of a known set.
#[derive(Debug, Clone)]
pub struct Flags {
    known: Vec<String>,
    values: HashMap<String, String>,
}

impl Flags {
    /// Parses `args` (without the program name) as `--name value` pairs whose names are in
    /// `known`; `Ok(None)` when `--help` is among them.
    ///
    /// # Errors
    /// An argument that is not `--name`, an unknown or repeated name, a name without a value
    /// (the end of the arguments, or another `--flag` where the value should be).
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        known: &[&str],
    ) -> Result<Option<Self>, FlagError> {
        let mut values = HashMap::new();
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(FlagError(format!(
                    "expected --flag, got `{arg}` (--help lists the flags)"
                )));
            };
            if name == "help" {
                return Ok(None);
            }
            if !known.contains(&name) {
                return Err(FlagError(format!(
                    "unknown flag --{name} (--help lists the flags)"
                )));
            }
            let value = it
                .next()
                .filter(|v| !v.starts_with("--"))
                .ok_or_else(|| FlagError(format!("--{name} needs a value")))?;
            if values.insert(name.to_string(), value).is_some() {
                return Err(FlagError(format!("--{name} is given twice")));
            }
        }
        Ok(Some(Self {
            known: known.iter().map(|k| k.to_string()).collect(),
            values,
        }))
    }

    /// The raw value of `--name`, if given.
    ///
    /// # Panics
    /// When `name` is not one of the known names (a programming error: the tool reads a flag
    /// it does not accept).
    pub fn raw(&self, name: &str) -> Option<&str> {
        assert!(
            self.known.iter().any(|k| k == name),
            "flag --{name} is read but not among the known flags"
        );
        self.values.get(name).map(String::as_str)
    }

    /// The value of `--name` parsed as `T`, if given.
    ///
    /// # Errors
    /// A value that does not parse as `T`.
    ///
    /// # Panics
    /// As [`Flags::raw`].
    pub fn opt<T: FromStr>(&self, name: &str) -> Result<Option<T>, FlagError> {
        self.raw(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| FlagError(format!("--{name}: cannot parse `{v}`")))
            })
            .transpose()
    }

    /// The value of `--name` parsed as `T`, or `default`.
    ///
    /// # Errors
    /// A value that does not parse as `T`.
    ///
    /// # Panics
    /// As [`Flags::raw`].
    pub fn get<T: FromStr>(&self, name: &str, default: T) -> Result<T, FlagError> {
        Ok(self.opt(name)?.unwrap_or(default))
    }

    /// The comma-separated values of `--name` (or of `default`) parsed as `T`.
    ///
    /// # Errors
    /// An item that does not parse as `T`.
    ///
    /// # Panics
    /// As [`Flags::raw`].
    pub fn list<T: FromStr>(&self, name: &str, default: &str) -> Result<Vec<T>, FlagError> {
        self.raw(name)
            .unwrap_or(default)
            .split(',')
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| FlagError(format!("--{name}: cannot parse `{v}`")))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Flags>, FlagError> {
        Flags::parse(args.iter().map(|a| a.to_string()), &["L", "beta", "out"])
    }

    fn error(args: &[&str]) -> String {
        parse(args).unwrap_err().to_string()
    }

    #[test]
    fn values_defaults_and_help() {
        let f = parse(&["--beta", "-0.5", "--out", "a b"]).unwrap().unwrap();
        assert_eq!(f.get("beta", 1.0).unwrap(), -0.5);
        assert_eq!(f.get("L", 64_usize).unwrap(), 64);
        assert_eq!(f.opt::<usize>("L").unwrap(), None);
        assert_eq!(f.raw("out"), Some("a b"));
        assert!(parse(&["--L", "8", "--help"]).unwrap().is_none());
        assert!(parse(&[]).unwrap().is_some());
    }

    #[test]
    fn bad_command_lines_are_errors_naming_the_flag() {
        assert_eq!(
            error(&["L", "8"]),
            "expected --flag, got `L` (--help lists the flags)"
        );
        assert_eq!(
            error(&["--l", "8"]),
            "unknown flag --l (--help lists the flags)"
        );
        assert_eq!(error(&["--L"]), "--L needs a value");
        assert_eq!(error(&["--out", "--L", "8"]), "--out needs a value");
        assert_eq!(error(&["--L", "8", "--L", "16"]), "--L is given twice");
        let f = parse(&["--L", "eight", "--beta", "0.9,x"])
            .unwrap()
            .unwrap();
        assert_eq!(
            f.get("L", 64_usize).unwrap_err().to_string(),
            "--L: cannot parse `eight`"
        );
        assert_eq!(
            f.list::<f64>("beta", "1").unwrap_err().to_string(),
            "--beta: cannot parse `x`"
        );
        assert_eq!(f.list::<f64>("out", "1, 2").unwrap(), [1.0, 2.0]);
    }

    #[test]
    #[should_panic(expected = "flag --seed is read but not among the known flags")]
    fn reading_an_unknown_flag_is_a_programming_error() {
        let _ = parse(&[]).unwrap().unwrap().get("seed", 0_u64);
    }
}
