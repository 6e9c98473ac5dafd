//! Backup and restore (issue 22 §3): `motcua backup` taken while dossiers are being filed,
//! restored with `motcua restore` into a fresh place, and a server started on it holds every
//! dossier acknowledged before the backup began, with its files.

use std::sync::Arc;

use crate::helpers::*;

#[tokio::test]
async fn a_backup_under_intake_load_restores_every_acknowledged_dossier() {
    let app = spawn_app().await;
    let storage = app.state.settings.storage.url.clone();
    if !storage.starts_with("file://") {
        // An object store is backed up on its own (docs/SECURITY.md).
        return;
    }
    let cast = app.cast().await;
    let admin_pw = app.create_user("root", "admin", None, None).await;
    let mut acknowledged = Vec::new();
    for _ in 0..5 {
        let c = app
            .submit_online(&cast.citizen, intake_body(BIRTH, BA_DINH))
            .await;
        acknowledged.push(c["code"].as_str().unwrap().to_string());
    }
    // Intake goes on while the backup runs (in another process, as an operator runs it).
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("motcua-backup.tar");
    let archive_s = archive.display().to_string();
    let backup = tokio::task::spawn_blocking({
        let (url, storage, archive_s) =
            (app.database_url.clone(), storage.clone(), archive_s.clone());
        move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            run_motcua(
                &["backup", "--to", &archive_s, "--database-url", &url],
                &[("MOTCUA__STORAGE__URL", &storage)],
            )
        }
    });
    tokio::pin!(backup);
    let mut during = 0;
    let (ok, out) = loop {
        tokio::select! {
            r = &mut backup => break r.unwrap(),
            r = app.file(&cast.reception, intake_body(BIRTH, BA_DINH)) => {
                assert_eq!(r.status.as_u16(), 201, "{}", r.text);
                during += 1;
            }
        }
    };
    assert!(ok, "{out}");
    assert!(out.contains("backup written"), "{out}");
    assert!(during > 0, "no intake ran during the backup");
    let listing = {
        let f = std::fs::File::open(&archive).unwrap();
        let mut a = tar::Archive::new(f);
        a.entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(listing[0], "MANIFEST.json");
    assert!(
        listing.iter().any(|e| e.starts_with("files/")),
        "{listing:?}"
    );

    if app.database_url.starts_with("postgres") {
        // PostgreSQL's archive is pg_dump's, restored with pg_restore (docs/SECURITY.md).
        assert!(
            listing.contains(&"motcua.pgdump".to_string()),
            "{listing:?}"
        );
        return;
    }
    assert!(listing.contains(&"motcua.db".to_string()), "{listing:?}");

    // Restore into a fresh place; a second restore there refuses to overwrite it.
    let fresh = Arc::new(tempfile::tempdir().unwrap());
    let url = format!(
        "sqlite://{}?mode=rwc",
        fresh.path().join("motcua.db").display()
    );
    let files = format!("file://{}", fresh.path().join("files").display());
    let env = [("MOTCUA__STORAGE__URL", files.as_str())];
    let (ok, out) = run_motcua(
        &["restore", "--from", &archive_s, "--database-url", &url],
        &env,
    );
    assert!(ok, "{out}");
    let (ok, out) = run_motcua(
        &["restore", "--from", &archive_s, "--database-url", &url],
        &env,
    );
    assert!(!ok && out.contains("--force"), "{out}");

    // The restored history's chains hold.
    let (ok, out) = run_motcua(&["audit", "verify", "--database-url", &url], &env);
    assert!(ok && out.contains("chains hold"), "{out}");
    let restored = serve(
        url,
        fresh.clone(),
        &TestConfig::default().with("MOTCUA__STORAGE__URL", &files),
    )
    .await;
    let (admin, _) = restored.login("root", &admin_pw).await;
    for code in &acknowledged {
        let c = restored
            .get(&format!("/api/v1/cases/{code}"), Some(&admin))
            .await
            .assert_status(200);
        // Its files came with it.
        let docs = restored
            .get(&format!("/api/v1/cases/{code}/documents"), Some(&admin))
            .await
            .assert_status(200);
        let first = &docs[0];
        let bytes = restored
            .get(
                &format!(
                    "/api/v1/cases/{code}/documents/{}/content",
                    first["id"].as_str().unwrap()
                ),
                Some(&admin),
            )
            .await;
        assert_eq!(bytes.status.as_u16(), 200, "{code}: {}", bytes.text);
        assert_eq!(c["code"], code.as_str());
    }
}

