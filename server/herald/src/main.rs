//! The `herald` command. Everything lives in the library; see `herald --help`.

fn main() -> std::process::ExitCode {
    herald::cli::main()
}
