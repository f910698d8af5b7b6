//! The closed model on goose: goose starts the virtual users (all at once, or evenly over
//! the ramp) and runs each one's transactions; each user waits for its answer before its
//! next request. Goose is configured from our plan (`GooseConfiguration::parse_args_default`,
//! `initialize_with_config`), never from the process arguments, with its own request
//! metrics off: nothing goes through goose's client, and every figure comes from our
//! recorders. The run ends through goose's killswitch when the duration or the request
//! budget is spent, or on Ctrl-C (goose's own handler pulls the same switch).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use goose::client::GooseClientBuilder;
use goose::config::GooseConfiguration;
use goose::prelude::{GooseAttack, GooseUser, Scenario, Transaction, TransactionFunction};

use super::engine::{EndedBy, Shared};

/// Exchanges a virtual user makes in one goose transaction.
const REQUESTS_PER_TRANSACTION: usize = 64;

/// What a goose user keeps: the run and the lane it drives. Kept in the user so that each
/// transaction borrows it instead of cloning a shared `Arc` (a contended counter) per request.
#[derive(Clone)]
struct UserData {
    shared: Arc<Shared>,
    lane: usize,
}

/// The goose command line for `users` users started over `ramp`.
fn configuration(host: &str, users: usize, ramp: Duration) -> Result<GooseConfiguration, String> {
    // Goose starts users at a rate; with no ramp, all of them within a few milliseconds.
    let rate = if ramp.is_zero() || users < 2 {
        (users as f64 * 1000.0).max(1000.0)
    } else {
        users as f64 / ramp.as_secs_f64()
    };
    let args: Vec<String> = vec![
        "--host".into(),
        host.into(),
        "--users".into(),
        users.to_string(),
        "--increase-rate".into(),
        format!("{rate}"),
        // Our recorders count every request: goose's own metrics would double-count.
        "--no-metrics".into(),
        "--no-print-metrics".into(),
        "--no-error-summary".into(),
        // No controller port: runs may overlap (segments on one machine, tests).
        "--no-telnet".into(),
        "--quiet".into(),
    ];
    GooseConfiguration::parse_args_default(&args).map_err(|e| format!("goose refused its configuration: {e}"))
}

/// A user with nothing to send waits for the end of the load, then a little more: goose
/// ends a user only between transactions, and a transaction that returned at once would
/// spin on the runtime's threads and starve goose's own loop.
async fn idle(shared: &Shared) {
    shared.stopped().await;
    tokio::time::sleep(Duration::from_millis(10)).await;
}

/// Runs the closed model until the load stops.
pub async fn run_closed(shared: Arc<Shared>, users: usize, ramp: Duration) -> Result<(), String> {
    let config = configuration(&shared.ctx.base_url, users, ramp)?;
    let on_start: TransactionFunction = {
        let shared = shared.clone();
        Arc::new(move |user: &mut GooseUser| {
            let shared = shared.clone();
            Box::pin(async move {
                let index = shared.next_lane.fetch_add(1, Ordering::SeqCst);
                user.set_session_data(UserData {
                    shared: shared.clone(),
                    lane: index,
                });
                if let Some(lane) = shared.lanes.get(index) {
                    shared.setup_lane(lane).await;
                }
                shared.start();
                Ok(())
            })
        })
    };
    let load: TransactionFunction = Arc::new(move |user: &mut GooseUser| {
        let data = user.get_session_data::<UserData>();
        Box::pin(async move {
            let Some(data) = data else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                return Ok(());
            };
            let shared = &*data.shared;
            let Some(lane) = shared.lanes.get(data.lane) else {
                idle(shared).await;
                return Ok(());
            };
            // A batch of exchanges per goose transaction: goose's bookkeeping between
            // transactions (exit checks, iteration metrics, a boxed future) costs as much as
            // a loopback request, so it is paid once per batch. The user still stops within
            // one exchange of the end of the load.
            for _ in 0..REQUESTS_PER_TRANSACTION {
                if shared.is_stopped() || !shared.take_budget() {
                    idle(shared).await;
                    return Ok(());
                }
                match shared.exchange(lane, None, false).await {
                    Ok(Some(seconds)) if shared.respect_retry_after => {
                        shared.sleep(Duration::from_secs(seconds)).await;
                    }
                    Ok(_) => {}
                    Err(()) => {
                        idle(shared).await;
                        return Ok(());
                    }
                }
            }
            Ok(())
        })
    });
    let scenario = Scenario::new("load")
        .register_transaction(Transaction::new(on_start).set_name("setup").set_on_start())
        .register_transaction(Transaction::new(load).set_name("load"));
    let attack = GooseAttack::initialize_with_config(config)
        .map_err(|e| e.to_string())?
        .register_scenario(scenario)
        .set_client_builder_without_cookies(GooseClientBuilder::new().without_cookies())
        .map_err(|e| e.to_string())?;

    // Goose's killswitch is how a running attack is told to end. Goose clears it when an
    // attack starts, so it is pulled again until the attack has returned.
    let (done_tx, mut done_rx) = tokio::sync::oneshot::channel::<()>();
    let watcher = {
        let shared = shared.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut done_rx => break,
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
                if goose::is_killswitch_triggered() {
                    if !shared.is_stopped() {
                        // Not ours: Ctrl-C through goose's handler.
                        shared.stop(EndedBy::Interrupted);
                    }
                } else if shared.is_stopped() {
                    goose::trigger_killswitch("bpharness: the load is over");
                }
            }
        })
    };
    let result = attack.execute().await;
    let _ = done_tx.send(());
    let _ = watcher.await;
    shared.stop(EndedBy::Finished);
    goose::reset_killswitch();
    result.map(|_| ()).map_err(|e| format!("goose: {e}"))
}