/// Issue 22 §2: each event carries the hash of the one before it; `motcua audit verify`
/// walks the chains, passes when they hold and names the first broken link when a row was
/// changed or removed behind the application's back.
#[tokio::test]
async fn audit_verify_names_an_event_edited_behind_the_applications_back() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let cast = app.cast().await;
    let mut codes = Vec::new();
    for _ in 0..2 {
        let code = app
            .submit_online(&cast.citizen, intake_body(BIRTH, BA_DINH))
            .await["code"]
            .as_str()
            .unwrap()
            .to_string();
        for (who, action) in [(&cast.reception, "receive"), (&cast.clerk, "claim")] {
            app.act(who, &code, action, serde_json::json!({}))
                .await
                .assert_status(200);
        }
        codes.push(code);
    }
    let url = app.database_url.clone();
    let verify = |url: String| async move {
        tokio::task::spawn_blocking(move || {
            run_motcua(&["audit", "verify", "--database-url", &url], &[])
        })
        .await
        .unwrap()
    };
    let (ok, out) = verify(url.clone()).await;
    assert!(ok, "{out}");
    assert!(out.contains("chains hold: 6 events of 2 dossiers"), "{out}");

    // A reason rewritten in the database.
    let first = app.case_row(&codes[0]).await.id;
    app.state
        .db
        .execute_unprepared(&format!(
            "UPDATE case_events SET reason = 'sửa lén' WHERE case_id = {first} AND seq = 2"
        ))
        .await
        .unwrap();
    let (ok, out) = verify(url.clone()).await;
    assert!(!ok, "{out}");
    assert!(
        out.contains(&codes[0]) && out.contains("event 2") && out.contains("changed"),
        "{out}"
    );
    // Put back, the chain holds again; an event removed is named too.
    app.state
        .db
        .execute_unprepared(&format!(
            "UPDATE case_events SET reason = NULL WHERE case_id = {first} AND seq = 2"
        ))
        .await
        .unwrap();
    assert!(verify(url.clone()).await.0);
    let second = app.case_row(&codes[1]).await.id;
    app.state
        .db
        .execute_unprepared(&format!(
            "DELETE FROM case_events WHERE case_id = {second} AND seq = 2"
        ))
        .await
        .unwrap();
    let (ok, out) = verify(url).await;
    assert!(!ok, "{out}");
    assert!(out.contains(&codes[1]) && out.contains("missing"), "{out}");
}

/// Issue 22 §2: the audit log is one chain; an entry rewritten in the database is named.
#[tokio::test]
async fn audit_verify_names_an_audit_entry_rewritten_in_the_database() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let cast = app.cast().await;
    let code = app
        .submit_online(&cast.citizen, intake_body(BIRTH, BA_DINH))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let admin = app.token_for("root", "admin", None, None).await;
    // Administrators' reads are audited; twenty at once still make one chain.
    let path = format!("/api/v1/cases/{code}");
    let reads = (0..20).map(|_| app.get(&path, Some(&admin)));
    for r in futures::future::join_all(reads).await {
        r.assert_status(200);
    }
    let url = app.database_url.clone();
    let run = |url: String| {
        tokio::task::spawn_blocking(move || {
            run_motcua(&["audit", "verify", "--database-url", &url], &[])
        })
    };
    let (ok, out) = run(url.clone()).await.unwrap();
    assert!(ok && out.contains("audit log: 20 entries"), "{out}");
    app.state
        .db
        .execute_unprepared(
            "UPDATE audit_log SET subject = 'khác' WHERE id = (SELECT MIN(id) + 1 FROM audit_log)",
        )
        .await
        .unwrap();
    let (ok, out) = run(url).await.unwrap();
    assert!(!ok, "{out}");
    assert!(
        out.contains("audit log entry") && out.contains("changed"),
        "{out}"
    );
}
