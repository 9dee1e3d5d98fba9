//! The `herald` command, built inside the test crate so the end-to-end tests can run it
//! as separate processes (`herald worker` ×2, a worker killed with SIGKILL): cargo hands a
//! package's binaries only to that package's own tests.

fn main() -> std::process::ExitCode {
    herald::cli::main()
}
