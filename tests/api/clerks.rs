//! The dossier's life as clerks live it (issue 20): the supplement at the counter before
//! receipt, and a withdrawal request the applicant cancels. Each test names its legal source.

use serde_json::{json, Value};

use crate::helpers::*;

/// A birth registration filed online with its form only: the birth certificate is missing.
async fn incomplete_birth(app: &TestApp, citizen: &str) -> String {
    let mut docs = app.mandatory_documents(citizen, BIRTH).await;
    docs.as_array_mut()
        .unwrap()
        .retain(|d| d["kind"] != "giay_chung_sinh");
    let mut body = intake_body(BIRTH, BA_DINH);
    body["documents"] = docs;
    app.submit_online(citizen, body).await["code"]
        .as_str()
        .unwrap()
        .to_string()
}

fn errors_of(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap_or("").to_string(),
                e["code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Decree 118/2025/NĐ-CP on receipt (as Decree 61/2018/NĐ-CP art. 19 before it): an
/// incomplete dossier is not received; the officer issues Form 02 (Circular 03/2025/TT-VPCP)
/// listing what to complete. The clock does not
/// start and the request does not count towards Decision 766's "more than one supplement
/// request" rule, which counts requests after receipt.
#[tokio::test]
async fn a_counter_supplement_comes_before_receipt_and_starts_no_clock() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let code = incomplete_birth(&app, &cast.citizen).await;
    app.act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_problem(422, "missing_components");

    // Bad input changes nothing: no components, an unknown one, the old file description.
    let version = app.case_version(&code).await;
    let p = app
        .act(
            &cast.reception,
            &code,
            "request_supplement",
            json!({"reason": "Thiếu giấy chứng sinh"}),
        )
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(errors_of(&p), [("components".into(), "required".into())]);
    let p = app
        .act(
            &cast.reception,
            &code,
            "request_supplement",
            json!({"reason": "Thiếu", "components": ["giay_chung_sinh", "so_ho_khau"]}),
        )
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(
        errors_of(&p),
        [("components".into(), "unknown_component".into())]
    );
    app.act(
        &cast.reception,
        &code,
        "request_supplement",
        json!({"reason": "Thiếu", "documents": [{"kind": "giay_chung_sinh", "file_name": "a.pdf", "sha256": "00", "size": 1}]}),
    )
    .await
    .assert_problem(422, "upload_required");
    assert_eq!(app.case_version(&code).await, version, "nothing changed");

    // Who may ask: the receiving unit's staff only.
    let other_citizen = app.token_for("other.citizen", "citizen", None, None).await;
    let other_unit = app
        .token_for("ngoc.ha", "clerk", Some(NGOC_HA_CENTRE), None)
        .await;
    let other_province = app
        .token_for("hcm", "clerk", Some("79.TTPVHCC"), None)
        .await;
    let body = json!({"reason": "Thiếu giấy chứng sinh", "components": ["giay_chung_sinh"]});
    app.act(&cast.citizen, &code, "request_supplement", body.clone())
        .await
        .assert_problem(403, "forbidden");
    app.act(&cast.clerk, &code, "request_supplement", body.clone())
        .await
        .assert_problem(403, "forbidden");
    for outsider in [&other_citizen, &other_unit, &other_province] {
        app.act(outsider, &code, "request_supplement", body.clone())
            .await
            .assert_problem(404, "case_not_found");
    }

    let r = app
        .act(&cast.reception, &code, "request_supplement", body)
        .await
        .assert_status(200);
    assert_eq!(
        (r["status"].as_str(), r["national_status"].as_i64()),
        (Some("supplement_at_counter"), Some(1)),
        "not received: national status stays 1"
    );
    assert_eq!(r["sla_state"], "not_started");
    assert!(r["due_at"].is_null() && r["received_at"].is_null());
    assert_eq!(r["supplement_count"], 0);
    assert_eq!(r["paused"], false);
    let events = app
        .get(&format!("/api/v1/cases/{code}/events"), Some(&cast.citizen))
        .await
        .assert_status(200);
    let last = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "request_supplement");
    assert_eq!(last["data"]["form"], "02");
    assert_eq!(last["data"]["components"], json!(["giay_chung_sinh"]));
    assert_eq!(last["data"]["at_counter"], true);
    assert!(last["data"].get("supplement_request_number").is_none());

    // Nothing is received, nothing is stopped from here; the applicant completes it online.
    app.act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_problem(409, "invalid_transition");
    app.act(&other_citizen, &code, "submit_supplement", json!({}))
        .await
        .assert_problem(404, "case_not_found");
    app.attach(
        &cast.citizen,
        &code,
        &[("kind", "giay_chung_sinh")],
        "giay-chung-sinh.pdf",
        pdf("giay chung sinh"),
    )
    .await
    .assert_status(201);
    let r = app
        .act(&cast.citizen, &code, "submit_supplement", json!({}))
        .await
        .assert_status(200);
    assert_eq!(r["status"], "submitted");
    let r = app
        .act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_status(200);
    assert_eq!(r["status"], "received");
    assert_eq!(
        r["supplement_count"], 0,
        "the counter request is not counted"
    );
    assert!(r["due_at"].is_string());
}

