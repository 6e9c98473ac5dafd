//! Files: uploads, filing with them, attachments, downloads under the dossier's access
//! rules, components at receipt, electronic results, reuse, housekeeping and bad input.
//! With `MOTCUA_TEST_S3_ENDPOINT` set, the same tests run against an S3-protocol server.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::*;

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The rows of uploads (any state).
async fn upload_rows(app: &TestApp) -> usize {
    use sea_orm::{EntityTrait, PaginatorTrait};
    entity::uploads::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap() as usize
}

async fn objects(app: &TestApp) -> usize {
    app.state.storage.list().await.unwrap().len()
}

/// A dossier filed online by the cast's citizen with its mandatory files; its code.
async fn filed(app: &TestApp, cast: &Cast) -> String {
    let c = app
        .submit_online(&cast.citizen, intake_body(MARITAL, BA_DINH))
        .await;
    c["code"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_citizen_uploads_files_and_files_with_them_then_both_sides_download_them() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let a = pdf("tờ khai");
    let b = pdf("giấy xác nhận");
    let up_a = app
        .upload(&cast.citizen, "Tờ khai đăng ký.pdf", a.clone())
        .await
        .assert_status(201);
    assert_eq!(up_a["sha256"], json!(sha(&a)));
    assert_eq!(up_a["size"], json!(a.len()));
    assert_eq!(up_a["media_type"], json!("application/pdf"));
    // A declared hash that matches is accepted.
    let part = reqwest::multipart::Part::bytes(b.clone()).file_name("xac-nhan.pdf");
    let form = reqwest::multipart::Form::new()
        .text("sha256", sha(&b))
        .part("file", part);
    let up_b = app
        .send(
            app.client
                .post(app.url("/api/v1/uploads"))
                .bearer_auth(&cast.citizen)
                .multipart(form),
        )
        .await
        .assert_status(201);
    let mut body = intake_body(MARITAL, BA_DINH);
    body["documents"] = json!([
        {"kind": "to_khai", "upload_id": up_a["id"]},
        {"kind": "giay_to_khac", "upload_id": up_b["id"]},
    ]);
    let case = app.submit_online(&cast.citizen, body.clone()).await;
    let code = case["code"].as_str().unwrap();
    // An upload is taken once.
    let again = app
        .send(
            app.client
                .post(app.url("/api/v1/cases"))
                .bearer_auth(&cast.citizen)
                .header("idempotency-key", uuid::Uuid::new_v4().to_string())
                .json(&body),
        )
        .await;
    again.assert_problem(422, "validation_failed");

    let list = app
        .get(
            &format!("/api/v1/cases/{code}/documents"),
            Some(&cast.citizen),
        )
        .await
        .assert_status(200);
    let docs = list.as_array().unwrap();
    assert_eq!(docs.len(), 2);
    let d = &docs[0];
    for field in [
        "id",
        "kind",
        "file_name",
        "sha256",
        "size",
        "media_type",
        "digitised",
        "version",
        "uploaded_by",
        "uploaded_at",
    ] {
        assert!(d.get(field).is_some(), "{field} listed");
    }
    assert_eq!(d["file_name"], json!("Tờ khai đăng ký.pdf"));
    assert_eq!(d["digitised"], json!(false));
    assert_eq!(d["version"], json!(1));
    let url = d["content_url"].as_str().unwrap().to_string();

    // The applicant and the reception clerk download it; the bytes are the bytes sent.
    for token in [&cast.citizen, &cast.reception] {
        let r = app
            .send(app.client.get(app.url(&url)).bearer_auth(token))
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.bytes, a);
        assert_eq!(r.headers["content-type"], "application/pdf");
        assert_eq!(r.headers["etag"], format!("\"{}\"", sha(&a)));
        assert!(r.headers.get("content-encoding").is_none());
        let cd = r.headers["content-disposition"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(cd.starts_with("attachment;"), "{cd}");
        assert!(
            cd.contains("filename*=UTF-8''T%E1%BB%9D%20khai%20%C4%91%C4%83ng%20k%C3%BD.pdf"),
            "{cd}"
        );
        assert!(cd.contains("filename=\"To khai dang ky.pdf\""), "{cd}");
    }
    // Conditional and ranged requests.
    let r = app
        .send(
            app.client
                .get(app.url(&url))
                .bearer_auth(&cast.citizen)
                .header("if-none-match", format!("\"{}\"", sha(&a))),
        )
        .await;
    assert_eq!(r.status, 304);
    let r = app
        .send(
            app.client
                .get(app.url(&url))
                .bearer_auth(&cast.citizen)
                .header("range", "bytes=0-7"),
        )
        .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.bytes, b"%PDF-1.4");
    assert_eq!(
        r.headers["content-range"],
        format!("bytes 0-7/{}", a.len()).as_str()
    );
    let r = app
        .send(
            app.client
                .get(app.url(&url))
                .bearer_auth(&cast.citizen)
                .header("range", format!("bytes={}-", a.len() + 10)),
        )
        .await;
    r.assert_problem(416, "range_not_satisfiable");

    // Another citizen: no such dossier, no such file.
    let other = app.token_for("other", "citizen", None, None).await;
    app.get(&format!("/api/v1/cases/{code}/documents"), Some(&other))
        .await
        .assert_problem(404, "case_not_found");
    let r = app
        .send(app.client.get(app.url(&url)).bearer_auth(&other))
        .await;
    r.assert_problem(404, "case_not_found");
    // An upload to another citizen's dossier is a 404 too, and nothing is kept.
    let before = (upload_rows(&app).await, objects(&app).await);
    app.attach(
        &other,
        code,
        &[("kind", "to_khai")],
        "x.pdf",
        pdf("intruder"),
    )
    .await
    .assert_problem(404, "case_not_found");
    assert_eq!((upload_rows(&app).await, objects(&app).await), before);
}

