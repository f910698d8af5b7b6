//! A plain goose load test, the baseline of `scripts/bench-load.sh`: goose's own users,
//! its reqwest client and its metrics, one GET in a loop, nothing of bpharness. It shows
//! what `bpharness load` gains by keeping goose as the orchestrator only.
//!
//! `cargo run --release --example plain_goose -- URL USERS SECONDS` prints
//! `plain goose: N requests in S s, R req/s, p99 P ms`.

use goose::config::GooseConfiguration;
use goose::prelude::*;

const PATH: &str = "/v1/chat/users/user_01JZ0000000000000000000000";

async fn get_user(user: &mut GooseUser) -> TransactionResult {
    let _goose = user.get(PATH).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), GooseError> {
    let mut args = std::env::args().skip(1);
    let host = args.next().unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let users = args.next().unwrap_or_else(|| "64".into());
    let seconds = args.next().unwrap_or_else(|| "10".into());
    let config = GooseConfiguration::parse_args_default(&[
        "--host",
        host.as_str(),
        "--users",
        users.as_str(),
        "--increase-rate",
        "100000",
        "--run-time",
        seconds.as_str(),
        "--no-telnet",
        "--no-print-metrics",
        "--no-error-summary",
        "--quiet",
        // Count every request, ramp-up included, as the other tools do.
        "--no-reset-metrics",
    ])?;
    let metrics = GooseAttack::initialize_with_config(config)?
        .register_scenario(scenario!("plain").register_transaction(transaction!(get_user)))
        .execute()
        .await?;
    let (mut count, mut p99) = (0usize, 0u64);
    for aggregate in metrics.requests.values() {
        count += aggregate.success_count + aggregate.fail_count;
        p99 = p99.max(aggregate.raw_data.percentile_us(0.99));
    }
    let duration = metrics.duration.max(1) as f64;
    println!(
        "plain goose: {count} requests in {duration} s, {:.0} req/s, p99 {:.2} ms",
        count as f64 / duration,
        p99 as f64 / 1000.0
    );
    Ok(())
}