/// The counter completes a walk-in's papers itself, or refuses the dossier (Form 03) when
/// the applicant does not come back (Decree 118/2025/NĐ-CP on receipt; Form 03).
#[tokio::test]
async fn the_counter_completes_or_refuses_an_incomplete_dossier() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let body = json!({"reason": "Thiếu giấy chứng sinh", "components": ["giay_chung_sinh"]});

    let code = incomplete_birth(&app, &cast.citizen).await;
    app.act(&cast.reception, &code, "request_supplement", body.clone())
        .await
        .assert_status(200);
    app.attach(
        &cast.reception,
        &code,
        &[("kind", "giay_chung_sinh"), ("digitised", "true")],
        "scan.pdf",
        pdf("scan"),
    )
    .await
    .assert_status(201);
    app.act(&cast.clerk, &code, "submit_supplement", json!({}))
        .await
        .assert_problem(403, "forbidden");
    let r = app
        .act(&cast.reception, &code, "submit_supplement", json!({}))
        .await
        .assert_status(200);
    assert_eq!(r["status"], "submitted");

    let code = incomplete_birth(&app, &cast.citizen).await;
    app.act(&cast.reception, &code, "request_supplement", body)
        .await
        .assert_status(200);
    let r = app
        .act(
            &cast.reception,
            &code,
            "refuse",
            json!({"reason": "Không bổ sung trong thời hạn"}),
        )
        .await
        .assert_status(200);
    assert_eq!(
        (r["status"].as_str(), r["national_status"].as_i64()),
        (Some("refused"), Some(3))
    );
}

/// A supplement request after receipt names components too (Form 02), never files; it
/// pauses the clock and is counted (Decree 118/2025/NĐ-CP; Decision 766/QĐ-TTg, index 2.1).
#[tokio::test]
async fn a_supplement_request_after_receipt_names_components() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let code = app
        .submit_online(&cast.citizen, intake_body(BIRTH, BA_DINH))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_status(200);
    app.act(&cast.clerk, &code, "start_processing", json!({}))
        .await
        .assert_status(200);
    let p = app
        .act(
            &cast.clerk,
            &code,
            "request_supplement",
            json!({"reason": "Bản chụp mờ", "components": ["ban_sao"]}),
        )
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(
        errors_of(&p),
        [("components".into(), "unknown_component".into())]
    );
    let r = app
        .act(
            &cast.clerk,
            &code,
            "request_supplement",
            json!({"reason": "Bản chụp mờ", "components": ["giay_chung_sinh"]}),
        )
        .await
        .assert_status(200);
    assert_eq!(r["status"], "supplement_requested");
    assert_eq!(r["supplement_count"], 1);
    assert_eq!(r["paused"], true);
}