#[tokio::test]
async fn bad_files_are_refused_with_their_codes_and_nothing_is_stored() {
    let app = spawn_app_with(
        TestConfig::default()
            .with("MOTCUA__STORAGE__MAX_FILE_BYTES", "4096")
            .with("MOTCUA__STORAGE__MAX_DOSSIER_BYTES", "8192")
            .with("MOTCUA__STORAGE__MAX_FILES", "3"),
    )
    .await;
    let cast = app.cast().await;
    let mut big = pdf("big");
    big.resize(5000, b' ');
    app.upload(&cast.citizen, "big.pdf", big)
        .await
        .assert_problem(413, "file_too_large");
    // An executable renamed .pdf: the bytes decide.
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec();
    exe.resize(600, 0);
    app.upload(&cast.citizen, "hoa-don.pdf", exe)
        .await
        .assert_problem(415, "unsupported_file_type");
    app.upload(
        &cast.citizen,
        "page.pdf",
        b"<html><script>alert(1)</script>".to_vec(),
    )
    .await
    .assert_problem(415, "unsupported_file_type");
    // XML is a result format only.
    app.upload(
        &cast.citizen,
        "a.xml",
        b"<?xml version=\"1.0\"?><a/>".to_vec(),
    )
    .await
    .assert_problem(415, "unsupported_file_type");
    let part = reqwest::multipart::Part::bytes(pdf("x")).file_name("x.pdf");
    let form = reqwest::multipart::Form::new()
        .text("sha256", "0".repeat(64))
        .part("file", part);
    app.send(
        app.client
            .post(app.url("/api/v1/uploads"))
            .bearer_auth(&cast.citizen)
            .multipart(form),
    )
    .await
    .assert_problem(422, "sha256_mismatch");
    // Not multipart at all.
    app.post("/api/v1/uploads", Some(&cast.citizen), json!({"file": "x"}))
        .await
        .assert_problem(415, "multipart_required");
    assert_eq!(upload_rows(&app).await, 0);
    assert_eq!(objects(&app).await, 0, "refused files leave no object");

    // The metadata-only shape of earlier versions asserted files nobody received.
    let mut body = intake_body(MARITAL, BA_DINH);
    body["documents"] =
        json!([{"kind": "to_khai", "file_name": "a.pdf", "sha256": "a".repeat(64), "size": 10}]);
    app.send(
        app.client
            .post(app.url("/api/v1/cases"))
            .bearer_auth(&cast.citizen)
            .header("idempotency-key", "k-1")
            .json(&body),
    )
    .await
    .assert_problem(422, "upload_required");

    // Path-like and hostile names are kept as metadata only.
    let long = "a".repeat(10_000);
    // A NUL byte cannot be in a multipart header: the body is refused as malformed, and
    // nothing is kept.
    app.upload(&cast.citizen, "a\u{0}b.pdf", pdf("nul"))
        .await
        .assert_problem(400, "invalid_multipart");
    assert_eq!(upload_rows(&app).await, 0);
    assert_eq!(objects(&app).await, 0);
    for name in ["../../etc/passwd", "ả/../b.pdf", long.as_str()] {
        let up = app
            .upload(&cast.citizen, name, pdf(&name[..name.len().min(40)]))
            .await;
        assert_eq!(
            up.status,
            201,
            "{} chars: {}",
            name.chars().count(),
            up.text
        );
        assert_eq!(up.json()["media_type"], "application/pdf");
    }
    let names: Vec<String> = {
        use sea_orm::EntityTrait;
        entity::uploads::Entity::find()
            .all(&app.state.db)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.file_name)
            .collect()
    };
    assert!(names.contains(&"../../etc/passwd".to_string()));
    assert!(names.contains(&"ả/../b.pdf".to_string()));
    assert!(names.iter().any(|n| n.chars().count() == 255));
    if app.state.settings.storage.url.starts_with("file://") {
        // Every object sits under its hash, inside the store's folder.
        let root = app.dir.path().join("files");
        assert!(!app.dir.path().join("etc").exists());
        for o in app.state.storage.list().await.unwrap() {
            assert!(root
                .join("sha256")
                .join(&o.sha256[..2])
                .join(&o.sha256)
                .is_file());
        }
    }

    // More files than a dossier may hold.
    let code = filed(&app, &cast).await;
    let mut last = None;
    for i in 0..3 {
        last = Some(
            app.attach(
                &cast.citizen,
                &code,
                &[("kind", "ban_sao")],
                "b.pdf",
                pdf(&format!("more {i}")),
            )
            .await,
        );
    }
    last.unwrap().assert_problem(422, "too_many_files");
}

