//! Rebuild when the suite or the schemas change: both are built into the binary with
//! `include_dir!`, which cannot tell cargo about files added or removed on stable Rust.

fn main() {
    println!("cargo:rerun-if-changed=scenarios");
    println!("cargo:rerun-if-changed=schemas");
    println!("cargo:rerun-if-changed=build.rs");
}