/// The applicant may cancel their withdrawal request while the unit has not stopped the
/// dossier; it goes on from where it was. Decree 118/2025/NĐ-CP (which replaced
/// Decrees 61/2018 and 107/2021) sets no pause for a pending withdrawal, so the clock keeps running; a
/// withdrawal asked during a supplement keeps that pause and returns to it.
#[tokio::test]
async fn a_withdrawal_request_can_be_cancelled_before_the_stop() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let code = app
        .submit_online(&cast.citizen, intake_body(BIRTH, BA_DINH))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_status(200);
    app.act(&cast.clerk, &code, "start_processing", json!({}))
        .await
        .assert_status(200);
    app.act(&cast.citizen, &code, "cancel_withdrawal", json!({}))
        .await
        .assert_problem(409, "invalid_transition");
    let before = app.case_row(&code).await;
    let r = app
        .act(
            &cast.citizen,
            &code,
            "request_withdrawal",
            json!({"reason": "Không còn nhu cầu"}),
        )
        .await
        .assert_status(200);
    assert_eq!(r["status"], "withdrawal_requested");
    assert_eq!(
        r["paused"], false,
        "the clock runs while a withdrawal is pending"
    );

    // Only the applicant cancels; outsiders do not see the dossier.
    let other_citizen = app.token_for("other.citizen", "citizen", None, None).await;
    let other_unit = app
        .token_for("ngoc.ha", "clerk", Some(NGOC_HA_CENTRE), None)
        .await;
    let other_province = app
        .token_for("hcm", "clerk", Some("79.TTPVHCC"), None)
        .await;
    app.act(&cast.clerk, &code, "cancel_withdrawal", json!({}))
        .await
        .assert_problem(403, "forbidden");
    for outsider in [&other_citizen, &other_unit, &other_province] {
        app.act(outsider, &code, "cancel_withdrawal", json!({}))
            .await
            .assert_problem(404, "case_not_found");
    }
    let r = app
        .act(&cast.citizen, &code, "cancel_withdrawal", json!({}))
        .await
        .assert_status(200);
    assert_eq!(
        (r["status"].as_str(), r["national_status"].as_i64()),
        (Some("processing"), Some(4))
    );
    let after = app.case_row(&code).await;
    assert_eq!(after.due_at, before.due_at, "the deadline did not move");
    assert!(after.withdrawn_from.is_none());

    // During a supplement: the pause stays, and cancelling returns to it, then to processing.
    app.act(
        &cast.clerk,
        &code,
        "request_supplement",
        json!({"reason": "Bản chụp mờ", "components": ["giay_chung_sinh"]}),
    )
    .await
    .assert_status(200);
    app.act(&cast.citizen, &code, "request_withdrawal", json!({}))
        .await
        .assert_status(200);
    let r = app
        .act(&cast.citizen, &code, "cancel_withdrawal", json!({}))
        .await
        .assert_status(200);
    assert_eq!(r["status"], "supplement_requested");
    assert_eq!(r["paused"], true);
    let r = app
        .act(&cast.citizen, &code, "submit_supplement", json!({}))
        .await
        .assert_status(200);
    assert_eq!(r["status"], "processing");

    // Once stopped, it cannot be cancelled.
    app.act(&cast.citizen, &code, "request_withdrawal", json!({}))
        .await
        .assert_status(200);
    app.act(&cast.clerk, &code, "stop", json!({}))
        .await
        .assert_status(200);
    app.act(&cast.citizen, &code, "cancel_withdrawal", json!({}))
        .await
        .assert_problem(409, "invalid_transition");
}

/// A limit the law writes in days (`ngày`, not `ngày làm việc`) is counted as the Civil
/// Code 2015 counts periods (arts. 147–148): the criminal-record certificate, 10 days (Law
/// on Judicial Records 2009, art. 48(1)).
#[tokio::test]
async fn a_limit_in_calendar_days_is_counted_as_the_civil_code_counts_it() {
    use motcua::domain::calendar::TimeLimit;
    let app = spawn_app().await;
    let p = app
        .get("/api/v1/procedures/3.000333", None)
        .await
        .assert_status(200);
    assert_eq!(p["time_limit"]["kind"], "calendar_days");
    assert_eq!(p["time_limit"]["days"], 10);
    assert!(p["legal_basis"].as_str().unwrap().contains("Điều 48"));

    let centre = app
        .token_for("hn.centre", "clerk", Some(HN_CENTRE), None)
        .await;
    let r = app
        .file(&centre, intake_body("3.000333", BA_DINH))
        .await
        .assert_status(201);
    assert_eq!(r["status"], "received", "{r}");
    let code = r["code"].as_str().unwrap().to_string();
    let row = app.case_row(&code).await;
    let cal = app.state.calendars.current().default_calendar();
    let received = row.received_at.unwrap();
    assert_eq!(
        row.due_at.unwrap(),
        cal.due_at(received, TimeLimit::CalendarDays(10)).unwrap()
    );
    // Never earlier than the tenth day after receipt, and at most a few days off later.
    let local = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap())
            .date_naive()
    };
    let days = (local(row.due_at.unwrap()) - local(received)).num_days();
    assert!((10..=16).contains(&days), "{days} days");
    let d = app
        .get(&format!("/api/v1/cases/{code}/deadline"), Some(&centre))
        .await
        .assert_status(200);
    let text = d.to_string();
    assert!(text.contains("ngày theo lịch"), "{text}");
}