#[tokio::test]
async fn receipt_needs_every_mandatory_component_and_a_walk_in_waits_for_its_scans() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    // Online without files: filed, but not receivable.
    let mut body = intake_body(MARITAL, BA_DINH);
    body["documents"] = json!([]);
    let case = app.submit_online(&cast.citizen, body).await;
    let code = case["code"].as_str().unwrap();
    let version = app.case_version(code).await;
    let p = app
        .act(&cast.reception, code, "receive", json!({}))
        .await
        .assert_problem(422, "missing_components");
    assert!(p["missing"].as_array().unwrap().contains(&json!("to_khai")));
    assert_eq!(app.case_version(code).await, version, "nothing changed");
    // The applicant attaches the missing file; the history says so; receipt goes through.
    let r = app
        .attach(
            &cast.citizen,
            code,
            &[("kind", "to_khai")],
            "to-khai.pdf",
            pdf("late"),
        )
        .await
        .assert_status(201);
    assert_eq!(r["case_version"], json!(version + 1));
    let history = app
        .get(&format!("/api/v1/cases/{code}/events"), Some(&cast.citizen))
        .await
        .assert_status(200);
    assert!(history.to_string().contains("attach_document"));
    app.act(&cast.reception, code, "receive", json!({}))
        .await
        .assert_status(200);

    // A walk-in without its scans is filed as submitted.
    let mut walk_in = intake_body(MARITAL, BA_DINH);
    walk_in["documents"] = json!([]);
    let w = app.file(&cast.reception, walk_in).await.assert_status(201);
    assert_eq!(w["status"], "submitted");
    // With them (uploaded by the clerk first) it is received at once, digitised.
    let w = app
        .file(&cast.reception, intake_body(MARITAL, BA_DINH))
        .await
        .assert_status(201);
    assert_eq!(w["status"], "received");
    let docs = app
        .get(
            &format!("/api/v1/cases/{}/documents", w["code"].as_str().unwrap()),
            Some(&cast.reception),
        )
        .await
        .assert_status(200);
    assert!(docs
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["digitised"] == json!(true)));
}

