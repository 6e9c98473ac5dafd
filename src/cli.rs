//! The command line: `motcua serve`, `migrate`, `user create`, ...

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::app::{self, App, StartOptions};
use crate::config::{Overrides, Settings, Sources};
use crate::{db, telemetry};

/// motcua: one-stop-shop dossier routing for Vietnam's two-tier local government.
#[derive(Debug, Parser)]
#[command(name = "motcua", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file, read after config/default.toml and before MOTCUA__* variables.
    #[arg(long, global = true, env = "MOTCUA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL (sqlite://file.db?mode=rwc or postgres://...); wins over every other source.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations and reference seeding (unless --no-migrate), then serve HTTP.
    Serve(ServeArgs),
    /// Apply pending migrations and exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 0.0.0.0:8080.
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// Do not apply migrations or seed reference data at start.
    #[arg(long)]
    pub no_migrate: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is read from standard input.
    Create(UserCreateArgs),
}

#[derive(Debug, Args)]
pub struct UserCreateArgs {
    #[arg(long)]
    pub username: String,
    /// citizen, clerk, unit_head, supervisor or admin.
    #[arg(long)]
    pub role: String,
    /// Unit code (clerks and unit heads).
    #[arg(long, value_name = "UNIT_CODE")]
    pub unit: Option<String>,
    /// Province code (supervisors; omit for national scope).
    #[arg(long, value_name = "PROVINCE_CODE")]
    pub province: Option<String>,
    /// Full name (defaults to the username).
    #[arg(long)]
    pub full_name: Option<String>,
    /// Read the password from standard input (required: passwords never go on the command line).
    #[arg(long, required = true)]
    pub password_stdin: bool,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "fatal");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn load_settings(global: &GlobalArgs, bind: Option<String>) -> Result<Settings, BoxError> {
    let settings = Settings::load(&Sources {
        file: global.config.clone(),
        env: None,
        overrides: Overrides {
            bind,
            database_url: global.database_url.clone(),
        },
    })?;
    telemetry::init(&settings.log);
    Ok(settings)
}

async fn run(cli: Cli) -> Result<(), BoxError> {
    match cli.command {
        Command::Serve(args) => {
            let settings = load_settings(&cli.global, args.bind.clone())?;
            let app = App::build(
                settings,
                StartOptions {
                    migrate: !args.no_migrate,
                },
            )
            .await?;
            println!(
                "motcua listening on http://{} (API docs at /docs)",
                app.addr
            );
            app.run_until(app::shutdown_signal()).await?;
            Ok(())
        }
        Command::Migrate => {
            let settings = load_settings(&cli.global, None)?;
            let conn = db::connect(&settings.database).await?;
            db::migrate(&conn).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::User(UserCommand::Create(args)) => {
            let settings = load_settings(&cli.global, None)?;
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']).to_string();
            let state = app::build_state(settings, StartOptions::default()).await?;
            let account = crate::services::users::create(
                &state,
                crate::services::users::CreateUser {
                    full_name: args.full_name.unwrap_or_else(|| args.username.clone()),
                    username: args.username,
                    password,
                    role: args.role,
                    unit: args.unit,
                    province: args.province,
                    phone: None,
                    email: None,
                    id_number: None,
                },
            )
            .await
            .map_err(|e| describe_api_error(&e))?;
            println!(
                "created {} ({}) id {}",
                account.username, account.role, account.id
            );
            Ok(())
        }
    }
}

/// A one-line description of an API error for the terminal.
fn describe_api_error(e: &crate::error::ApiError) -> BoxError {
    match e {
        crate::error::ApiError::Problem(p) => {
            let mut s = format!("{}: {}", p.code, p.detail.en);
            for f in &p.errors {
                s.push_str(&format!("\n  {}: {} ({})", f.field, f.message.en, f.code));
            }
            s.into()
        }
        crate::error::ApiError::Internal(inner) => inner.to_string().into(),
    }
}
