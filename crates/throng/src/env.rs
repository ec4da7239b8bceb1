//! `-e K=V` and `--env-file`: the only place throng reads the process environment.
use crate::cli::EnvArgs;
use std::collections::BTreeMap;

/// Env values for templates: `--env-file` first, then `-e` (which wins).
/// Process environment variables are *not* passed through unless named with `-e NAME`
/// (no `=`), so a plan only sees what the command line gives it.
pub fn collect(args: &EnvArgs) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    if let Some(f) = &args.env_file {
        let text = std::fs::read_to_string(f)
            .map_err(|e| format!("cannot read env file {}: {e}", f.display()))?;
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let l = l.strip_prefix("export ").unwrap_or(l);
            let (k, v) = l
                .split_once('=')
                .ok_or_else(|| format!("{}:{}: expected KEY=VALUE", f.display(), i + 1))?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .unwrap_or(v);
            out.insert(k.trim().to_string(), v.to_string());
        }
    }
    for kv in &args.env {
        match kv.split_once('=') {
            Some((k, v)) => {
                out.insert(k.to_string(), v.to_string());
            }
            None => {
                let v = std::env::var(kv).map_err(|_| {
                    format!("-e {kv}: not set in the environment (use -e {kv}=VALUE)")
                })?;
                out.insert(kv.clone(), v);
            }
        }
    }
    Ok(out)
}

/// The process's soft open-file limit (`ulimit -n`), read from /proc/self/limits on Linux;
/// `None` when unknown or unlimited. Every VU holds its own connection, so VU counts are
/// checked against it at plan load.
pub fn open_file_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_file_limit(&text)
}

fn parse_open_file_limit(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_soft_open_file_limit() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \nMax cpu time              unlimited            unlimited            seconds   \nMax open files            1024                 524288               files     \n";
        assert_eq!(parse_open_file_limit(text), Some(1024));
        let text = "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_open_file_limit(text), None);
        assert_eq!(parse_open_file_limit(""), None);
    }
}