/// Take a dossier from receipt to a decision.
async fn decided(app: &TestApp, cast: &Cast, code: &str) {
    for (who, action) in [
        (&cast.reception, "receive"),
        (&cast.clerk, "claim"),
        (&cast.clerk, "start_processing"),
        (&cast.clerk, "send_for_approval"),
        (&cast.head, "approve"),
    ] {
        app.act(who, code, action, json!({}))
            .await
            .assert_status(200);
    }
}

#[tokio::test]
async fn an_electronic_result_is_a_file_the_applicant_downloads() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let code = filed(&app, &cast).await;
    decided(&app, &cast, &code).await;
    app.act(
        &cast.reception,
        &code,
        "return_result",
        json!({"result_delivery": "electronic"}),
    )
    .await
    .assert_problem(422, "result_file_required");
    let tracking = format!("/api/v1/tracking/{code}?id_last4=4567");
    assert_eq!(
        app.get(&tracking, None).await.assert_status(200)["result_ready"],
        json!(false)
    );
    // Only the handling unit issues the result; a signed XML is accepted as one.
    app.attach(
        &cast.citizen,
        &code,
        &[("kind", "result")],
        "kq.pdf",
        pdf("forged"),
    )
    .await
    .assert_problem(403, "forbidden");
    let xml = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><KetQua><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/></KetQua>".to_vec();
    let r = app
        .attach(
            &cast.clerk,
            &code,
            &[("kind", "result")],
            "Giấy xác nhận.xml",
            xml.clone(),
        )
        .await
        .assert_status(201);
    assert_eq!(r["media_type"], "application/xml");
    assert_eq!(r["digitised"], json!(true));
    let t = app.get(&tracking, None).await.assert_status(200);
    assert_eq!(t["result_ready"], json!(true));
    assert!(
        !t.to_string().contains("content"),
        "tracking never gives the file"
    );
    app.act(
        &cast.reception,
        &code,
        "return_result",
        json!({"result_delivery": "electronic"}),
    )
    .await
    .assert_status(200);
    let url = r["content_url"].as_str().unwrap();
    let got = app
        .send(app.client.get(app.url(url)).bearer_auth(&cast.citizen))
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.bytes, xml);
    // A closed dossier takes nothing more.
    app.attach(
        &cast.clerk,
        &code,
        &[("kind", "result")],
        "kq2.pdf",
        pdf("late"),
    )
    .await
    .assert_problem(409, "case_closed");
}

#[tokio::test]
async fn a_replacement_is_a_new_version_and_the_old_one_stays() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let code = filed(&app, &cast).await;
    let docs = app
        .get(
            &format!("/api/v1/cases/{code}/documents"),
            Some(&cast.citizen),
        )
        .await
        .assert_status(200);
    let old = docs[0]["id"].as_str().unwrap().to_string();
    let r = app
        .attach(
            &cast.citizen,
            &code,
            &[("replaces", old.as_str())],
            "moi.pdf",
            pdf("new"),
        )
        .await
        .assert_status(201);
    assert_eq!(r["version"], json!(2));
    assert_eq!(r["replaces"], json!(old));
    assert_eq!(r["kind"], docs[0]["kind"]);
    let docs = app
        .get(
            &format!("/api/v1/cases/{code}/documents"),
            Some(&cast.citizen),
        )
        .await
        .assert_status(200);
    let old_doc = docs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == json!(old))
        .unwrap();
    assert_eq!(old_doc["superseded"], json!(true));
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let audit = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::Action.eq("replace_document"))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
}

