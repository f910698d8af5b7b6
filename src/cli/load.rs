//! `bpharness load`: flags and profile into a `LoadPlan`, the run, the reports, the exit
//! code (5 when a threshold is breached).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::error::{CliError, Outcome, Verdict};
use crate::load::{
    DEFAULT_DURATION, LoadPlan, MAX_DURATION, Model, Segment, TailPlan, Threshold, Workload, load_builtin_profile,
    load_profile, parse_duration, parse_rate, parse_segment, parse_threshold, progress_line, run_load,
    write_load_files, write_summary,
};
use crate::server::fault::Fault;
use crate::server::{RateLimit, ServerConfig};
use crate::target::TargetArgs;

#[derive(Debug, Args)]
pub struct LoadArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Load profile (YAML): the weighted steps and the run's defaults. A file, or the name of a
    /// profile built into bpharness (default, get-user, rate-limit-probe); default: `default`.
    #[arg(long, value_name = "FILE|NAME")]
    pub profile: Option<PathBuf>,
    /// Closed model: this many virtual users, each waiting for its answer.
    #[arg(long, conflicts_with = "rate", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub users: Option<u64>,
    /// Open model: this many arrivals per second (such as 200/s), whatever the server does.
    #[arg(long, value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Time to reach full load: users started evenly, or the rate ramped from 0.
    #[arg(long, value_parser = parse_duration)]
    pub ramp: Option<Duration>,
    /// How long the load runs (default 10s, at most 1h).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Stop after this many requests.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub requests: Option<u64>,
    /// Pass/fail rule, such as p99<250ms, error_rate<1%, getUser:p99<10ms (repeatable; added to the profile's).
    #[arg(long = "threshold", value_name = "EXPR", value_parser = parse_threshold)]
    pub thresholds: Vec<Threshold>,
    /// Where load.json and load.html go.
    #[arg(long, default_value = "reports")]
    pub report_dir: PathBuf,
    /// Back off as a real client would: after a 429, wait as its Retry-After says.
    #[arg(long)]
    pub respect_retry_after: bool,
    /// Run share i of N (i from 0) of the load: users, rate and --requests divided, the remainder to the first.
    #[arg(long, value_parser = parse_segment, value_name = "i/N")]
    pub segment: Option<Segment>,
    /// Seconds one request may take, all of it.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
    /// Unknown extra fields in responses count as contract failures.
    #[arg(long)]
    pub strict: bool,
    /// The embedded server's rate limit per token, R[/s][,burst=B], or "off" (default: the profile's, else off, so the load measures the server).
    #[arg(long, value_name = "R[/s][,burst=B]")]
    pub server_rate_limit: Option<String>,
    /// Switch on a fault of the embedded server (repeatable); see `serve --list-faults`.
    #[arg(long = "fault")]
    pub faults: Vec<Fault>,
    /// Serve the run's figures at http://ADDR/metrics in the Prometheus text format while it runs (port 0: any free port).
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
}

impl LoadArgs {
    /// The profile: a file given, else a built-in one by name (`default` when none is given).
    fn workload(&self) -> Result<Workload, CliError> {
        let name = match &self.profile {
            Some(path) if path.exists() => return load_profile(path).map_err(CliError::InvalidInput),
            Some(path) => path.to_str().filter(|n| !n.contains(['/', '\\'])),
            None => Some(crate::suite::DEFAULT_PROFILE),
        };
        match name.and_then(crate::suite::profile) {
            Some(builtin) => load_builtin_profile(&builtin).map_err(CliError::InvalidInput),
            None => Err(CliError::MissingPath {
                what: "load profile",
                path: self.profile.clone().unwrap_or_default(),
                hint: format!(
                    "give a profile file, or one built into bpharness by name: {} (`bpharness scenarios export DIR` writes them out)",
                    crate::suite::profile_names().join(", ")
                ),
            }),
        }
    }

