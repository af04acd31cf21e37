//! A small `--name value` parser: every error names the argument and what was wrong.

use std::collections::BTreeMap;

/// Flags that take no value.
const SWITCHES: &[&str] = &["--json", "--check", "--layers", "--per-layer", "--ceil"];

#[derive(Debug, Default)]
pub struct Args {
    values: BTreeMap<String, String>,
    switches: Vec<String>,
    /// Arguments without `--`, in order (a model's name).
    positional: Vec<String>,
}

impl Args {
    pub fn parse(argv: &[String]) -> Result<Args, String> {
        let mut args = Args::default();
        let mut it = argv.iter();
        while let Some(arg) = it.next() {
            if !arg.starts_with("--") {
                args.positional.push(arg.clone());
                continue;
            }
            if SWITCHES.contains(&arg.as_str()) {
                args.switches.push(arg.clone());
                continue;
            }
            let (name, value) = match arg.split_once('=') {
                Some((n, v)) => (n.to_string(), v.to_string()),
                None => {
                    let v = it.next().ok_or_else(|| format!("{arg}: missing value"))?;
                    (arg.clone(), v.clone())
                }
            };
            if args.values.insert(name.clone(), value).is_some() {
                return Err(format!("{name}: given twice"));
            }
        }
        Ok(args)
    }

    /// Fails on any option not in `known` or any positional argument, so a typo is never
    /// silently ignored.
    pub fn allow_only(&self, known: &[&str]) -> Result<(), String> {
        self.allow(known, 0)
    }

    /// As `allow_only`, with up to `positional` arguments without `--`.
    pub fn allow(&self, known: &[&str], positional: usize) -> Result<(), String> {
        for name in self.values.keys().chain(&self.switches) {
            if !known.contains(&name.as_str()) {
                return Err(format!("{name}: unknown option for this command"));
            }
        }
        match self.positional.get(positional) {
            Some(extra) => Err(format!("unexpected argument `{extra}`")),
            None => Ok(()),
        }
    }

    /// The `i`-th argument without `--`.
    pub fn positional(&self, i: usize) -> Option<&str> {
        self.positional.get(i).map(String::as_str)
    }

    pub fn flag(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn required(&self, name: &str) -> Result<&str, String> {
        self.str(name).ok_or_else(|| format!("{name}: required"))
    }

    pub fn usize(&self, name: &str) -> Result<usize, String> {
        parse_usize(name, self.required(name)?)
    }

    pub fn usize_or(&self, name: &str, default: usize) -> Result<usize, String> {
        self.str(name).map_or(Ok(default), |v| parse_usize(name, v))
    }
}

pub fn parse_usize(name: &str, value: &str) -> Result<usize, String> {
    value.parse::<usize>().map_err(|_| format!("{name}: expected a non-negative integer, got `{value}`"))
}

/// `AxBxC...` with exactly `parts` positive integers.
pub fn parse_dims(name: &str, value: &str, parts: usize) -> Result<Vec<usize>, String> {
    let dims: Vec<usize> = value
        .split('x')
        .map(|d| parse_usize(name, d))
        .collect::<Result<_, _>>()
        .map_err(|_| format!("{name}: expected {parts} integers like {}, got `{value}`", example(parts)))?;
    if dims.len() != parts {
        return Err(format!("{name}: expected {parts} integers like {}, got `{value}`", example(parts)));
    }
    Ok(dims)
}

fn example(parts: usize) -> String {
    ["1", "64", "56", "56"][4 - parts.min(4)..].join("x")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn values_switches_and_errors() {
        let a = Args::parse(&argv("--m 64 --json --n=3")).unwrap();
        assert_eq!(a.usize("--m"), Ok(64));
        assert_eq!(a.usize("--n"), Ok(3));
        assert!(a.flag("--json"));
        assert_eq!(a.usize("--k"), Err("--k: required".into()));
        assert_eq!(Args::parse(&argv("--m")).unwrap_err(), "--m: missing value");
        assert_eq!(Args::parse(&argv("--m 1 --m 2")).unwrap_err(), "--m: given twice");
        let a = Args::parse(&argv("--mm 1")).unwrap();
        assert_eq!(a.allow_only(&["--m"]), Err("--mm: unknown option for this command".into()));
        let a = Args::parse(&argv("resnet50 --m 1 extra")).unwrap();
        assert_eq!(a.positional(0), Some("resnet50"));
        assert_eq!(a.allow(&["--m"], 1), Err("unexpected argument `extra`".into()));
        assert_eq!(a.allow_only(&["--m"]), Err("unexpected argument `resnet50`".into()));
        assert_eq!(
            Args::parse(&argv("--m x")).unwrap().usize("--m"),
            Err("--m: expected a non-negative integer, got `x`".into())
        );
    }

    #[test]
    fn dims() {
        assert_eq!(parse_dims("--input", "1x3x224x224", 4), Ok(vec![1, 3, 224, 224]));
        assert!(parse_dims("--input", "3x224x224", 4).unwrap_err().contains("like 1x64x56x56"));
        assert!(parse_dims("--kernel", "3xa", 2).is_err());
    }
}