/// Whether waiting for a payment pauses the clock is the procedure's own rule when it
/// says (Decree 118/2025/NĐ-CP leaves fiscal obligations to each procedure's legislation);
/// otherwise the configuration's default (here: it does not).
#[tokio::test]
async fn a_procedure_says_whether_its_payment_pauses_the_clock() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let admin = app.token_for("admin1", "admin", None, None).await;
    let pay = |code: String| {
        let app = &app;
        let cast = &cast;
        async move {
            app.act(&cast.clerk, &code, "start_processing", json!({}))
                .await
                .assert_status(200);
            app.act(
                &cast.clerk,
                &code,
                "request_payment",
                json!({"amount_vnd": 50000}),
            )
            .await
            .assert_status(200)
        }
    };
    let filed = || async {
        app.file(&cast.reception, intake_body(MARITAL, BA_DINH))
            .await
            .assert_status(201)["code"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let r = pay(filed().await).await;
    assert_eq!(r["paused"], false, "the configured default");
    let p = app
        .patch(
            &format!("/api/v1/procedures/{MARITAL}"),
            Some(&admin),
            json!({"payment_pauses_clock": true}),
        )
        .await
        .assert_status(200);
    assert_eq!(p["payment_pauses_clock"], true);
    let r = pay(filed().await).await;
    assert_eq!(r["paused"], true, "the procedure's own rule");
}

/// Inter-agency work (liên thông, Decree 118/2025/NĐ-CP; the procedure's `interagency`
/// step): the handling unit sends the dossier to another agency of the province with that
/// agency's share of the time limit, timed on the agency's own calendar; the agency sees it
/// in its queue, answers, and the dossier returns. Each hand-over is a line of the
/// processing control sheet (Form 06, Circular 03/2025/TT-VPCP).
#[tokio::test]
async fn a_dossier_goes_to_the_commune_police_for_its_part_and_comes_back() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    const POLICE: &str = "01.00004.CA";
    let police = app.token_for("police", "clerk", Some(POLICE), None).await;
    let other_police = app
        .token_for("police2", "clerk", Some("01.00008.CA"), None)
        .await;
    let other_province = app
        .token_for("hcm", "clerk", Some("79.TTPVHCC"), None)
        .await;
    let other_citizen = app.token_for("other.citizen", "citizen", None, None).await;
    let code = app
        .file(&cast.reception, intake_body(MARITAL, BA_DINH))
        .await
        .assert_status(201)["code"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .act(&cast.clerk, &code, "claim", json!({}))
        .await
        .assert_status(200);
    let claim_events = app
        .get(&format!("/api/v1/cases/{code}/events"), Some(&cast.clerk))
        .await
        .assert_status(200);
    assert_eq!(
        claim_events.as_array().unwrap().last().unwrap()["data"]["form"],
        "06",
        "a hand-over to an officer is a Form 06 line"
    );
    assert_eq!(r["status"], "assigned");
    app.act(&cast.clerk, &code, "start_processing", json!({}))
        .await
        .assert_status(200);
    let before = app.case_row(&code).await;

    // Bad input: each a stable code, and nothing changes.
    let version = app.case_version(&code).await;
    let send = |unit: &str, days: u32| json!({"unit": unit, "working_days": days, "reason": "Xác minh nơi cư trú"});
    for (body, field, code_) in [
        (send("79.CAT", 1), "unit", "unit_in_other_province"),
        (send(BA_DINH_CENTRE, 1), "unit", "not_a_handling_unit"),
        (send(BA_DINH_PC, 1), "unit", "same_unit"),
        (send("01.99999.CA", 1), "unit", "unknown_unit"),
        (send(POLICE, 30), "working_days", "share_exceeds_remaining"),
        (
            json!({"unit": POLICE, "reason": "x"}),
            "working_days",
            "required",
        ),
    ] {
        let p = app
            .act(&cast.clerk, &code, "send_to_agency", body)
            .await
            .assert_problem(422, "validation_failed");
        assert_eq!(errors_of(&p), [(field.to_string(), code_.to_string())]);
    }
    assert_eq!(app.case_version(&code).await, version, "nothing changed");
    // Only the handling unit sends; outsiders do not see the dossier.
    app.act(&police, &code, "send_to_agency", send(POLICE, 1))
        .await
        .assert_problem(404, "case_not_found");
    app.act(&cast.reception, &code, "send_to_agency", send(POLICE, 1))
        .await
        .assert_problem(403, "forbidden");

    let r = app
        .act(&cast.clerk, &code, "send_to_agency", send(POLICE, 1))
        .await
        .assert_status(200);
    assert_eq!(
        (r["status"].as_str(), r["national_status"].as_i64()),
        (Some("awaiting_agency"), Some(4))
    );
    assert_eq!(r["consulted_unit"], POLICE);
    assert_eq!(r["step"]["key"], "interagency");
    assert_eq!(r["paused"], false, "the total limit keeps running");
    let row = app.case_row(&code).await;
    assert_eq!(row.due_at, before.due_at);
    let cal = app.state.calendars.current().default_calendar();
    let sent_at = row.updated_at;
    assert_eq!(
        row.consult_due_at.unwrap(),
        cal.add_working_secs(sent_at, cal.secs_per_day()).unwrap(),
        "one working day on the agency's calendar"
    );
    assert_eq!(row.step_due_at, row.consult_due_at);

    // The agency's queue holds it; another commune's police does not see it.
    let q = app
        .get(&format!("/api/v1/units/{POLICE}/queue"), Some(&police))
        .await
        .assert_status(200);
    let codes: Vec<&str> = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, [code.as_str()]);
    app.get(&format!("/api/v1/cases/{code}"), Some(&police))
        .await
        .assert_status(200);
    for outsider in [&other_police, &other_province, &other_citizen] {
        app.act(outsider, &code, "agency_reply", json!({"note": "?"}))
            .await
            .assert_problem(404, "case_not_found");
    }
    app.act(&cast.clerk, &code, "agency_reply", json!({"note": "?"}))
        .await
        .assert_problem(403, "forbidden");
    app.act(&cast.citizen, &code, "agency_reply", json!({"note": "?"}))
        .await
        .assert_problem(404, "case_not_found");

    let r = app
        .act(
            &police,
            &code,
            "agency_reply",
            json!({"note": "Đã xác minh: thường trú tại phường Ba Đình"}),
        )
        .await
        .assert_status(200);
    assert_eq!(r["status"], "processing");
    assert!(r["consulted_unit"].is_null());
    let events = app
        .get(&format!("/api/v1/cases/{code}/events"), Some(&cast.clerk))
        .await
        .assert_status(200);
    let events = events.as_array().unwrap();
    let (sent, reply) = (&events[events.len() - 2], &events[events.len() - 1]);
    assert_eq!(sent["action"], "send_to_agency");
    assert_eq!(sent["data"]["form"], "06");
    assert_eq!(sent["data"]["to_unit"], POLICE);
    assert_eq!(reply["action"], "agency_reply");
    assert_eq!(reply["data"]["form"], "06");
    assert_eq!(reply["data"]["from_unit"], POLICE);
    assert_eq!(reply["data"]["to_unit"], BA_DINH_PC);
    assert_eq!(reply["data"]["agency_on_time"], true);
    assert_eq!(
        reply["data"]["note"],
        "Đã xác minh: thường trú tại phường Ba Đình"
    );
    // Back with the handling unit: the police no longer sees it.
    app.get(&format!("/api/v1/cases/{code}"), Some(&police))
        .await
        .assert_problem(404, "case_not_found");
}

