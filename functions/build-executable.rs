//! The build script of every Lambda executable (each `functions/*` crate, and `make bench`'s
//! two baselines, so that they are built alike): release builds for Linux are linked as
//! position-dependent executables (`-no-pie`).
//!
//! A position-independent executable (rustc's default) carries ~17,000 relative relocations
//! (vtables, `&str` tables, tracing's callsites): at every cold start the dynamic loader
//! reads their 400 KB table and writes every page of the 330 KB it relocates, each write a
//! copy-on-write page fault. Linked at a fixed address, none of that happens: the data is
//! read from the file as it is used: cancel-invitation's init 3.41 -> 3.08 ms, hello's
//! 2.28 -> 2.20 (the same code both ways, in turn). The price: the executable's own code and
//! data are not placed at a random address (shared libraries, stack, heap and mappings still
//! are; the README's "Why the executables are not position-independent" weighs it). Debug
//! builds keep rustc's default.
//!
//! The code stays position-independent (rustc's default relocation model, which build scripts
//! and proc macros need too); only the link changes, hence a link argument for binaries.
//! The linker driver (gcc here, zig under cargo-lambda) takes the last of rustc's `-pie` and
//! this `-no-pie`.

fn main() {
    println!("cargo::rerun-if-changed=Cargo.toml");
    let release = std::env::var("PROFILE").as_deref() == Ok("release");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux");
    if release && linux {
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
}
