//! The hostile test double of `tests/it/double.rs` as a program, for
//! `scripts/hostile-memory.sh`: listens on 127.0.0.1:0, prints its URL on the first line of
//! stdout, and serves until it is killed.

#[path = "../tests/it/double.rs"]
#[expect(dead_code, reason = "the program only serves; what the double saw is for tests")]
mod double;

use std::io::Write as _;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let double = double::start().await;
    println!("{}", double.url);
    let _ = std::io::stdout().flush();
    std::future::pending::<()>().await;
}
