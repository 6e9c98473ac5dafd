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
    /// Apply pending migrations and load the reference data (idempotent), then exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Print a year of the civil-service calendar (days off, make-up working days).
    Calendar(CalendarArgs),
    /// SLA engine operations.
    #[command(subcommand)]
    Sla(SlaCommand),
    /// Run the background jobs (SLA sweeper, outbox dispatcher) without serving HTTP.
    Worker,
    /// Load reference data.
    #[command(subcommand)]
    Seed(SeedCommand),
    /// The file store.
    #[command(subcommand)]
    Storage(StorageCommand),
    /// Back up the database (SQLite: a consistent copy taken while the service runs;
    /// PostgreSQL: pg_dump) and the local file store into one archive.
    Backup(BackupArgs),
    /// Restore a SQLite backup into the configured database file and file store.
    Restore(RestoreArgs),
    /// The tamper-evident history.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The keys that seal personal data at rest.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The supervisors' statistics.
    #[command(subcommand)]
    Stats(StatsCommand),
    /// Synchronisation with other systems.
    #[command(subcommand)]
    Sync(SyncCommand),
    /// Records for batch upload elsewhere.
    #[command(subcommand)]
    Export(ExportCommand),
    /// The Open311 GeoReport v2 facade.
    #[command(subcommand)]
    Open311(Open311Command),
}

#[derive(Debug, Subcommand)]
pub enum Open311Command {
    /// Client systems' API keys.
    #[command(subcommand)]
    Key(Open311KeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum Open311KeyCommand {
    /// Issue a key for a client system; the key is printed once (only its digest is kept).
    Create {
        /// The client system's name.
        #[arg(long)]
        name: String,
    },
    /// Revoke a key by its id.
    Revoke {
        #[arg(long)]
        id: uuid::Uuid,
    },
    /// List the keys (never the keys themselves).
    List,
}

#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Send to the national portal (`national.*`) again the dossiers whose synchronisation
    /// failed and that changed since DATE, then whatever else is due; exit non-zero if some
    /// still fail.
    National(SyncNationalArgs),
}

#[derive(Debug, Args)]
pub struct SyncNationalArgs {
    /// `2026-12-03` (from the start of that day in Vietnam) or an RFC 3339 instant.
    #[arg(long, value_name = "DATE")]
    pub since: String,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The national portal's records (`DongBoHoSoMC`) of the dossiers filed between two
    /// dates, one JSON per line on standard output.
    National(ExportNationalArgs),
}

#[derive(Debug, Args)]
pub struct ExportNationalArgs {
    /// `2026-12-01` (from the start of that day in Vietnam) or an RFC 3339 instant.
    #[arg(long, value_name = "DATE")]
    pub from: String,
    /// `2026-12-03` (to the end of that day, included) or an RFC 3339 instant (excluded).
    #[arg(long, value_name = "DATE")]
    pub to: String,
}

/// A command-line date: a Vietnamese calendar day (its start, or with `end` the start of
/// the next day) or an RFC 3339 instant.
pub fn parse_date(raw: &str, end: bool) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let raw = raw.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    let day = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| format!("{raw:?} is neither a date (2026-12-03) nor an RFC 3339 instant"))?;
    let day = if end {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    let start = day.and_hms_opt(0, 0, 0).expect("midnight");
    Ok(start
        .and_local_timezone(crate::domain::calendar::vn_offset())
        .single()
        .expect("a fixed offset")
        .with_timezone(&chrono::Utc))
}

#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// Recount the backlog rollup (`backlog_counts`) from the open dossiers, printing the
    /// groups that were wrong; writers wait while it runs (seconds at two million open).
    Rebuild,
    /// Compare the backlog rollup with a recount; exit non-zero naming the groups that differ.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print a fresh data key (64 hex characters), for `security.data_key`.
    Generate,
    /// Re-seal every applicant ID number, phone, e-mail and stored answer that is not under
    /// the current key, in batches, while the service runs (see docs/SECURITY.md).
    Rotate(RotateArgs),
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// First put a freshly generated key first in the key file (`security.data_key_file`);
    /// the old keys stay in it to open what they sealed.
    #[arg(long)]
    pub generate: bool,
    /// Rows per transaction.
    #[arg(long, default_value_t = 500)]
    pub batch: u64,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk every dossier's chain of events; exit 0 when they hold, non-zero naming the
    /// first broken link.
    Verify,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The archive to write (a tar file; replaced when complete).
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The archive `motcua backup` wrote.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// Replace an existing database file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum StorageCommand {
    /// Re-hash every stored object and report mismatches (bytes that no longer hash to their
    /// name), objects missing for rows that name them, and orphans (objects no row names).
    /// Exits with 1 when anything is wrong.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum SeedCommand {
    /// Apply migrations, then load the official administrative units (34 provinces, 3,321
    /// wards, the pre-2025 units and the conversion table), the standard units and the
    /// procedure catalog, unless already loaded. Idempotent.
    Geography,
    /// Generate realistic dossier histories (routed, timed on the working calendar and
    /// replayed through the state machine), with some communes deliberately overloaded.
    Synthetic(SyntheticArgs),
}