/// A longer limit the law allows in a named case is chosen at receipt with a reason, and the
/// deadline explanation names it: marriage registration when the conditions must be verified,
/// at most 5 working days instead of the same day (Law on Civil Status 2014, art. 18(2)).
#[tokio::test]
async fn a_variant_limit_is_chosen_at_receipt_with_its_reason() {
    use motcua::domain::calendar::TimeLimit;
    let app = spawn_app().await;
    let cast = app.cast().await;
    let p = app
        .get("/api/v1/procedures/1.000894", None)
        .await
        .assert_status(200);
    assert_eq!(p["limit_variants"][0]["key"], "can_xac_minh");
    assert_eq!(p["limit_variants"][0]["time_limit_hours"], 40);
    let code = app
        .submit_online(&cast.citizen, intake_body("1.000894", BA_DINH))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let version = app.case_version(&code).await;
    let p = app
        .act(
            &cast.reception,
            &code,
            "receive",
            json!({"variant": "can_xac_minh"}),
        )
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(errors_of(&p), [("reason".into(), "required".into())]);
    let p = app
        .act(
            &cast.reception,
            &code,
            "receive",
            json!({"variant": "nhieu_giay_to", "reason": "x"}),
        )
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(
        errors_of(&p),
        [("variant".into(), "unknown_variant".into())]
    );
    assert_eq!(app.case_version(&code).await, version, "nothing changed");

    let r = app
        .act(
            &cast.reception,
            &code,
            "receive",
            json!({"variant": "can_xac_minh", "reason": "Bên nữ thường trú ở tỉnh khác"}),
        )
        .await
        .assert_status(200);
    assert_eq!(r["limit_variant"], "can_xac_minh");
    let row = app.case_row(&code).await;
    let cal = app.state.calendars.current().default_calendar();
    assert_eq!(
        row.due_at.unwrap(),
        cal.due_at(row.received_at.unwrap(), TimeLimit::WorkingHours(40))
            .unwrap()
    );
    let events = app
        .get(
            &format!("/api/v1/cases/{code}/events"),
            Some(&cast.reception),
        )
        .await
        .assert_status(200);
    let received = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(received["data"]["variant"], "can_xac_minh");
    assert_eq!(received["reason"], "Bên nữ thường trú ở tỉnh khác");
    let d = app
        .get(
            &format!("/api/v1/cases/{code}/deadline"),
            Some(&cast.reception),
        )
        .await
        .assert_status(200)
        .to_string();
    assert!(d.contains("Cần xác minh điều kiện kết hôn"), "{d}");
    assert!(d.contains("Điều 18 khoản 2"), "{d}");
}