#[tokio::test]
async fn a_digitised_document_is_reused_in_a_later_dossier() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let mut body = intake_body(MARITAL, BA_DINH);
    body["documents"] = json!([]);
    let case = app.submit_online(&cast.citizen, body).await;
    let code = case["code"].as_str().unwrap();
    // The citizen brings the paper to the counter; the clerk scans it.
    app.attach(
        &cast.reception,
        code,
        &[("kind", "to_khai"), ("digitised", "true")],
        "scan.pdf",
        pdf("scan"),
    )
    .await
    .assert_status(201);
    let mine = app
        .get("/api/v1/me/documents", Some(&cast.citizen))
        .await
        .assert_status(200);
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let reuse = mine[0]["id"].clone();
    let mut later = intake_body(MARITAL, BA_DINH);
    later["documents"] = json!([{"kind": "to_khai", "reuse_document_id": reuse}]);
    let second = app.submit_online(&cast.citizen, later.clone()).await;
    let docs = app
        .get(
            &format!(
                "/api/v1/cases/{}/documents",
                second["code"].as_str().unwrap()
            ),
            Some(&cast.citizen),
        )
        .await
        .assert_status(200);
    assert_eq!(docs[0]["reused_from"], reuse);
    assert_eq!(docs[0]["digitised"], json!(true));
    // Nobody else reuses it.
    let other = app.token_for("other", "citizen", None, None).await;
    app.send(
        app.client
            .post(app.url("/api/v1/cases"))
            .bearer_auth(&other)
            .header("idempotency-key", "k-2")
            .json(&later),
    )
    .await
    .assert_problem(422, "validation_failed");
    // The digitisation indicators count it: one digitised component, reused once; both
    // dossiers received... none yet (online, waiting), so only the documents count.
    app.act(&cast.reception, code, "receive", json!({}))
        .await
        .assert_status(200);
    let sup = app.token_for("sup", "supervisor", None, Some(HN)).await;
    let from = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let to = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let r = app
        .send(
            app.client
                .get(app.url("/api/v1/stats/indicators"))
                .query(&[("from", from.as_str()), ("to", to.as_str())])
                .bearer_auth(&sup),
        )
        .await
        .assert_status(200);
    let dg = &r["digitisation"];
    assert_eq!(dg["digitised_documents"], json!(1), "{dg}");
    assert_eq!(dg["digitised_reused"], json!(1), "{dg}");
    assert_eq!(dg["digitised_reuse_rate"], json!(1.0), "{dg}");
    assert_eq!(dg["received"], json!(1), "{dg}");
    assert_eq!(dg["components_digitised_rate"], json!(1.0), "{dg}");
    assert_eq!(dg["results_digitised_rate"], Value::Null, "{dg}");
    // Another province's supervisor counts that province's scans only (the document row
    // carries its dossier's province: migration 26).
    let hcm = app.token_for("sup79", "supervisor", None, Some("79")).await;
    let r = app
        .send(
            app.client
                .get(app.url("/api/v1/stats/indicators"))
                .query(&[("from", from.as_str()), ("to", to.as_str())])
                .bearer_auth(&hcm),
        )
        .await
        .assert_status(200);
    assert_eq!(r["digitisation"]["digitised_documents"], json!(0), "{r}");
    // A citizen may not mark a file digitised.
    app.attach(
        &cast.citizen,
        code,
        &[("kind", "ban_sao"), ("digitised", "true")],
        "x.pdf",
        pdf("self"),
    )
    .await
    .assert_problem(422, "validation_failed");
}

