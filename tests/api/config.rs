//! Configuration precedence and the signing key.

use std::collections::HashMap;
use std::io::Write;

use motcua::config::{Overrides, Settings, Sources};
use secrecy::ExposeSecret;

fn env(pairs: &[(&str, &str)]) -> Option<HashMap<String, String>> {
    Some(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

#[test]
fn defaults_then_file_then_env_then_flags() {
    let s = Settings::load(&Sources {
        file: None,
        env: env(&[]),
        overrides: Overrides::default(),
    })
    .unwrap();
    assert_eq!(s.server.bind, "127.0.0.1:8080");
    assert_eq!(
        s.database.url.expose_secret(),
        "sqlite://motcua.db?mode=rwc"
    );
    assert_eq!(s.auth.access_token_ttl_secs, 900);
    assert_eq!(s.server.body_limit_bytes, 256 * 1024);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("motcua.toml");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "[server]\nbind = \"0.0.0.0:9000\"\nrequest_timeout_secs = 7\n[auth]\naccess_token_ttl_secs = 600").unwrap();

    let file_only = Settings::load(&Sources {
        file: Some(path.clone()),
        env: env(&[]),
        overrides: Overrides::default(),
    })
    .unwrap();
    assert_eq!(file_only.server.bind, "0.0.0.0:9000");
    assert_eq!(file_only.server.request_timeout_secs, 7);

    let with_env = Settings::load(&Sources {
        file: Some(path.clone()),
        env: env(&[
            ("MOTCUA__SERVER__BIND", "0.0.0.0:9100"),
            ("MOTCUA__AUTH__ACCESS_TOKEN_TTL_SECS", "300"),
            (
                "MOTCUA__SERVER__CORS_ALLOWED_ORIGINS",
                "https://a.gov.vn,https://b.gov.vn",
            ),
        ]),
        overrides: Overrides::default(),
    })
    .unwrap();
    assert_eq!(with_env.server.bind, "0.0.0.0:9100");
    assert_eq!(
        with_env.server.request_timeout_secs, 7,
        "the file still applies where env is silent"
    );
    assert_eq!(with_env.auth.access_token_ttl_secs, 300);
    assert_eq!(
        with_env.server.cors_allowed_origins,
        vec!["https://a.gov.vn", "https://b.gov.vn"]
    );

    let with_flags = Settings::load(&Sources {
        file: Some(path),
        env: env(&[
            ("MOTCUA__SERVER__BIND", "0.0.0.0:9100"),
            ("MOTCUA__DATABASE__URL", "sqlite://env.db"),
        ]),
        overrides: Overrides {
            bind: Some("127.0.0.1:9200".into()),
            database_url: Some("sqlite://flag.db".into()),
        },
    })
    .unwrap();
    assert_eq!(with_flags.server.bind, "127.0.0.1:9200");
    assert_eq!(with_flags.database.url.expose_secret(), "sqlite://flag.db");
}

#[test]
fn short_keys_and_weak_hashing_are_refused() {
    let short = Settings::load(&Sources {
        file: None,
        env: env(&[("MOTCUA__AUTH__JWT_SECRET", "too-short")]),
        overrides: Overrides::default(),
    });
    assert!(short.unwrap_err().to_string().contains("at least 32 bytes"));
    let weak = Settings::load(&Sources {
        file: None,
        env: env(&[("MOTCUA__AUTH__ARGON2_MEMORY_KIB", "4096")]),
        overrides: Overrides::default(),
    });
    assert!(weak.is_err());
    let unknown = Settings::load(&Sources {
        file: None,
        env: env(&[("MOTCUA__SERVER__BINDD", "x")]),
        overrides: Overrides::default(),
    });
    assert!(unknown.is_err(), "unknown keys are refused");
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let s = Settings::load(&Sources {
        file: None,
        env: env(&[
            (
                "MOTCUA__AUTH__JWT_SECRET",
                "a-very-secret-signing-key-of-32-bytes-or-more",
            ),
            (
                "MOTCUA__DATABASE__URL",
                "postgres://motcua:hunter2@db/motcua",
            ),
            (
                "MOTCUA__DATABASE__READ_URL",
                "postgres://motcua:swordfish@replica/motcua",
            ),
        ]),
        overrides: Overrides::default(),
    })
    .unwrap();
    let debug = format!("{s:?}");
    assert!(!debug.contains("a-very-secret"), "{debug}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(!debug.contains("swordfish"), "{debug}");
}

#[test]
fn a_read_replica_needs_postgresql_on_both_sides() {
    let load = |pairs: &[(&str, &str)]| {
        Settings::load(&Sources {
            file: None,
            env: env(pairs),
            overrides: Overrides::default(),
        })
    };
    let on_sqlite = load(&[("MOTCUA__DATABASE__READ_URL", "postgres://db/motcua")]);
    assert!(on_sqlite.unwrap_err().to_string().contains("read_url"));
    let not_pg = load(&[
        ("MOTCUA__DATABASE__URL", "postgres://db/motcua"),
        ("MOTCUA__DATABASE__READ_URL", "sqlite://replica.db"),
    ]);
    assert!(not_pg.unwrap_err().to_string().contains("read_url"));
    let s = load(&[
        ("MOTCUA__DATABASE__URL", "postgres://db/motcua"),
        ("MOTCUA__DATABASE__READ_URL", "postgres://replica/motcua"),
        ("MOTCUA__DATABASE__READ_MAX_LAG_MS", "500"),
    ])
    .unwrap();
    assert_eq!(s.database.read_max_lag_ms, 500);
}

#[tokio::test]
async fn generated_key_is_kept_beside_the_database_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keys.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let settings = crate::helpers::settings_for(&url, &Default::default());
    assert_eq!(settings.key_file_path(), dir.path().join("keys.db.jwt.key"));

    let state = motcua::app::build_state(settings.clone(), Default::default())
        .await
        .unwrap();
    let key_path = dir.path().join("keys.db.jwt.key");
    let meta = std::fs::metadata(&key_path).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let key1 = std::fs::read_to_string(&key_path).unwrap();
    assert_eq!(hex::decode(key1.trim()).unwrap().len(), 32);
    let token = state
        .jwt
        .issue(
            uuid::Uuid::nil(),
            "citizen",
            None,
            None,
            0,
            chrono::Utc::now().timestamp(),
        )
        .unwrap();
    state.db.clone().close().await.unwrap();

    // A restart reuses the key: tokens survive.
    let state2 = motcua::app::build_state(settings, Default::default())
        .await
        .unwrap();
    assert_eq!(std::fs::read_to_string(&key_path).unwrap(), key1);
    assert!(state2.jwt.verify(&token).is_ok());
}
