use std::process::ExitCode;

fn main() -> ExitCode {
    tune_allocator();
    motcua::cli::main()
}

/// glibc's malloc, left alone, keeps freed memory: each password hash (argon2, 19 MiB) and
/// each burst of uploads raises its mmap threshold and grows per-thread arenas that are not
/// given back, so a server that streams files sat at 220 MB after a burst that needs 30.
/// A fixed threshold (large blocks always mapped, so returned when freed) and two arenas keep
/// it near its working set (docs/PERFORMANCE.md, the upload benchmark).
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called first thing in main, before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
