//! The `redistill` server binary.

/// jemalloc, as Redis uses: built with background threads (freed pages go back to the OS
/// over jemalloc's 10 s decay, with no command) and statistics (INFO's allocator fields).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    #[cfg(feature = "jemalloc")]
    return redistill::server::launch::run_with_allocator(&redistill::server::allocator::Jemalloc);
    #[cfg(not(feature = "jemalloc"))]
    redistill::server::launch::run()
}