#[tokio::test]
async fn unattached_uploads_go_after_a_day_and_verify_finds_damage() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let code = filed(&app, &cast).await;
    let kept = objects(&app).await;
    let lone = app
        .upload(&cast.citizen, "lone.pdf", pdf("lone"))
        .await
        .assert_status(201);
    assert_eq!(objects(&app).await, kept + 1);
    let st = &app.state;
    let now = chrono::Utc::now();
    // Not yet a day old: kept.
    let n =
        motcua::services::documents::clean_orphans(&st.db, &st.storage, &st.settings.storage, now)
            .await
            .unwrap();
    assert_eq!(n, 0);
    let n = motcua::services::documents::clean_orphans(
        &st.db,
        &st.storage,
        &st.settings.storage,
        now + chrono::Duration::hours(25),
    )
    .await
    .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        objects(&app).await,
        kept,
        "the lone upload's object is gone"
    );
    assert!(!st
        .storage
        .exists(lone["sha256"].as_str().unwrap())
        .await
        .unwrap());
    // The dossier's files stay and download.
    let docs = app
        .get(
            &format!("/api/v1/cases/{code}/documents"),
            Some(&cast.citizen),
        )
        .await
        .assert_status(200);
    let r = app
        .send(
            app.client
                .get(app.url(docs[0]["content_url"].as_str().unwrap()))
                .bearer_auth(&cast.citizen),
        )
        .await;
    assert_eq!(r.status, 200);

    let v = motcua::services::documents::verify(&st.db, &st.storage)
        .await
        .unwrap();
    assert_eq!(v.checked, kept);
    assert!(
        v.mismatched.is_empty() && v.missing.is_empty() && v.orphans.is_empty(),
        "{v:?}"
    );
    if st.settings.storage.url.starts_with("file://") {
        // Damage one object on disk: verify names it.
        let h = docs[0]["sha256"].as_str().unwrap();
        let path = app.dir.path().join("files/sha256").join(&h[..2]).join(h);
        std::fs::write(&path, b"%PDF-1.4 tampered").unwrap();
        let v = motcua::services::documents::verify(&st.db, &st.storage)
            .await
            .unwrap();
        assert_eq!(v.mismatched, vec![h.to_string()]);
    }
}

#[tokio::test]
async fn a_storage_outage_is_a_503_and_leaves_no_row() {
    let app = spawn_app().await;
    if !app.state.settings.storage.url.starts_with("file://") {
        return;
    }
    let cast = app.cast().await;
    let code = filed(&app, &cast).await;
    let version = app.case_version(&code).await;
    let files = app.dir.path().join("files");
    let aside = app.dir.path().join("files-away");
    std::fs::rename(&files, &aside).unwrap();
    // The store's folder is now a file: nothing can be written under it.
    std::fs::write(&files, b"not a folder").unwrap();
    let before = upload_rows(&app).await;
    app.upload(&cast.citizen, "a.pdf", pdf("outage"))
        .await
        .assert_problem(503, "storage_unavailable");
    app.attach(
        &cast.citizen,
        &code,
        &[("kind", "ban_sao")],
        "b.pdf",
        pdf("outage 2"),
    )
    .await
    .assert_problem(503, "storage_unavailable");
    assert_eq!(upload_rows(&app).await, before);
    assert_eq!(app.case_version(&code).await, version);
}

/// `motcua storage verify`, run as the real binary on the test's database and store.
fn verify_cli(app: &TestApp) -> (bool, String) {
    let st = &app.state.settings.storage;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(["storage", "verify", "--database-url", &app.database_url])
        .env("MOTCUA__LOG__LEVEL", "error")
        .env("MOTCUA__STORAGE__URL", &st.url)
        .env("MOTCUA__STORAGE__S3_ENDPOINT", &st.s3_endpoint)
        .env("MOTCUA__STORAGE__S3_ACCESS_KEY_ID", &st.s3_access_key_id)
        .env("MOTCUA__STORAGE__S3_SECRET_ACCESS_KEY", "test")
        .output()
        .expect("run motcua");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test]
