//! The `bpharness` binary: parse, run, map to an exit code.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc: the load hot path and the reference server allocate a few small buffers per
/// request, where glibc's malloc spends a tenth of the CPU time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = bpharness::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(bpharness::exit::INTERNAL);
        }
    };
    runtime.block_on(bpharness::cli::run(cli))
}
