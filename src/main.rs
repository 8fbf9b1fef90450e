//! `cargo-packit-db`: see the library for everything.

fn main() -> std::process::ExitCode {
    cargo_packit_db::run(std::env::args_os().collect())
}