async fn storage_verify_on_the_command_line_reports_what_it_finds() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let code = filed(&app, &cast).await;
    let (ok, out) = verify_cli(&app);
    assert!(ok, "{out}");
    assert!(out.contains("0 mismatched, 0 missing, 0 orphans"), "{out}");
    // An upload nobody took is an object a row still names (not an orphan) until the
    // cleanup deletes both; an object with no row at all is reported as an orphan.
    let up = app
        .upload(&cast.citizen, "x.pdf", pdf("orphan"))
        .await
        .assert_status(201);
    {
        use sea_orm::EntityTrait;
        entity::uploads::Entity::delete_by_id(
            uuid::Uuid::parse_str(up["id"].as_str().unwrap()).unwrap(),
        )
        .exec(&app.state.db)
        .await
        .unwrap();
    }
    let (ok, out) = verify_cli(&app);
    assert!(ok, "orphans alone are not damage: {out}");
    assert!(
        out.contains(&format!("orphan   {}", up["sha256"].as_str().unwrap())),
        "{out}"
    );
    if app.state.settings.storage.url.starts_with("file://") {
        let docs = app
            .get(
                &format!("/api/v1/cases/{code}/documents"),
                Some(&cast.citizen),
            )
            .await
            .assert_status(200);
        let h = docs[0]["sha256"].as_str().unwrap();
        std::fs::remove_file(app.dir.path().join("files/sha256").join(&h[..2]).join(h)).unwrap();
        let (ok, out) = verify_cli(&app);
        assert!(!ok, "{out}");
        assert!(out.contains(&format!("missing  {h}")), "{out}");
    }
}

/// A body sent in `parts` pieces over about `secs` seconds, as a slow link sends it.
fn slow_body(bytes: Vec<u8>, parts: usize, secs: f64) -> reqwest::Body {
    use futures::StreamExt as _;
    let size = bytes.len().div_ceil(parts);
    let pause = std::time::Duration::from_secs_f64(secs / parts as f64);
    let chunks: Vec<Vec<u8>> = bytes.chunks(size).map(<[u8]>::to_vec).collect();
    let stream = futures::stream::iter(chunks).then(move |c| async move {
        tokio::time::sleep(pause).await;
        Ok::<_, std::io::Error>(c)
    });
    reqwest::Body::wrap_stream(stream)
}

/// A file takes as long as the client's link needs: a request that sends files has
/// `storage.upload_timeout_secs`, every other one `server.request_timeout_secs` (here 1 s).
#[tokio::test]
async fn an_upload_on_a_slow_link_has_its_own_time_limit() {
    let app =
        spawn_app_with(TestConfig::default().with("MOTCUA__SERVER__REQUEST_TIMEOUT_SECS", "1"))
            .await;
    let citizen = app.token_for("citizen", "citizen", None, None).await;
    let boundary = "motcua-slow-link";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"to-khai.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend(pdf("slow link"));
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let r = app
        .send(
            app.client
                .post(app.url("/api/v1/uploads"))
                .bearer_auth(&citizen)
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(slow_body(body, 5, 2.0)),
        )
        .await;
    r.assert_status(201);

    // The same pace for a dossier's JSON is past its limit: 408, nothing filed.
    let json = serde_json::to_vec(&intake_body(BIRTH, BA_DINH)).unwrap();
    let r = app
        .send(
            app.client
                .post(app.url("/api/v1/cases"))
                .bearer_auth(&citizen)
                .header("content-type", "application/json")
                .header("idempotency-key", uuid::Uuid::new_v4().to_string())
                .body(slow_body(json, 5, 2.0)),
        )
        .await;
    r.assert_problem(408, "request_timeout");
    assert_eq!(upload_rows(&app).await, 1, "only the upload");
}
