//! Telling applicants by e-mail and SMS. The SMS gateway is a receiver in the test; e-mail
//! goes to the real SMTP server `.ci/smtp` starts (`MOTCUA_TEST_SMTP_URL`, its maildir in
//! `MOTCUA_TEST_SMTP_MAILDIR`), or, without one, to a closed port: then the test checks that
//! a mail server that is down delays the e-mail and nothing else.

use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::helpers::*;

#[derive(Default)]
struct Gateway {
    fail: bool,
    /// (query string, auth header) of each accepted message.
    got: Vec<(std::collections::HashMap<String, String>, Option<String>)>,
}

async fn gateway() -> (String, Arc<Mutex<Gateway>>) {
    use axum::extract::{Query, State};
    use axum::http::{HeaderMap, StatusCode};
    let shared: Arc<Mutex<Gateway>> = Arc::default();
    let app = axum::Router::new()
        .route(
            "/send",
            axum::routing::post(
                |State(g): State<Arc<Mutex<Gateway>>>,
                 headers: HeaderMap,
                 Query(q): Query<std::collections::HashMap<String, String>>| async move {
                    let mut g = g.lock().unwrap();
                    if g.fail {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let key = headers
                        .get("x-api-key")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    g.got.push((q, key));
                    StatusCode::OK
                },
            ),
        )
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, shared)
}

/// The messages the SMTP server stored, parsed: (to, subject, text, html).
fn received_mail(maildir: &str) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir(format!("{maildir}/new")) else {
        return out;
    };
    // Python's Maildir names a message `{secs}.M{usecs}P{pid}Q{n}.{host}`, with `n` counting
    // the messages that mailbox delivered and `usecs` not zero-padded: sorting the names as
    // text puts `M99999` after `M123456`. Order by the counter, which is the arrival order.
    let arrival = |p: &std::path::Path| -> u64 {
        let name = p.file_name().unwrap().to_string_lossy();
        name.split_once('Q')
            .and_then(|(_, rest)| rest.split('.').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(u64::MAX)
    };
    let mut paths: Vec<_> = dir.flatten().map(|e| e.path()).collect();
    paths.sort_by_key(|p| (arrival(p), p.clone()));
    for p in paths {
        let raw = std::fs::read(&p).unwrap();
        let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let to = m
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_string();
        out.push((
            to,
            m.subject().unwrap_or_default().to_string(),
            m.body_text(0).unwrap_or_default().to_string(),
            m.body_html(0).unwrap_or_default().to_string(),
        ));
    }
    out
}

