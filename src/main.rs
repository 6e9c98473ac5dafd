use std::process::ExitCode;

fn main() -> ExitCode {
    motcua::cli::main()
}
