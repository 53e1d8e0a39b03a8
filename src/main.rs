//! The `redistill` server binary.

fn main() -> std::process::ExitCode {
    redistill::server::launch::run()
}