async fn round(
    app: &TestApp,
    senders: &motcua::services::tell::Senders,
    at: chrono::DateTime<Utc>,
) -> motcua::services::tell::TellReport {
    feed_settled(app).await;
    motcua::services::tell::tell_once(
        &app.state.db,
        &app.state.data_keys,
        senders,
        &app.state.settings.notify,
        &app.state.settings.web.public_url,
        at,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn applicants_are_told_by_email_and_sms_and_a_server_that_is_down_delays_only_its_message() {
    let smtp = std::env::var("MOTCUA_TEST_SMTP_URL")
        .ok()
        .filter(|s| !s.is_empty());
    let maildir = std::env::var("MOTCUA_TEST_SMTP_MAILDIR").ok();
    let (gw, g) = gateway().await;
    let app = spawn_app_with(
        TestConfig::default()
            // A closed port when there is no SMTP server: e-mail cannot go out.
            .with(
                "MOTCUA__NOTIFY__SMTP_URL",
                smtp.as_deref().unwrap_or("smtp://127.0.0.1:1"),
            )
            .with(
                "MOTCUA__NOTIFY__EMAIL_FROM",
                "Một cửa Hà Nội <no-reply@dichvucong.hanoi.example>",
            )
            .with(
                "MOTCUA__NOTIFY__SMS_URL",
                &format!("{gw}/send?to={{phone}}&msg={{text}}"),
            )
            .with(
                "MOTCUA__NOTIFY__SMS_AUTH_HEADER",
                "X-Api-Key: gateway-key-123",
            )
            .with("MOTCUA__NOTIFY__MAX_ATTEMPTS", "3")
            .with("MOTCUA__NOTIFY__TIMEOUT_SECS", "2")
            .with(
                "MOTCUA__WEB__PUBLIC_URL",
                "https://dichvucong.hanoi.example",
            ),
    )
    .await;
    let senders =
        motcua::services::tell::Senders::from_settings(&app.state.settings.notify).unwrap();
    assert_eq!(senders.channels(), vec!["email", "sms"]);
    let cast = app.cast().await;
    let code = app
        .submit_online(&cast.citizen, intake_body(MARITAL, BA_DINH))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    // Received before the messages were switched on: never told (the first round starts
    // at the end of the feed).
    let before = app
        .file(&cast.reception, intake_body(MARITAL, BA_DINH))
        .await
        .assert_status(201)["code"]
        .as_str()
        .unwrap()
        .to_string();
    // Filed: nothing to tell yet (the citizen filed it themselves).
    let now = Utc::now();
    assert_eq!(round(&app, &senders, now).await, Default::default());

    // Received: told with the appointment.
    let received = app
        .act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_status(200);
    let r = round(&app, &senders, now).await;
    let appointment =
        chrono::DateTime::parse_from_rfc3339(received["appointment_at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&Utc);
    let shown = motcua::domain::display::date_time(appointment);
    {
        let g = g.lock().unwrap();
        assert_eq!(g.got.len(), 1);
        let (q, key) = &g.got[0];
        assert_eq!(q["to"], "0912345678");
        assert!(
            q["msg"].contains(&code) && q["msg"].contains(&shown),
            "{}",
            q["msg"]
        );
        assert!(q["msg"].chars().count() <= 300);
        assert_eq!(key.as_deref(), Some("gateway-key-123"));
    }
    let told = app
        .get(
            &format!("/api/v1/cases/{code}/notifications"),
            Some(&cast.citizen),
        )
        .await
        .assert_status(200);
    let by_channel = |v: &Value, ch: &str| -> Vec<Value> {
        v.as_array()
            .unwrap()
            .iter()
            .filter(|n| n["channel"] == ch)
            .cloned()
            .collect()
    };
    let sms = by_channel(&told, "sms");
    assert_eq!(
        (sms.len(), &sms[0]["kind"], &sms[0]["status"]),
        (1, &json!("received"), &json!("sent"))
    );
    let email = by_channel(&told, "email");
    assert_eq!(email.len(), 1);
    if let (Some(_), Some(dir)) = (&smtp, &maildir) {
        assert_eq!((r.sent, r.retried), (2, 0), "{r:?}");
        assert_eq!(email[0]["status"], "sent");
        let mail = received_mail(dir);
        assert_eq!(mail.len(), 1, "{mail:?}");
        let (to, subject, text, html) = &mail[0];
        assert_eq!(to, "an@example.vn");
        assert!(
            subject.contains(&code)
                && subject.contains("đã được tiếp nhận")
                && subject.contains("has been received"),
            "{subject}"
        );
        assert!(
            text.contains("Kính gửi Ông/Bà Nguyễn Văn An") && text.contains("Dear Nguyễn Văn An"),
            "{text}"
        );
        assert!(text.contains(&shown) && html.contains(&shown));
        assert!(html.contains("<section lang=\"vi\">") && html.contains("<section lang=\"en\">"));
        assert!(text.contains(&format!(
            "https://dichvucong.hanoi.example/track?code={code}"
        )));
    } else {
        // The mail server is down: the e-mail waits and says why; the SMS went; the
        // dossier was received all the same.
        assert_eq!((r.sent, r.retried), (1, 1), "{r:?}");
        assert_eq!(email[0]["status"], "pending");
        assert!(
            email[0]["last_error"]
                .as_str()
                .unwrap()
                .contains("mail server"),
            "{}",
            email[0]
        );
        assert_eq!(received["status"], "received");
        eprintln!("no MOTCUA_TEST_SMTP_URL: e-mail checked against a server that is down (.ci/smtp runs a real one)");
    }

    // A supplement request names what to complete; the gateway is down meanwhile.
    app.act(&cast.clerk, &code, "start_processing", json!({}))
        .await
        .assert_status(200);
    g.lock().unwrap().fail = true;
    app.act(
        &cast.clerk,
        &code,
        "request_supplement",
        json!({"reason": "Thiếu tờ khai có chữ ký", "components": ["to_khai"]}),
    )
    .await
    .assert_status(200);
    let r = round(&app, &senders, now + Duration::seconds(5)).await;
    assert!(r.retried >= 1, "{r:?}");
    let told = app
        .get(
            &format!("/api/v1/cases/{code}/notifications"),
            Some(&cast.clerk),
        )
        .await
        .assert_status(200);
    let pending_sms: Vec<Value> = by_channel(&told, "sms")
        .into_iter()
        .filter(|n| n["kind"] == "supplement_requested")
        .collect();
    assert_eq!(pending_sms[0]["status"], "pending");
    assert!(pending_sms[0]["last_error"]
        .as_str()
        .unwrap()
        .contains("503"));
    g.lock().unwrap().fail = false;
    let r = round(&app, &senders, now + Duration::seconds(60)).await;
    assert!(r.sent >= 1, "{r:?}");
    {
        let g = g.lock().unwrap();
        assert_eq!(g.got.len(), 2, "the retry sent it once");
        let msg = &g.got[1].0["msg"];
        let to_khai = "Tờ khai";
        assert!(
            msg.contains("Thiếu tờ khai có chữ ký")
                && msg.to_lowercase().contains(&to_khai.to_lowercase()),
            "{msg}"
        );
    }
    if let Some(dir) = &maildir {
        let mail = received_mail(dir);
        assert_eq!(mail.len(), 2);
        assert!(mail[1].1.contains("cần bổ sung"), "{}", mail[1].1);
        assert!(mail[1].2.contains("Thiếu tờ khai có chữ ký"));
    }

    // The dossier's page shows the applicant what they were told (a browser-like client).
    let browser = crate::web::browser();
    crate::web::sign_in(
        &app,
        &browser,
        "citizen",
        "citizen-password-123",
        &format!("/cases/{code}"),
    )
    .await;
    let page = browser
        .get(app.url(&format!("/cases/{code}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let table = &page[page.find("id=\"messages\"").expect("the messages table")..];
    assert!(
        table.contains("Cần bổ sung") && table.contains("SMS") && table.contains("Đã gửi"),
        "{table}"
    );
    assert!(
        !page.contains("id=\"national-sync\""),
        "not synchronised here: no line"
    );

    // Read again, nothing is sent twice; steps the applicant is not told of make nothing.
    assert_eq!(
        round(&app, &senders, now + Duration::seconds(120))
            .await
            .sent,
        0
    );
    assert_eq!(g.lock().unwrap().got.len(), 2);

    // Without an address on the dossier, no message on that channel.
    let mut body = intake_body(MARITAL, BA_DINH);
    body["applicant"]["email"] = Value::Null;
    let walk_in = app.file(&cast.reception, body).await.assert_status(201)["code"]
        .as_str()
        .unwrap()
        .to_string();
    round(&app, &senders, now + Duration::seconds(180)).await;
    let told = app
        .get(
            &format!("/api/v1/cases/{walk_in}/notifications"),
            Some(&cast.reception),
        )
        .await
        .assert_status(200);
    let channels: Vec<&str> = told
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["channel"].as_str().unwrap())
        .collect();
    assert_eq!(channels, vec!["sms"]);

    let told_before = app
        .get(
            &format!("/api/v1/cases/{before}/notifications"),
            Some(&cast.reception),
        )
        .await
        .assert_status(200);
    assert_eq!(told_before, json!([]));

    // An instance that leased a message and died before sending it: the message waits out
    // the lease, then goes once.
    let mut body = intake_body(MARITAL, BA_DINH);
    body["applicant"]["email"] = Value::Null;
    let late = app.file(&cast.reception, body).await.assert_status(201)["code"]
        .as_str()
        .unwrap()
        .to_string();
    feed_settled(&app).await;
    let texts = g.lock().unwrap().got.len();
    let t0 = now + Duration::seconds(240);
    motcua::services::tell::collect(&app.state.db, &senders.channels(), t0)
        .await
        .unwrap();
    {
        let txn = motcua::db::begin_write(&app.state.db).await.unwrap();
        let due = motcua::repo::notifications::due(&txn, t0, 64)
            .await
            .unwrap();
        let mine: Vec<i64> = due
            .iter()
            .filter(|n| n.case_code == late)
            .map(|n| n.id)
            .collect();
        assert_eq!(mine.len(), 1, "{due:?}");
        motcua::repo::notifications::lease(&txn, mine, t0 + Duration::seconds(120))
            .await
            .unwrap();
        txn.commit().await.unwrap();
    }
    assert_eq!(
        round(&app, &senders, t0 + Duration::seconds(60)).await.sent,
        0,
        "still leased"
    );
    assert_eq!(
        round(&app, &senders, t0 + Duration::seconds(121))
            .await
            .sent,
        1
    );
    assert_eq!(
        round(&app, &senders, t0 + Duration::seconds(600))
            .await
            .sent,
        0
    );
    assert_eq!(g.lock().unwrap().got.len(), texts + 1, "sent once");

    // Another citizen sees nothing of it.
    let other = app.token_for("other.citizen", "citizen", None, None).await;
    app.get(&format!("/api/v1/cases/{code}/notifications"), Some(&other))
        .await
        .assert_problem(404, "case_not_found");
}

/// A TLS mail server `.ci/smtp` started, if any: (URL, the CA file that signed its certificate,
/// its maildir), from `MOTCUA_TEST_SMTP{infix}_URL`, `MOTCUA_TEST_SMTP_CA` and
/// `MOTCUA_TEST_SMTP{infix}_MAILDIR` (infix `_STARTTLS`, or `S` for smtps).
fn tls_server(infix: &str) -> Option<(String, String, String)> {
    match (
        std::env::var(format!("MOTCUA_TEST_SMTP{infix}_URL")),
        std::env::var("MOTCUA_TEST_SMTP_CA"),
        std::env::var(format!("MOTCUA_TEST_SMTP{infix}_MAILDIR")),
    ) {
        (Ok(url), Ok(ca), Ok(dir)) if !url.is_empty() => Some((url, ca, dir)),
        _ => None,
    }
}

/// Every step the applicant is told of, end to end: received, the apology with its new date
/// (Form 04), the payment asked, the result ready. E-mail goes to the SMTP server `.ci/smtp`
/// starts with STARTTLS required (`MOTCUA_TEST_SMTP_STARTTLS_URL`), whose certificate is signed
/// by a CA of the test's own (`MOTCUA_TEST_SMTP_CA`): without that CA in
/// `notify.smtp_ca_file` the certificate is refused and the e-mail waits; with it, it goes.
/// Without that server, the SMS half runs and the e-mail half is skipped.
#[tokio::test]
async fn every_public_step_is_told_end_to_end_and_email_goes_over_starttls() {
    let tls = tls_server("_STARTTLS");
    let (gw, g) = gateway().await;
    let mut config = TestConfig::default()
        .with(
            "MOTCUA__NOTIFY__SMS_URL",
            &format!("{gw}/send?to={{phone}}&msg={{text}}"),
        )
        .with("MOTCUA__NOTIFY__MAX_ATTEMPTS", "3")
        .with("MOTCUA__NOTIFY__TIMEOUT_SECS", "5");
    if let Some((url, ca, _)) = &tls {
        config = config
            .with("MOTCUA__NOTIFY__SMTP_URL", url)
            .with("MOTCUA__NOTIFY__SMTP_CA_FILE", ca);
    }
    let app = spawn_app_with(config).await;

    // A CA file that is missing or is not PEM is a configuration error, said at start.
    let mut bad = app.state.settings.notify.clone();
    bad.smtp_url = "smtp://localhost:2525".to_string().into();
    bad.smtp_ca_file = "/nonexistent/ca.pem".into();
    let err = motcua::services::tell::Senders::from_settings(&bad)
        .err()
        .expect("a missing CA file");
    assert!(err.to_string().contains("smtp_ca_file"), "{err}");
    let not_pem = std::env::temp_dir().join(format!("motcua-not-pem-{}", std::process::id()));
    std::fs::write(
        &not_pem,
        "-----BEGIN CERTIFICATE-----\nnot base64 @@@\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    bad.smtp_ca_file = not_pem.to_string_lossy().into_owned();
    let err = motcua::services::tell::Senders::from_settings(&bad)
        .err()
        .expect("a CA file that is not PEM");
    assert!(err.to_string().contains("smtp_ca_file"), "{err}");
    let _ = std::fs::remove_file(&not_pem);

    let senders =
        motcua::services::tell::Senders::from_settings(&app.state.settings.notify).unwrap();
    let cast = app.cast().await;
    let code = app
        .submit_online(&cast.citizen, intake_body(MARITAL, BA_DINH))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let now = Utc::now();
    assert_eq!(round(&app, &senders, now).await, Default::default());
    let texts = |g: &Arc<Mutex<Gateway>>| -> Vec<String> {
        g.lock()
            .unwrap()
            .got
            .iter()
            .map(|(q, _)| q["msg"].clone())
            .collect()
    };

    // Received. With TLS configured, first a sender that does not trust the test's CA: the
    // server's certificate is refused, the e-mail waits with the reason, the SMS goes.
    app.act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_status(200);
    if let Some((url, _, dir)) = &tls {
        let mut untrusting = app.state.settings.notify.clone();
        untrusting.smtp_ca_file = String::new();
        let untrusting = motcua::services::tell::Senders::from_settings(&untrusting).unwrap();
        let r = round(&app, &untrusting, now).await;
        assert_eq!((r.sent, r.retried), (1, 1), "{r:?}");
        let told = app
            .get(
                &format!("/api/v1/cases/{code}/notifications"),
                Some(&cast.reception),
            )
            .await
            .assert_status(200);
        let email = told
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["channel"] == "email")
            .unwrap()
            .clone();
        assert_eq!(email["status"], "pending");
        let why = email["last_error"].as_str().unwrap().to_lowercase();
        assert!(
            why.contains("mail server") && why.contains("certificate"),
            "{why}"
        );
        assert!(
            received_mail(dir).is_empty(),
            "nothing went in clear to {url}"
        );
    }
    let r = round(&app, &senders, now + Duration::seconds(10)).await;
    assert!(r.sent >= 1, "{r:?}");

    // Late: the apology with the new appointment.
    let row = app.case_row(&code).await;
    let new_date = row.due_at.unwrap() + Duration::days(3);
    app.act(
        &cast.clerk,
        &code,
        "apologize_and_extend",
        json!({"reason": "Cần xác minh thêm với cơ quan khác", "new_appointment_at": new_date}),
    )
    .await
    .assert_status(200);
    round(&app, &senders, now + Duration::seconds(20)).await;

    // A payment asked, then paid.
    app.act(&cast.clerk, &code, "start_processing", json!({}))
        .await
        .assert_status(200);
    app.act(
        &cast.clerk,
        &code,
        "request_payment",
        json!({"amount_vnd": 1250000}),
    )
    .await
    .assert_status(200);
    round(&app, &senders, now + Duration::seconds(30)).await;
    app.act(
        &cast.reception,
        &code,
        "confirm_payment",
        json!({"payment_channel": "cash"}),
    )
    .await
    .assert_status(200);

    // Decided: the result is ready.
    app.act(&cast.clerk, &code, "send_for_approval", json!({}))
        .await
        .assert_status(200);
    app.act(&cast.head, &code, "approve", json!({}))
        .await
        .assert_status(200);
    round(&app, &senders, now + Duration::seconds(40)).await;
    // Paying and the steps in between are not told: one message per told step.
    assert_eq!(
        round(&app, &senders, now + Duration::seconds(50))
            .await
            .sent,
        0
    );

    let new_shown = motcua::domain::display::date_time(new_date);
    let sms = texts(&g);
    assert_eq!(sms.len(), 4, "{sms:#?}");
    assert!(sms[0].contains("đã được tiếp nhận"), "{}", sms[0]);
    assert!(
        sms[1].contains("xin lỗi")
            && sms[1].contains(&new_shown)
            && sms[1].contains("Cần xác minh thêm với cơ quan khác"),
        "{}",
        sms[1]
    );
    assert!(
        sms[2].contains("nộp phí") && sms[2].contains("1.250.000"),
        "{}",
        sms[2]
    );
    assert!(sms[3].contains("đã có kết quả"), "{}", sms[3]);

    let told = app
        .get(
            &format!("/api/v1/cases/{code}/notifications"),
            Some(&cast.citizen),
        )
        .await
        .assert_status(200);
    let kinds = |ch: &str| -> Vec<(String, String)> {
        told.as_array()
            .unwrap()
            .iter()
            .filter(|n| n["channel"] == ch)
            .map(|n| {
                (
                    n["kind"].as_str().unwrap().to_string(),
                    n["status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let all_sent = |kinds: &[&str]| -> Vec<(String, String)> {
        kinds
            .iter()
            .map(|k| (k.to_string(), "sent".to_string()))
            .collect()
    };
    let order = ["received", "apology", "payment_requested", "result_ready"];
    assert_eq!(kinds("sms"), all_sent(&order));

    let Some((_, _, dir)) = &tls else {
        eprintln!("no MOTCUA_TEST_SMTP_STARTTLS_URL: the e-mail half is skipped (.ci/smtp runs a STARTTLS server)");
        return;
    };
    assert_eq!(kinds("email"), all_sent(&order));
    let mail = received_mail(dir);
    assert_eq!(mail.len(), 4, "{mail:#?}");
    let subjects: Vec<&str> = mail.iter().map(|m| m.1.as_str()).collect();
    assert!(subjects[0].contains("has been received"), "{subjects:?}");
    assert!(
        subjects[1].contains("Thư xin lỗi") && subjects[1].contains("Apology"),
        "{subjects:?}"
    );
    assert!(subjects[2].contains("payment requested"), "{subjects:?}");
    assert!(subjects[3].contains("is ready"), "{subjects:?}");
    let (to, _, text, html) = &mail[1];
    assert_eq!(to, "an@example.vn");
    assert!(
        text.contains(&new_shown) && html.contains(&new_shown),
        "the apology gives the new date: {text}"
    );
    assert!(mail[2].2.contains("1.250.000") && mail[2].3.contains("1.250.000"));
}

/// `smtps://`: TLS from the first byte, to the server `.ci/smtp` starts for it
/// (`MOTCUA_TEST_SMTPS_URL`), its certificate signed by the test's CA. Without that server,
/// only the sender's configuration is checked.
#[tokio::test]
async fn email_goes_over_tls_from_the_start_with_smtps() {
    let smtps = tls_server("S");
    let mut config = TestConfig::default().with("MOTCUA__NOTIFY__TIMEOUT_SECS", "5");
    config = match &smtps {
        Some((url, ca, _)) => config
            .with("MOTCUA__NOTIFY__SMTP_URL", url)
            .with("MOTCUA__NOTIFY__SMTP_CA_FILE", ca),
        None => config.with("MOTCUA__NOTIFY__SMTP_URL", "smtps://localhost:1"),
    };
    let app = spawn_app_with(config).await;
    let senders =
        motcua::services::tell::Senders::from_settings(&app.state.settings.notify).unwrap();
    assert_eq!(senders.channels(), vec!["email"]);
    let Some((_, _, dir)) = &smtps else {
        eprintln!("no MOTCUA_TEST_SMTPS_URL: smtps checked as configuration only (.ci/smtp runs a server)");
        return;
    };
    let cast = app.cast().await;
    let code = app
        .submit_online(&cast.citizen, intake_body(MARITAL, BA_DINH))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let now = Utc::now();
    assert_eq!(round(&app, &senders, now).await, Default::default());
    app.act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_status(200);
    let r = round(&app, &senders, now).await;
    assert_eq!((r.sent, r.retried), (1, 0), "{r:?}");
    let mail = received_mail(dir);
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(mail[0].0, "an@example.vn");
    assert!(mail[0].1.contains(&code) && mail[0].1.contains("has been received"));
}
