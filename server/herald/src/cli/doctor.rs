//! `herald doctor`: prints a verdict per check (see `crate::doctor`) and fails when any
//! check fails.

use super::CliError;
use crate::{
    config::{Config, ConfigError},
    doctor::{self, Check, Verdict},
};

pub async fn doctor(config: Config) -> Result<(), CliError> {
    let checks = doctor::run(&config).await;
    print_checks(&checks);
    let failed = checks.iter().filter(|c| c.verdict == Verdict::Fail).count();
    let warned = checks.iter().filter(|c| c.verdict == Verdict::Warn).count();
    if failed > 0 {
        return Err(CliError::msg(format!(
            "doctor: {failed} of {} checks failed",
            checks.len()
        )));
    }
    if warned > 0 {
        println!("doctor: no check failed; {warned} warning(s) above");
    } else {
        println!("doctor: all {} checks passed", checks.len());
    }
    Ok(())
}

/// A configuration that does not load is the first failed check; nothing else can run.
pub fn config_failed(error: &ConfigError) -> CliError {
    print_checks(&[Check {
        name: "config",
        verdict: Verdict::Fail,
        detail: error
            .to_string()
            .trim_end()
            .replace('\n', "\n                      "),
    }]);
    CliError::msg("doctor: the configuration is invalid; fix it to run the other checks")
}

fn print_checks(checks: &[Check]) {
    for check in checks {
        println!("{:<5} {:<15} {}", check.verdict, check.name, check.detail);
    }
}