/// A corrected catalog reaches a running deployment: a shipped procedure whose stored
/// version differs from the catalog (here 2.000806 as an earlier release shipped it, 5
/// working days instead of Decree 123/2015/NĐ-CP art. 31(1)'s 10) gets a new version in force
/// from the next start; a version an administrator made is left alone; dossiers keep theirs.
#[tokio::test]
async fn a_corrected_catalog_becomes_new_versions_of_shipped_procedures() {
    use motcua::repo::procedures::versions;
    use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
    let app = spawn_app().await;
    let db = &app.state.db;
    let newest = |code: &'static str| async move {
        versions(db, code)
            .await
            .unwrap()
            .into_iter()
            .next()
            .unwrap()
    };
    let mut am = newest("2.000806").await.into_active_model();
    am.time_limit_hours = Set(Some(40));
    am.update(db).await.unwrap();
    // An administrator's own version of another procedure.
    let admin = app.token_for("admin1", "admin", None, None).await;
    app.patch(
        "/api/v1/procedures/1.004222",
        Some(&admin),
        json!({"fee_note": "Theo Nghị quyết của HĐND thành phố"}),
    )
    .await
    .assert_status(200);
    entity::reference_data::Entity::delete_by_id("procedures".to_string())
        .exec(db)
        .await
        .unwrap();

    let report = motcua::services::reference::seed(
        db,
        motcua::domain::unit::DEFAULT_WORKING_HOURS,
        &mut motcua::progress::Quiet,
    )
    .await
    .unwrap();
    assert_eq!(report.procedures_added, 0);
    assert_eq!(report.procedures_corrected, 1, "2.000806 only");
    let v = newest("2.000806").await;
    assert_eq!((v.version, v.time_limit_hours), (2, Some(80)));
    assert!(v.created_by.is_none());
    let admins = newest("1.004222").await;
    assert_eq!(admins.version, 2);
    assert!(
        admins.created_by.is_some(),
        "the administrator's version stays newest"
    );
    let p = app
        .get("/api/v1/procedures/2.000806", None)
        .await
        .assert_status(200);
    assert_eq!(p["version"], 2);
    assert_eq!(p["time_limit"]["hours"], 80);
}