#[derive(Debug, Args)]
pub struct SyntheticArgs {
    /// How many dossiers.
    #[arg(long)]
    pub cases: u64,
    /// Spread over this many days before now.
    #[arg(long, default_value_t = 90)]
    pub days: i64,
    /// Random seed (the same seed on the same data gives the same histories).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How many communes to overload.
    #[arg(long, default_value_t = 20)]
    pub overloaded: usize,
    /// How many of the dossiers to leave open (submitted within the last 10 days); the rest
    /// are closed. Unset: as the histories fall (about 1-2 % open).
    #[arg(long)]
    pub open: Option<u64>,
}

#[derive(Debug, Args)]
pub struct CalendarArgs {
    /// The year, 2000–2100.
    pub year: i32,
}

#[derive(Debug, Subcommand)]
pub enum SlaCommand {
    /// Run one sweep as of an instant and print what changed.
    Sweep(SweepArgs),
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The instant to sweep as of (RFC 3339); default now. Later instants preview the future.
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 0.0.0.0:8080.
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// Do not apply migrations or seed reference data at start.
    #[arg(long)]
    pub no_migrate: bool,
    /// Start on a fresh SQLite file (motcua-demo.db) with demo accounts (printed) and a
    /// synthetic history of dossiers, so queues and dashboards have something to show.
    #[arg(long, conflicts_with = "no_migrate")]
    pub demo: bool,
    /// With --demo: how many dossiers to generate.
    #[arg(long, default_value_t = 20_000, requires = "demo")]
    pub demo_cases: u64,
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
    /// citizen, clerk, unit_head, supervisor, admin, province_admin or integrator.
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
        Command::Serve(args) if args.demo => serve_demo(&cli.global, args).await,
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
            let report = crate::services::reference::seed(
                &conn,
                &settings.calendar.default_working_hours,
                &mut crate::progress::Quiet,
            )
            .await?;
            println!(
                "migrations applied; reference data loaded: {:?}",
                report.loaded
            );
            Ok(())
        }
        Command::Calendar(args) => {
            let settings = load_settings(&cli.global, None)?;
            if !crate::services::calendar::YEARS.contains(&args.year) {
                return Err(format!(
                    "the year must be within {:?}",
                    crate::services::calendar::YEARS
                )
                .into());
            }
            let state = app::build_state(settings, StartOptions { migrate: false }).await?;
            let view = state.calendars.current().holidays().year_view(args.year);
            println!(
                "Civil-service calendar {} (days off besides ordinary weekends)",
                args.year
            );
            for d in &view.days_off {
                println!(
                    "  {} {:<3} {:<13} {} ({})",
                    d.date,
                    crate::domain::calendar::weekday_en(chrono::Datelike::weekday(&d.date)),
                    format!("{:?}", d.kind).to_lowercase(),
                    d.name_vi,
                    d.name_en
                );
            }
            if view.working_saturdays.is_empty() {
                println!("No make-up working days.");
            } else {
                println!("Make-up working days:");
                for d in &view.working_saturdays {
                    println!(
                        "  {d} {}",
                        crate::domain::calendar::weekday_en(chrono::Datelike::weekday(d))
                    );
                }
            }
            Ok(())
        }
        Command::Sla(SlaCommand::Sweep(args)) => {
            let settings = load_settings(&cli.global, None)?;
            let at = match &args.at {
                Some(s) => chrono::DateTime::parse_from_rfc3339(s)
                    .map_err(|e| format!("--at: {e}"))?
                    .with_timezone(&chrono::Utc),
                None => chrono::Utc::now(),
            };
            let conn = db::connect(&settings.database).await?;
            let keys = crate::services::data_keys::open(&settings, &conn).await?;
            let report =
                crate::services::sla::sweep(&conn, &keys, at, settings.sla.batch_size).await?;
            println!(
                "swept as of {}: {} examined, {} changed ({} at risk, {} overdue) in {} ms",
                at.to_rfc3339(),
                report.examined,
                report.changes.len(),
                report.count(crate::domain::sla::SlaState::AtRisk),
                report.count(crate::domain::sla::SlaState::Overdue),
                report.elapsed_ms
            );
            for c in &report.changes {
                println!(
                    "  {} {} -> {} (reached {})",
                    c.code,
                    c.from.as_str(),
                    c.to.as_str(),
                    c.reached_at.to_rfc3339()
                );
            }
            Ok(())
        }
        Command::Worker => {
            let settings = load_settings(&cli.global, None)?;
            let state = app::build_state(settings, StartOptions { migrate: false }).await?;
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let jobs = crate::jobs::spawn_all(&state, stop_rx);
            println!("motcua worker running (SLA sweeper, outbox dispatcher); Ctrl-C to stop");
            app::shutdown_signal().await;
            let _ = stop_tx.send(true);
            for j in jobs {
                let _ = j.await;
            }
            Ok(())
        }
        Command::Backup(args) => {
            let settings = load_settings(&cli.global, None)?;
            let conn = db::connect(&settings.database).await?;
            let storage = app::open_storage(&settings)?;
            let url = secrecy::ExposeSecret::expose_secret(&settings.database.url).to_string();
            let postgres = settings.sqlite_path().is_none().then_some(url.as_str());
            let r = crate::services::backup::backup(
                crate::services::backup::Source {
                    db: &conn,
                    postgres_url: postgres,
                },
                &storage,
                &args.to,
            )
            .await?;
            println!(
                "backup written to {}: {} database ({} bytes), {} files",
                args.to.display(),
                r.database,
                r.database_bytes,
                r.files
            );
            Ok(())
        }
        Command::Audit(AuditCommand::Verify) => {
            let settings = load_settings(&cli.global, None)?;
            let conn = db::connect(&settings.database).await?;
            let r = crate::services::audit::verify_chains(&conn).await?;
            match (&r.broken, &r.audit_broken) {
                (None, None) => {
                    println!(
                        "chains hold: {} events of {} dossiers ({} written before chains); audit log: {} entries ({} before chains)",
                        r.events, r.dossiers, r.unchained, r.audit_entries, r.audit_unchained
                    );
                    Ok(())
                }
                (Some((code, seq, what)), _) => Err(format!(
                    "broken link: dossier {code}, event {seq}: {what} (checked {} events before it)",
                    r.events.saturating_sub(1)
                )
                .into()),
                (None, Some((id, what))) => Err(format!(
                    "broken link: audit log entry {id}: {what} (dossier events hold)"
                )
                .into()),
            }
        }
        Command::Stats(cmd) => {
            let settings = load_settings(&cli.global, None)?;
            let conn = db::connect(&settings.database).await?;
            let show = |d: &crate::repo::stats::RollupDifference| {
                format!(
                    "  {} {} {} {} {}: rollup {}, recount {}",
                    d.province_code, d.unit, d.status, d.sla_state, d.age_day, d.rollup, d.recount
                )
            };
            match cmd {
                StatsCommand::Rebuild => {
                    let started = std::time::Instant::now();
                    let r = crate::services::stats::rebuild_rollup(&conn).await?;
                    for d in &r.differed {
                        println!("{}", show(d));
                    }
                    println!(
                        "backlog rollup rebuilt: {} groups ({} were wrong) in {} ms",
                        r.groups,
                        r.differed.len(),
                        started.elapsed().as_millis()
                    );
                    Ok(())
                }
                StatsCommand::Check => {
                    let differed = crate::services::stats::rollup_differences(&conn).await?;
                    if differed.is_empty() {
                        println!("backlog rollup equals a recount");
                        return Ok(());
                    }
                    for d in &differed {
                        println!("{}", show(d));
                    }
                    Err(format!(
                        "backlog rollup differs from a recount in {} groups: run `motcua stats rebuild`",
                        differed.len()
                    )
                    .into())
                }
            }
        }
        Command::Sync(SyncCommand::National(args)) => {
            let since = parse_date(&args.since, false)?;
            let settings = load_settings(&cli.global, None)?;
            if settings.national.url.trim().is_empty() {
                return Err("national.url is not configured".into());
            }
            let conn = db::connect(&settings.database).await?;
            let keys = crate::services::data_keys::open(&settings, &conn).await?;
            let portal = crate::services::national::Portal::new(&settings.national);
            let (queued, r) = crate::services::national::resend_failed(
                &conn,
                &keys,
                &portal,
                settings.national.max_attempts,
                since,
            )
            .await?;
            println!(
                "national portal: {queued} failed dossiers queued again; {} brought up to date ({} calls), {} failed",
                r.synced, r.calls, r.failed
            );
            if r.failed > 0 {
                return Err(
                    format!("{} dossiers still fail: see their last_error", r.failed).into(),
                );
            }
            Ok(())
        }
        Command::Export(ExportCommand::National(args)) => {
            let (from, to) = (parse_date(&args.from, false)?, parse_date(&args.to, true)?);
            let settings = load_settings(&cli.global, None)?;
            let conn = db::connect(&settings.database).await?;
            let keys = crate::services::data_keys::open(&settings, &conn).await?;
            use std::io::Write;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let (written, skipped) =
                crate::services::national::export(&conn, &keys, from, to, |line| {
                    writeln!(out, "{line}")
                })
                .await?;
            out.flush()?;
            eprintln!("{written} records written; {skipped} left out (their receiving unit has no national_code)");
            Ok(())
        }
        Command::Open311(Open311Command::Key(cmd)) => {
            let settings = load_settings(&cli.global, None)?;
            let conn = db::connect(&settings.database).await?;
            match cmd {
                Open311KeyCommand::Create { name } => {
                    let keys = crate::services::data_keys::open(&settings, &conn).await?;
                    let hasher = crate::security::password::PasswordHasher::new(&settings.auth)?;
                    let k = crate::services::open311::create_key(
                        &conn,
                        &keys,
                        &hasher,
                        &name,
                        None,
                        chrono::Utc::now(),
                    )
                    .await
                    .map_err(|e| format!("{}: {e:?}", e.code()))?;
                    eprintln!(
                        "Open311 key {} for {}: shown this once, keep it secret",
                        k.id, k.name
                    );
                    println!("{}", k.key.unwrap_or_default());
                }
                Open311KeyCommand::Revoke { id } => {
                    let k =
                        crate::services::open311::revoke_key(&conn, None, id, chrono::Utc::now())
                            .await
                            .map_err(|e| e.code().to_string())?;
                    println!(
                        "{} revoked at {}",
                        k.id,
                        k.revoked_at.map(|t| t.to_rfc3339()).unwrap_or_default()
                    );
                }
                Open311KeyCommand::List => {
                    for k in crate::services::open311::list_keys(&conn)
                        .await
                        .map_err(|e| e.code().to_string())?
                    {
                        println!(
                            "{}\t{}\t{}\t{}",
                            k.id,
                            k.name,
                            k.created_at.to_rfc3339(),
                            k.revoked_at.map_or("active".to_string(), |t| format!(
                                "revoked {}",
                                t.to_rfc3339()
                            ))
                        );
                    }
                }
            }
            Ok(())
        }
        Command::Keys(KeysCommand::Generate) => {
            println!("{}", crate::security::data_key::generate());
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate(args)) => {
            let settings = load_settings(&cli.global, None)?;
            let conn = db::connect(&settings.database).await?;
            let keys = crate::services::data_keys::open(&settings, &conn).await?;
            if args.generate {
                if keys.file().is_none() {
                    return Err(
                        "--generate needs keys kept in a file: with security.data_key, \
                        configure the new key (the old one in security.extra_data_keys) and \
                        run `keys rotate` without --generate"
                            .into(),
                    );
                }
                let id = crate::services::data_keys::generate_into_file(&keys)?;
                println!("new data key {id} put first in the key file");
            }
            let mut progress = crate::progress::TerminalProgress::new();
            let r =
                crate::services::data_keys::rotate(&conn, &keys, args.batch, &mut progress).await?;
            println!(
                "sealed with key {}: {} rows examined, {} re-sealed, {} changed meanwhile",
                r.key_id, r.examined, r.resealed, r.left
            );
            if r.left > 0 {
                return Err(format!(
                    "{} rows were changed by the service while they were read: run `motcua keys rotate` again",
                    r.left
                )
                .into());
            }
            Ok(())
        }
        Command::Restore(args) => {
            let settings = load_settings(&cli.global, None)?;
            let files = app::open_storage(&settings)?.local_dir;
            let r = crate::services::backup::restore(
                settings.sqlite_path(),
                files,
                &args.from,
                args.force,
            )?;
            println!(
                "restored from {}: {} database ({} bytes), {} files; start it with `motcua serve`",
                args.from.display(),
                r.database,
                r.database_bytes,
                r.files
            );
            Ok(())
        }
        Command::Storage(StorageCommand::Verify) => {
            let settings = load_settings(&cli.global, None)?;
            let conn = db::connect(&settings.database).await?;
            let storage = app::open_storage(&settings)?;
            let v = crate::services::documents::verify(&conn, &storage)
                .await
                .map_err(|e| format!("storage verify: {}", e.code()))?;
            println!(
                "storage {}: {} objects checked, {} mismatched, {} missing, {} orphans",
                storage.describe,
                v.checked,
                v.mismatched.len(),
                v.missing.len(),
                v.orphans.len()
            );
            for h in &v.mismatched {
                println!("  mismatch {h}");
            }
            for h in &v.missing {
                println!("  missing  {h}");
            }
            for h in &v.orphans {
                println!("  orphan   {h}");
            }
            if v.mismatched.is_empty() && v.missing.is_empty() {
                Ok(())
            } else {
                Err("storage verify found damaged or missing files".into())
            }
        }
        Command::Seed(SeedCommand::Synthetic(args)) => {
            let settings = load_settings(&cli.global, None)?;
            let state = app::build_state(settings, StartOptions::default()).await?;
            let mut progress = crate::progress::TerminalProgress::new();
            let report = crate::services::synthetic::generate(
                &state.dossiers(),
                &crate::services::synthetic::Options {
                    cases: args.cases,
                    days: args.days,
                    seed: args.seed,
                    overloaded: args.overloaded,
                    force_overloaded: Vec::new(),
                    now: chrono::Utc::now(),
                    open: args.open,
                },
                &mut progress,
            )
            .await?;
            println!(
                "generated {} dossiers ({} open, {} overdue) and {} events in {:.1} s",
                report.cases,
                report.open,
                report.overdue,
                report.events,
                report.elapsed_ms as f64 / 1000.0
            );
            println!("overloaded communes: {}", report.overloaded.join(", "));
            Ok(())
        }
        Command::Seed(SeedCommand::Geography) => {
            let settings = load_settings(&cli.global, None)?;
            let conn = db::connect(&settings.database).await?;
            db::migrate(&conn).await?;
            let mut progress = crate::progress::TerminalProgress::new();
            let report = crate::services::reference::seed(
                &conn,
                &settings.calendar.default_working_hours,
                &mut progress,
            )
            .await?;
            print!("{}", describe_seed(&report));
            let counts = crate::repo::geography::counts(&conn).await?;
            println!(
                "in the database: {} provinces, {} wards, {} legacy provinces, {} legacy districts, \
                 {} legacy wards, {} conversion rows, {} units, {} procedure versions",
                counts.provinces,
                counts.wards,
                counts.legacy_provinces,
                counts.legacy_districts,
                counts.legacy_wards,
                counts.conversions,
                counts.units,
                counts.procedures
            );
            conn.close().await.ok();
            Ok(())
        }
        Command::User(UserCommand::Create(args)) => {
            let settings = load_settings(&cli.global, None)?;
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']).to_string();
            let state = app::build_state(settings, StartOptions::default()).await?;
            let account = crate::services::users::create(
                &state.db,
                &state.data_keys,
                &state.hasher,
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
                chrono::Utc::now(),
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

/// What a seeding run did, for the terminal.
fn describe_seed(r: &crate::services::reference::SeedReport) -> String {
    if r.loaded.is_empty() {
        return "reference data is current: nothing to load\n".to_string();
    }
    let mut s = String::new();
    for set in &r.loaded {
        match *set {
            "geography" => s.push_str(&format!(
                "loaded geography: {} provinces, {} wards, {} legacy provinces, {} legacy \
                 districts, {} legacy wards, {} conversion rows\n",
                r.provinces,
                r.wards,
                r.legacy_provinces,
                r.legacy_districts,
                r.legacy_wards,
                r.conversions
            )),
            "units" => s.push_str(&format!("loaded units: {} added\n", r.units_added)),
            "procedures" => s.push_str(&format!(
                "loaded procedures: {} added, {} corrected\n",
                r.procedures_added, r.procedures_corrected
            )),
            other => s.push_str(&format!("loaded {other}\n")),
        }
    }
    s
}

/// `serve --demo`: a fresh SQLite file, demo accounts and a synthetic history.
async fn serve_demo(global: &GlobalArgs, args: ServeArgs) -> Result<(), BoxError> {
    let path = std::path::Path::new("motcua-demo.db");
    for suffix in ["", "-wal", "-shm", ".jwt.key"] {
        let f = format!("{}{suffix}", path.display());
        let _ = std::fs::remove_file(&f);
    }
    let mut settings = Settings::load(&Sources {
        file: global.config.clone(),
        env: None,
        overrides: Overrides {
            bind: args.bind.clone(),
            database_url: Some(format!("sqlite://{}?mode=rwc", path.display())),
        },
    })?;
    // The demo's files beside its database, apart from a real run's (unless configured).
    if settings.storage.url == "file://motcua-files" {
        let _ = std::fs::remove_dir_all("motcua-demo-files");
        settings.storage.url = "file://motcua-demo-files".into();
    }
    telemetry::init(&settings.log);
    let app = App::build(settings, StartOptions::default()).await?;
    println!(
        "motcua demo: generating {} dossiers on {} ...",
        args.demo_cases,
        path.display()
    );
    let mut progress = crate::progress::TerminalProgress::new();
    let now = chrono::Utc::now();
    crate::services::demo::create_accounts(
        &app.state.db,
        &app.state.data_keys,
        &app.state.hasher,
        now,
    )
    .await
    .map_err(|e| describe_api_error(&e))?;
    let report = crate::services::synthetic::generate(
        &app.state.dossiers(),
        &crate::services::demo::history(args.demo_cases, 30, now),
        &mut progress,
    )
    .await
    .map_err(|e| describe_api_error(&e.into()))?;
    println!(
        "{} dossiers ({} open, {} overdue); overloaded communes include {}",
        report.cases,
        report.open,
        report.overdue,
        crate::services::demo::DEMO_COMMUNE_PC
    );
    println!(
        "\nDemo accounts (password for all: {}):",
        crate::services::demo::PASSWORD
    );
    for a in crate::services::demo::ACCOUNTS {
        println!("  {:<18} {:<11} {}", a.username, a.role, a.scope);
    }
    println!(
        "\nmotcua demo listening on http://{0} — API docs at http://{0}/docs\n\
         try: POST /api/v1/auth/login, then GET /api/v1/units/{1}/queue and GET /api/v1/stats/bottlenecks",
        app.addr,
        crate::services::demo::DEMO_COMMUNE_PC
    );
    app.run_until(app::shutdown_signal()).await?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::parse_date;
    use chrono::{TimeZone, Utc};

    #[test]
    fn a_date_is_a_day_in_vietnam_or_an_rfc_3339_instant() {
        // A day starts at midnight in Vietnam (17:00 UTC the day before); `end` is the next.
        assert_eq!(
            parse_date("2026-12-03", false),
            Ok(Utc.with_ymd_and_hms(2026, 12, 2, 17, 0, 0).unwrap())
        );
        assert_eq!(
            parse_date(" 2026-12-03 ", true),
            Ok(Utc.with_ymd_and_hms(2026, 12, 3, 17, 0, 0).unwrap())
        );
        // An instant is taken as it is, with or without `end`.
        for end in [false, true] {
            assert_eq!(
                parse_date("2026-12-03T08:30:00+07:00", end),
                Ok(Utc.with_ymd_and_hms(2026, 12, 3, 1, 30, 0).unwrap())
            );
            assert_eq!(
                parse_date("2026-12-03T01:30:00Z", end),
                Ok(Utc.with_ymd_and_hms(2026, 12, 3, 1, 30, 0).unwrap())
            );
        }
        for bad in ["", "03/12/2026", "2026-13-01", "2026-12-03T25:00:00Z"] {
            assert!(parse_date(bad, false).is_err(), "{bad}");
        }
    }
}
