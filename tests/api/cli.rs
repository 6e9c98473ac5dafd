//! The command line, run as the real binary.

use std::io::Write;
use std::process::{Command, Stdio};

fn motcua(args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(args)
        .env("MOTCUA__LOG__LEVEL", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run motcua");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[tokio::test]
async fn migrate_then_create_users_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    let (ok, out, err) = motcua(&["migrate", "--database-url", &url], None);
    assert!(ok, "{out} {err}");
    assert!(out.contains("migrations applied"), "{out}");

    let (ok, out, err) = motcua(
        &[
            "user",
            "create",
            "--username",
            "root",
            "--role",
            "admin",
            "--password-stdin",
            "--database-url",
            &url,
        ],
        Some("a long admin password\n"),
    );
    assert!(ok, "{out} {err}");
    assert!(out.contains("created root (admin)"), "{out}");
    let (ok, out, err) = motcua(
        &[
            "user",
            "create",
            "--username",
            "clerk.one",
            "--role",
            "clerk",
            "--unit",
            "01.00004.UBND",
            "--password-stdin",
            "--database-url",
            &url,
        ],
        Some("clerk password 123"),
    );
    assert!(ok, "{out} {err}");
    // Refusals are explained, with a failing exit code.
    let (ok, _, err) = motcua(
        &[
            "user",
            "create",
            "--username",
            "clerk.two",
            "--role",
            "clerk",
            "--password-stdin",
            "--database-url",
            &url,
        ],
        Some("clerk password 123"),
    );
    assert!(!ok);
    assert!(err.contains("unit_required"), "{err}");
    let (ok, _, err) = motcua(
        &[
            "user",
            "create",
            "--username",
            "root",
            "--role",
            "admin",
            "--password-stdin",
            "--database-url",
            &url,
        ],
        Some("another long password"),
    );
    assert!(!ok);
    assert!(err.contains("username_taken"), "{err}");
    let (ok, _, err) = motcua(
        &[
            "user",
            "create",
            "--username",
            "x",
            "--role",
            "admin",
            "--database-url",
            &url,
        ],
        None,
    );
    assert!(!ok, "--password-stdin is required");
    assert!(err.contains("password-stdin"), "{err}");

    // The accounts work against the same database, with the data key the command line
    // generated beside it.
    let settings = crate::helpers::settings_for(
        &url,
        &crate::helpers::TestConfig::default().with("MOTCUA__SECURITY__DATA_KEY", ""),
    );
    let state = motcua::app::build_state(settings, Default::default())
        .await
        .unwrap();
    let account =
        motcua::repo::accounts::find_by_username_key(&state.db, &state.data_keys, "clerk.one")
            .await
            .unwrap()
            .unwrap();
    assert_eq!(account.unit_code.as_deref(), Some("01.00004.UBND"));
    assert!(account.password_hash.starts_with("$argon2id$"));
}

#[test]
fn calendar_and_help() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cal.db").display());
    let (ok, out, err) = motcua(&["migrate", "--database-url", &url], None);
    assert!(ok, "{out} {err}");
    let (ok, out, err) = motcua(&["calendar", "2026", "--database-url", &url], None);
    assert!(ok, "{err}");
    for day in ["2026-02-17", "2026-04-27", "2026-09-02", "2026-01-10"] {
        assert!(out.contains(day), "{day} in {out}");
    }
    let (ok, _, _) = motcua(&["calendar", "1800", "--database-url", &url], None);
    assert!(!ok);
    let (ok, out, _) = motcua(&["--help"], None);
    assert!(ok);
    for cmd in [
        "serve", "migrate", "user", "seed", "calendar", "sla", "worker",
    ] {
        assert!(out.contains(cmd), "{cmd} in {out}");
    }
    let (ok, out, _) = motcua(&["serve", "--help"], None);
    assert!(ok && out.contains("--no-migrate") && out.contains("--demo") && out.contains("--bind"));
}
