//! `bpharness serve`.

use std::net::SocketAddr;

use clap::Args;

use super::error::{CliError, Outcome, Verdict};
use crate::server::fault::{FAULTS, Fault};
use crate::server::{FilesConfig, RateLimit, ServerConfig, Variant, spawn};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Which server: `reference`, or `other`, a conformant server that is not ours (no
    /// identity header, other error wording, a 429 now and then, storage on another port
    /// with XML errors, no built-in actions, no activity from traffic, slower deploys,
    /// events, uploads and indexing).
    #[arg(long, default_value_t = Variant::Reference)]
    pub variant: Variant,
    /// A token the server accepts for the primary workspace (repeatable; default: one random token).
    #[arg(long = "token", env = "BP_TOKEN", value_delimiter = ',')]
    pub tokens: Vec<String>,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = ServerConfig::default().max_body_bytes)]
    pub max_body_bytes: usize,
    /// Largest file, declared or uploaded, in bytes (more is LimitExceeded).
    #[arg(long, default_value_t = FilesConfig::default().max_file_bytes)]
    pub max_file_bytes: u64,
    /// Bytes of file content each bot may store (more is QuotaExceeded).
    #[arg(long, default_value_t = FilesConfig::default().bot_quota_bytes)]
    pub bot_quota_bytes: u64,
    /// Milliseconds an accepted upload reads upload_pending before it moves on [default: 50, other variant: 1000].
    #[arg(long)]
    pub upload_delay_ms: Option<u64>,
    /// Milliseconds a file stays indexing_pending [default: 300, other variant: 1000].
    #[arg(long)]
    pub indexing_delay_ms: Option<u64>,
    /// Milliseconds an event stays pending before it is processed [default: 50, other variant: 1000].
    #[arg(long)]
    pub event_delay_ms: Option<u64>,
    /// Seconds a signed file download URL stays valid.
    #[arg(long, default_value_t = FilesConfig::default().download_url_ttl.as_secs())]
    pub download_url_ttl_secs: u64,
    /// Origin of uploadUrl and url (e.g. `http://files.local:8080`); default: the Host the
    /// request was sent to.
    #[arg(long)]
    pub public_origin: Option<String>,
    /// Seconds a client may take to send a request head before it is disconnected.
    #[arg(long, default_value_t = ServerConfig::default().header_read_timeout.as_secs_f64())]
    pub header_read_timeout: f64,
    /// Requests handled at once; more are answered 429 RateLimited with Retry-After.
    #[arg(long, default_value_t = u32::try_from(ServerConfig::default().max_in_flight).unwrap_or(u32::MAX), value_parser = clap::value_parser!(u32).range(1..))]
    pub max_in_flight: u32,
    /// Switch on a contract violation (repeatable); see --list-faults.
    #[arg(long = "fault")]
    pub faults: Vec<Fault>,
    /// Users, conversations, messages and events kept per bot, each; the oldest are evicted past it.
    #[arg(long, default_value_t = ServerConfig::default().max_records as u64, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_records: u64,
    /// Print what the store holds every this many seconds (`stats: bots=… messages=…`).
    #[arg(long, value_name = "SECONDS")]
    pub stats_every: Option<u64>,
    /// Limit each token to R requests per second with a burst of B (default: one second's worth): `R[/s][,burst=B]`.
    #[arg(long, value_name = "R[/s][,burst=B]")]
    pub rate_limit: Option<RateLimit>,
    /// Print the fault catalogue and exit.
    #[arg(long)]
    pub list_faults: bool,
}

fn list_faults() {
    let width = FAULTS.iter().map(|f| f.name().len()).max().unwrap_or(0);
    for fault in FAULTS {
        println!(
            "{:width$}  {:<26}  {}",
            fault.name(),
            fault.family().name(),
            fault.description()
        );
    }
}

pub async fn run(args: ServeArgs) -> Outcome {
    if args.list_faults {
        list_faults();
        return Ok(Verdict::Passed);
    }
    let base = match args.variant {
        Variant::Reference => ServerConfig::default(),
        Variant::Other => ServerConfig::other_server(),
    };
    let ms = |given: Option<u64>, default: std::time::Duration| given.map_or(default, std::time::Duration::from_millis);
    let config = ServerConfig {
        tokens: args.tokens,
        max_body_bytes: args.max_body_bytes,
        event_delay: ms(args.event_delay_ms, base.event_delay),
        files: FilesConfig {
            max_file_bytes: args.max_file_bytes,
            bot_quota_bytes: args.bot_quota_bytes,
            upload_delay: ms(args.upload_delay_ms, base.files.upload_delay),
            indexing_delay: ms(args.indexing_delay_ms, base.files.indexing_delay),
            download_url_ttl: std::time::Duration::from_secs(args.download_url_ttl_secs),
            public_origin: args.public_origin,
        },
        faults: args.faults.iter().copied().collect(),
        rate_limit: args.rate_limit,
        header_read_timeout: std::time::Duration::from_secs_f64(args.header_read_timeout.clamp(0.001, 3600.0)),
        max_in_flight: args.max_in_flight as usize,
        max_records: usize::try_from(args.max_records).unwrap_or(usize::MAX),
        ..base
    };
    let handle = spawn(config, args.listen).await.map_err(|source| CliError::Listen {
        addr: args.listen,
        source,
    })?;
    let seeds = handle.seeds().clone();
    match args.variant {
        Variant::Reference => println!("bpharness reference server listening on {}", handle.url),
        Variant::Other => println!("bpharness other server (variant other) listening on {}", handle.url),
    }
    if let Some(storage) = &handle.storage_url {
        println!("storage host: {storage}");
    }
    if let Some(rate) = args.rate_limit {
        println!("rate limit: {rate} per token");
    }
    for fault in handle.state.faults() {
        println!("fault: {fault} ({})", fault.description());
    }
    println!("url: {}", handle.url);
    for token in &seeds.tokens {
        println!("token: {token}");
    }
    println!("workspace id: {}", seeds.workspace_id);
    println!("bot id: {}", seeds.bot_id);
    println!("other bot id: {}", seeds.other_bot_id);
    println!("other workspace id: {}", seeds.other_workspace_id);
    println!("other workspace token: {}", seeds.other_workspace_token);
    println!("other workspace bot id: {}", seeds.other_workspace_bot_id);
    println!(
        "try: curl -H \"Authorization: Bearer {}\" -H \"x-bot-id: {}\" {}/v1/chat/users",
        seeds.tokens[0], seeds.bot_id, handle.url
    );
    if let Some(every) = args.stats_every.filter(|s| *s > 0) {
        let state = handle.state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(every));
            loop {
                tick.tick().await;
                println!("stats: {}", state.store().sizes());
            }
        });
    }
    tokio::select! {
        result = handle.wait() => match result {
            Ok(()) => Ok(Verdict::Passed),
            Err(e) => Err(CliError::Internal(format!("the server stopped: {e}"))),
        },
        _ = tokio::signal::ctrl_c() => Ok(Verdict::Passed),
    }
}