    /// The plan of this segment.
    pub fn plan(&self) -> Result<LoadPlan, CliError> {
        let usage = CliError::Usage;
        let invalid = CliError::InvalidInput;
        let workload = self.workload()?;
        let shown = workload.path.display().to_string();
        let p = workload.profile.clone();
        let segment = self.segment.unwrap_or_default();
        let profile_rate = p.rate.as_deref().map(parse_rate).transpose().map_err(invalid)?;
        if p.users.is_some() && profile_rate.is_some() {
            return Err(invalid(format!("profile {shown}: give users or rate, not both")));
        }
        let model = match (self.users, self.rate, p.users, profile_rate) {
            (Some(u), _, _, _) => Model::Closed { users: u },
            (None, Some(r), _, _) => Model::Open { rate: r },
            (None, None, Some(u), _) => Model::Closed { users: u64::from(u) },
            (None, None, None, Some(r)) => Model::Open { rate: r },
            (None, None, None, None) => Model::Closed { users: 4 },
        };
        let model = match model {
            Model::Closed { users } => Model::Closed {
                users: segment.share(users),
            },
            Model::Open { rate } => Model::Open {
                rate: segment.share_rate(rate),
            },
        };
        let profile_duration = |v: &Option<String>| v.as_deref().map(parse_duration).transpose();
        let ramp = match self.ramp {
            Some(r) => r,
            None => profile_duration(&p.ramp).map_err(invalid)?.unwrap_or_default(),
        };
        let duration = match self.duration {
            Some(d) => d,
            None => profile_duration(&p.duration)
                .map_err(invalid)?
                .unwrap_or(DEFAULT_DURATION),
        };
        if duration > MAX_DURATION {
            return Err(usage(format!(
                "a load runs at most 1h; --duration {duration:?} is longer"
            )));
        }
        if duration.is_zero() {
            return Err(usage("--duration must be more than 0".into()));
        }
        let requests = self.requests.or(p.requests).map(|n| segment.share(n));
        let mut thresholds = Vec::new();
        for text in &p.thresholds {
            thresholds.push(parse_threshold(text).map_err(|m| invalid(format!("profile {shown}: {m}")))?);
        }
        // A rule given both in the profile and on the command line is evaluated once.
        for t in &self.thresholds {
            if !thresholds.iter().any(|have| have.same_rule(t)) {
                thresholds.push(t.clone());
            }
        }
        for t in &thresholds {
            if let Some(op) = &t.operation
                && !workload.operations.contains(op)
            {
                return Err(usage(format!(
                    "threshold {t}: the profile sends no {op:?}; its operations are {:?}",
                    workload.operations
                )));
            }
        }
        let tail = match &p.tail {
            None => None,
            Some(t) => Some(TailPlan {
                rate: parse_rate(&t.rate).map_err(invalid)?,
                duration: parse_duration(&t.duration).map_err(invalid)?,
            }),
        };
        let rate_limit_text = self
            .server_rate_limit
            .clone()
            .or_else(|| p.server.as_ref().and_then(|s| s.rate_limit.clone()));
        // Off unless asked for: a default load measures the server, not its limiter.
        let rate_limit = match rate_limit_text.as_deref() {
            None | Some("off") => None,
            Some(text) => Some(text.parse::<RateLimit>().map_err(usage)?),
        };
        let mut target = self.target.spec().map_err(usage)?;
        target.server = ServerConfig {
            faults: self.faults.iter().copied().collect(),
            rate_limit,
            ..ServerConfig::default()
        };
        Ok(LoadPlan {
            workload,
            target,
            model,
            ramp,
            duration,
            requests,
            thresholds,
            respect_retry_after: self.respect_retry_after,
            segment,
            tail,
            timeout: Duration::from_secs_f64(self.timeout.clamp(0.001, 3600.0)),
            strict: self.strict,
            metrics: None,
        })
    }
}

pub async fn run(args: LoadArgs) -> Outcome {
    let mut plan = args.plan()?;
    if let Some(addr) = args.metrics_listen {
        // Bound here, so the line below names the port even when port 0 was asked for.
        let (bound, listener) = std::net::TcpListener::bind(addr)
            .and_then(|l| Ok((l.local_addr()?, l)))
            .map_err(|e| CliError::Usage(format!("cannot listen on {addr} for --metrics-listen: {e}")))?;
        eprintln!("metrics: http://{bound}/metrics");
        plan.metrics = Some(std::sync::Arc::new(listener));
    }
    let progress: crate::load::Progress = Box::new(|s| eprintln!("{}", progress_line(s)));
    let report = run_load(&plan, Some(progress)).await?;
    let _ = write_summary(&mut std::io::stderr(), &report);
    let paths = write_load_files(&args.report_dir, &report).map_err(|source| CliError::Output {
        path: args.report_dir.clone(),
        source,
    })?;
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    eprintln!("reports: {}", names.join(", "));
    Ok(if report.passed() {
        Verdict::Passed
    } else {
        Verdict::ThresholdBreached
    })
}
