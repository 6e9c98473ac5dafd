//! The dossier lifecycle through HTTP: the happy path and every side path.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn happy_path_online_to_returned() {
    let app = spawn_app().await;
    let cast = app.cast().await;

    let filed = app
        .submit_online(&cast.citizen, intake_body(BIRTH, BA_DINH))
        .await;
    let code = filed["code"].as_str().unwrap().to_string();
    assert!(code.starts_with(&format!("{BA_DINH_CENTRE}-")), "{code}");
    assert!(code.ends_with("-0001"), "{code}");
    assert_eq!(filed["status"], "submitted");
    assert_eq!(filed["national_status"], 1);
    assert_eq!(filed["version"], 1);
    assert_eq!(filed["handling_unit"], BA_DINH_PC);
    assert_eq!(filed["receiving_unit"], BA_DINH_CENTRE);
    assert_eq!(filed["sla_state"], "not_started");
    assert!(
        filed["due_at"].is_null(),
        "the clock starts at receipt, not submission"
    );

    let r = app
        .act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_status(200);
    assert_eq!(r["status"], "received");
    assert_eq!(r["national_status"], 2);
    assert!(r["due_at"].is_string());
    assert_eq!(r["due_at"], r["appointment_at"]);
    assert!(
        r["due_at"].as_str().unwrap().ends_with("+07:00"),
        "shown in Asia/Ho_Chi_Minh"
    );
    assert_eq!(r["step"]["key"], "reception");

    let r = app
        .act(&cast.clerk, &code, "claim", json!({}))
        .await
        .assert_status(200);
    assert_eq!(r["status"], "assigned");
    let r = app
        .act(&cast.clerk, &code, "start_processing", json!({}))
        .await
        .assert_status(200);
    assert_eq!(
        (r["status"].as_str(), r["national_status"].as_i64()),
        (Some("processing"), Some(4))
    );
    let r = app
        .act(&cast.clerk, &code, "send_for_approval", json!({}))
        .await
        .assert_status(200);
    assert_eq!(r["status"], "awaiting_approval");
    // A clerk cannot sign; the head can.
    app.act(&cast.clerk, &code, "approve", json!({}))
        .await
        .assert_problem(403, "forbidden");
    let r = app
        .act(&cast.head, &code, "approve", json!({}))
        .await
        .assert_status(200);
    assert_eq!(
        (r["status"].as_str(), r["national_status"].as_i64()),
        (Some("decided"), Some(9))
    );
    assert_eq!(r["outcome"], "approved");
    assert!(r["result_delivery"].is_null());
    // How the result goes out is one of three; anything else changes nothing.
    let before = app.case_row(&code).await;
    app.act(
        &cast.reception,
        &code,
        "return_result",
        json!({"result_delivery": "pigeon"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    assert_eq!(app.case_row(&code).await, before);
    // An electronic result is the handling unit's file.
    app.attach(
        &cast.clerk,
        &code,
        &[("kind", "result")],
        "ket-qua.pdf",
        pdf("result"),
    )
    .await
    .assert_status(201);
    let r = app
        .act(
            &cast.reception,
            &code,
            "return_result",
            json!({"result_delivery": "electronic"}),
        )
        .await
        .assert_status(200);
    assert_eq!(
        (r["status"].as_str(), r["national_status"].as_i64()),
        (Some("returned"), Some(10))
    );
    assert!(r["closed_at"].is_string());
    assert_eq!(r["result_delivery"], "electronic");
    assert_eq!(r["version"], 8, "one version per change");

    // The trail: every step for officers, the public ones for the applicant.
    let all = app
        .get(&format!("/api/v1/cases/{code}/events"), Some(&cast.head))
        .await
        .assert_status(200);
    let actions: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "submit",
            "receive",
            "claim",
            "start_processing",
            "send_for_approval",
            "approve",
            "attach_document",
            "return_result"
        ]
    );
    let seqs: Vec<i64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>());
    let mine = app
        .get(&format!("/api/v1/cases/{code}/events"), Some(&cast.citizen))
        .await
        .assert_status(200);
    let public: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        public,
        [
            "submit",
            "receive",
            "approve",
            "attach_document",
            "return_result"
        ]
    );
    assert!(mine[0].get("actor_id").is_none());

    // An outbox row per change, in the same transactions.
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let outbox = entity::outbox::Entity::find()
        .filter(entity::outbox::Column::CaseCode.eq(code.clone()))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(outbox, 8);
}

#[tokio::test]
async fn walk_in_intake_is_received_at_once() {
    let app = spawn_app().await;
    let reception = app
        .token_for("reception", "clerk", Some(BA_DINH_CENTRE), None)
        .await;
    let r = app
        .file(&reception, intake_body(MARITAL, BA_DINH))
        .await
        .assert_status(201);
    assert_eq!(r["status"], "received");
    assert_eq!(r["channel"], "in_person");
    assert_eq!(r["national_status"], 2);
    assert!(r["received_at"].is_string() && r["due_at"].is_string());
    assert_eq!(r["sla_state"], "on_track");

    // Postal too; never "online" from a clerk; never at another unit.
    let mut body = intake_body(MARITAL, BA_DINH);
    body["channel"] = json!("postal");
    app.file(&reception, body).await.assert_status(201);
    let mut body = intake_body(MARITAL, BA_DINH);
    body["channel"] = json!("online");
    app.file(&reception, body)
        .await
        .assert_problem(422, "validation_failed");
    let mut body = intake_body(MARITAL, BA_DINH);
    body["received_at_unit"] = json!(NGOC_HA_CENTRE);
    app.file(&reception, body)
        .await
        .assert_problem(422, "validation_failed");
}

#[tokio::test]
async fn supplement_pauses_the_clock_and_moves_the_deadline_by_the_paused_time() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let code = app
        .submit_online(&cast.citizen, intake_body(MARITAL, BA_DINH))
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

    app.act(&cast.clerk, &code, "request_supplement", json!({}))
        .await
        .assert_problem(422, "validation_failed");
    let r = app
        .act(
            &cast.clerk,
            &code,
            "request_supplement",
            json!({"reason": "Thiếu tờ khai có chữ ký",
            "components": ["to_khai"]}),
        )
        .await
        .assert_status(200);
    assert_eq!(
        (r["status"].as_str(), r["national_status"].as_i64()),
        (Some("supplement_requested"), Some(5))
    );
    assert_eq!(r["paused"], true);
    assert_eq!(r["supplement_count"], 1);
    let before = app.case_row(&code).await;
    assert!(before.next_check_at.is_none(), "no SLA checks while paused");

    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let other = app.token_for("other.citizen", "citizen", None, None).await;
    app.act(&other, &code, "submit_supplement", json!({}))
        .await
        .assert_problem(404, "case_not_found");
    let r = app
        .act(&cast.citizen, &code, "submit_supplement", json!({}))
        .await
        .assert_status(200);
    assert_eq!(r["status"], "processing");
    assert_eq!(r["paused"], false);

    // The deadline moved by exactly the paused working time, as the calendar counts it.
    let after = app.case_row(&code).await;
    let pauses = motcua::repo::events::pauses(&app.state.db, after.id)
        .await
        .unwrap();
    assert_eq!(pauses.len(), 1);
    let pause = &pauses[0];
    let cal = app.state.calendars.current().default_calendar();
    let paused = cal.working_secs_between(pause.started_at, pause.ended_at.unwrap());
    assert_eq!(pause.working_secs, Some(paused));
    assert_eq!(after.paused_working_secs, paused);
    assert_eq!(
        after.due_at.unwrap(),
        cal.extend_due(before.due_at.unwrap(), paused).unwrap()
    );
    assert_eq!(
        after.original_due_at, before.original_due_at,
        "the original deadline is kept"
    );
    assert!(after.next_check_at.is_some());
}

#[tokio::test]
async fn refusal_at_receipt_is_final() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let code = app
        .submit_online(&cast.citizen, intake_body(BIRTH, BA_DINH))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(&cast.reception, &code, "refuse", json!({}))
        .await
        .assert_problem(422, "validation_failed");
    let r = app
        .act(
            &cast.reception,
            &code,
            "refuse",
            json!({"reason": "Hồ sơ không thuộc thẩm quyền"}),
        )
        .await
        .assert_status(200);
    assert_eq!(
        (r["status"].as_str(), r["national_status"].as_i64()),
        (Some("refused"), Some(3))
    );
    let events = app
        .get(&format!("/api/v1/cases/{code}/events"), Some(&cast.citizen))
        .await
        .json();
    assert_eq!(events[1]["data"]["form"], "03");
    assert_eq!(events[1]["reason"], "Hồ sơ không thuộc thẩm quyền");
    app.act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_problem(409, "invalid_transition");
}

#[tokio::test]
async fn withdrawal_is_asked_then_stopped() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let code = app
        .submit_online(&cast.citizen, intake_body(MARITAL, BA_DINH))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_status(200);
    app.act(&cast.clerk, &code, "request_withdrawal", json!({}))
        .await
        .assert_problem(403, "forbidden");
    let r = app
        .act(
            &cast.citizen,
            &code,
            "request_withdrawal",
            json!({"reason": "Không còn nhu cầu"}),
        )
        .await
        .assert_status(200);
    assert_eq!(
        (r["status"].as_str(), r["national_status"].as_i64()),
        (Some("withdrawal_requested"), Some(7))
    );
    let r = app
        .act(&cast.clerk, &code, "stop", json!({}))
        .await
        .assert_status(200);
    assert_eq!(
        (r["status"].as_str(), r["national_status"].as_i64()),
        (Some("stopped"), Some(8))
    );
    assert!(r["closed_at"].is_string());
}

#[tokio::test]
async fn a_unit_head_stops_with_a_reason() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let code = app
        .submit_online(&cast.citizen, intake_body(MARITAL, BA_DINH))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_status(200);
    app.act(&cast.clerk, &code, "stop", json!({"reason": "x"}))
        .await
        .assert_problem(403, "forbidden");
    app.act(&cast.head, &code, "stop", json!({}))
        .await
        .assert_problem(422, "validation_failed");
    let r = app
        .act(
            &cast.head,
            &code,
            "stop",
            json!({"reason": "Phát hiện giấy tờ giả mạo"}),
        )
        .await
        .assert_status(200);
    assert_eq!(r["status"], "stopped");
    let events = app
        .get(&format!("/api/v1/cases/{code}/events"), Some(&cast.head))
        .await
        .json();
    assert_eq!(
        events.as_array().unwrap().last().unwrap()["data"]["form"],
        "05"
    );
}

#[tokio::test]
async fn transfer_hands_over_to_another_unit_with_a_form_06_line() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let code = app
        .submit_online(&cast.citizen, intake_body(MARITAL, BA_DINH))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_status(200);
    app.act(&cast.clerk, &code, "claim", json!({}))
        .await
        .assert_status(200);
    let due_before = app.case_row(&code).await.due_at;

    app.act(&cast.clerk, &code, "transfer", json!({"unit": NGOC_HA_PC}))
        .await
        .assert_problem(422, "validation_failed");
    app.act(
        &cast.clerk,
        &code,
        "transfer",
        json!({"unit": "79.TTPVHCC", "reason": "x"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.act(
        &cast.clerk,
        &code,
        "transfer",
        json!({"unit": NGOC_HA_CENTRE, "reason": "x"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    let r = app
        .act(
            &cast.clerk,
            &code,
            "transfer",
            json!({"unit": NGOC_HA_PC, "reason": "Người nộp cư trú tại Ngọc Hà"}),
        )
        .await
        .assert_status(200);
    assert_eq!(r["status"], "received");
    assert_eq!(r["handling_unit"], NGOC_HA_PC);
    assert!(r["assigned_to"].is_null());
    assert_eq!(
        app.case_row(&code).await.due_at,
        due_before,
        "the legal clock is the dossier's, not the unit's"
    );
    let events = app
        .get(
            &format!("/api/v1/cases/{code}/events"),
            Some(&cast.reception),
        )
        .await
        .json();
    let last = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "transfer");
    assert_eq!(last["data"]["form"], "06");
    assert_eq!(last["data"]["from_unit"], BA_DINH_PC);
    assert_eq!(last["data"]["to_unit"], NGOC_HA_PC);

    // The old unit lost it; the new unit's clerk can claim it.
    app.act(&cast.clerk, &code, "claim", json!({}))
        .await
        .assert_problem(404, "case_not_found");
    let ngoc_ha = app
        .token_for("ngoc.ha", "clerk", Some(NGOC_HA_PC), None)
        .await;
    app.act(&ngoc_ha, &code, "claim", json!({}))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn apology_sets_a_new_appointment_and_keeps_the_deadline() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let code = app
        .submit_online(&cast.citizen, intake_body(MARITAL, BA_DINH))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_status(200);
    let before = app.case_row(&code).await;
    let new = before.due_at.unwrap() + chrono::Duration::days(5);
    app.act(
        &cast.clerk,
        &code,
        "apologize_and_extend",
        json!({"new_appointment_at": new}),
    )
    .await
    .assert_problem(422, "validation_failed");
    let earlier = before.due_at.unwrap() - chrono::Duration::hours(1);
    app.act(
        &cast.clerk,
        &code,
        "apologize_and_extend",
        json!({"reason": "Cần xác minh", "new_appointment_at": earlier}),
    )
    .await
    .assert_problem(422, "validation_failed");
    let r = app
        .act(
            &cast.clerk,
            &code,
            "apologize_and_extend",
            json!({"reason": "Cần xác minh thêm", "new_appointment_at": new}),
        )
        .await
        .assert_status(200);
    assert_eq!(
        r["status"], "received",
        "an apology does not change the status"
    );
    let after = app.case_row(&code).await;
    assert_eq!(after.appointment_at, Some(new));
    assert_eq!(
        after.due_at, before.due_at,
        "the legal deadline stays for statistics"
    );
    let events = app
        .get(&format!("/api/v1/cases/{code}/events"), Some(&cast.citizen))
        .await
        .json();
    let last = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "apologize_and_extend");
    assert_eq!(last["data"]["form"], "04");
}

#[tokio::test]
async fn illegal_transitions_change_nothing() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let admin = app.token_for("root", "admin", None, None).await;
    let code = app
        .submit_online(&cast.citizen, intake_body(MARITAL, BA_DINH))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_status(200);

    let all = [
        "receive",
        "refuse",
        "assign",
        "claim",
        "request_supplement",
        "submit_supplement",
        "start_processing",
        "send_for_approval",
        "approve",
        "reject",
        "request_payment",
        "confirm_payment",
        "return_result",
        "request_withdrawal",
        "cancel_withdrawal",
        "stop",
        "transfer",
        "apologize_and_extend",
    ];
    // From `received`, these are impossible whoever asks (the head has every staff right).
    let impossible = [
        "receive",
        "refuse",
        "submit_supplement",
        "send_for_approval",
        "approve",
        "reject",
        "request_payment",
        "confirm_payment",
        "return_result",
    ];
    for action in impossible {
        let before = app.case_row(&code).await;
        let events = app.event_count(&code).await;
        let r = app
            .act(
                &cast.head,
                &code,
                action,
                json!({"reason": "r", "amount_vnd": 1000}),
            )
            .await;
        r.assert_problem(409, "invalid_transition");
        let after = app.case_row(&code).await;
        assert_eq!(after, before, "{action} changed the dossier");
        assert_eq!(
            app.event_count(&code).await,
            events,
            "{action} wrote an event"
        );
    }
    // A final dossier refuses everything.
    let code = app
        .submit_online(&cast.citizen, intake_body(BIRTH, BA_DINH))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(&cast.reception, &code, "refuse", json!({"reason": "r"}))
        .await
        .assert_status(200);
    let before = app.case_row(&code).await;
    for action in all {
        app.act(
            &cast.head,
            &code,
            action,
            json!({"reason": "r", "unit": NGOC_HA_PC}),
        )
        .await
        .assert_problem(409, "invalid_transition");
        app.act(&cast.reception, &code, action, json!({"reason": "r"}))
            .await
            .assert_problem(409, "invalid_transition");
    }
    assert_eq!(app.case_row(&code).await, before);
    // Unknown actions and stale versions.
    app.act(&cast.head, &code, "teleport", json!({}))
        .await
        .assert_problem(404, "unknown_action");
    let _ = admin;
}

#[tokio::test]
async fn optimistic_concurrency() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let code = app
        .submit_online(&cast.citizen, intake_body(MARITAL, BA_DINH))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/cases/{code}/actions/receive");
    app.post(&path, Some(&cast.reception), json!({}))
        .await
        .assert_problem(428, "version_required");
    let r = app
        .post(&path, Some(&cast.reception), json!({"version": 7}))
        .await;
    let body = r.assert_problem(409, "version_conflict");
    assert_eq!(body["current_version"], 1);
    // If-Match works as well as the body field, with no body at all.
    let r = app
        .send(
            app.client
                .post(app.url(&path))
                .bearer_auth(&cast.reception)
                .header("if-match", "\"1\""),
        )
        .await;
    assert_eq!(r.assert_status(200)["version"], 2);
    // The dossier page gives the version as an ETag.
    let r = app
        .get(&format!("/api/v1/cases/{code}"), Some(&cast.reception))
        .await;
    assert_eq!(r.headers["etag"], "\"2\"");
}

#[tokio::test]
async fn payment_request_and_rejection() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let code = app
        .submit_online(&cast.citizen, intake_body(MARITAL, BA_DINH))
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
    app.act(&cast.clerk, &code, "request_payment", json!({}))
        .await
        .assert_problem(422, "validation_failed");
    let r = app
        .act(
            &cast.clerk,
            &code,
            "request_payment",
            json!({"amount_vnd": 15000}),
        )
        .await
        .assert_status(200);
    assert_eq!(
        (r["status"].as_str(), r["national_status"].as_i64()),
        (Some("awaiting_payment"), Some(6))
    );
    assert_eq!(
        r["paused"], false,
        "payment does not pause the clock unless configured"
    );
    // Decision 766's online-payment indicator and the receipts need to know how it was
    // paid (issue 21 §2): no channel, or a transfer without its reference, changes nothing.
    let before = app.case_row(&code).await;
    let p = app
        .act(&cast.reception, &code, "confirm_payment", json!({}))
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "payment_channel");
    let p = app
        .act(
            &cast.reception,
            &code,
            "confirm_payment",
            json!({"payment_channel": "bank_transfer"}),
        )
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "payment_reference");
    assert_eq!(app.case_row(&code).await, before);
    let r = app
        .act(
            &cast.reception,
            &code,
            "confirm_payment",
            json!({"payment_channel": "bank_transfer", "payment_reference": "FT26338000123"}),
        )
        .await
        .assert_status(200);
    assert_eq!(r["status"], "processing");
    let receipt = &r["receipts"][0];
    assert_eq!(receipt["number"], format!("{code}-BL1"));
    assert_eq!(receipt["purpose"], "requested");
    assert_eq!(receipt["amount_vnd"], 15000);
    assert_eq!(receipt["channel"], "bank_transfer");
    assert_eq!(receipt["reference"], "FT26338000123");
    assert!(r.get("payment_due_vnd").is_none());
    app.act(&cast.clerk, &code, "send_for_approval", json!({}))
        .await
        .assert_status(200);
    app.act(&cast.head, &code, "reject", json!({}))
        .await
        .assert_problem(422, "validation_failed");
    let r = app
        .act(
            &cast.head,
            &code,
            "reject",
            json!({"reason": "Không đủ điều kiện"}),
        )
        .await
        .assert_status(200);
    assert_eq!(
        (r["status"].as_str(), r["outcome"].as_str()),
        (Some("decided"), Some("rejected"))
    );
}

#[tokio::test]
async fn ambiguous_addresses_wait_for_a_coordinator() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let supervisor = app.token_for("sup.hn", "supervisor", None, Some(HN)).await;
    let other_sup = app
        .token_for("sup.hcm", "supervisor", None, Some("79"))
        .await;
    // A partly merged old ward of Hà Nội: its successors are several 2025 wards.
    let legacy = partly_merged_legacy_ward(&app, HN).await;
    let mut body = intake_body(MARITAL, BA_DINH);
    body["address"] = json!({"legacy_ward_code": legacy.0});
    let filed = app.submit_online(&cast.citizen, body).await;
    assert_eq!(filed["status"], "awaiting_routing");
    assert_eq!(filed["national_status"], 1);
    assert!(filed["handling_unit"].is_null());
    assert_eq!(filed["receiving_unit"], HN_CENTRE);
    let code = filed["code"].as_str().unwrap().to_string();

    let queue = app
        .get("/api/v1/provinces/01/coordination-queue", Some(&supervisor))
        .await
        .assert_status(200);
    assert_eq!(queue["total"], 1);
    app.get("/api/v1/provinces/01/coordination-queue", Some(&other_sup))
        .await
        .assert_problem(403, "forbidden");
    app.get(
        "/api/v1/provinces/01/coordination-queue",
        Some(&cast.citizen),
    )
    .await
    .assert_problem(403, "forbidden");

    // The coordinator picks one of the candidates' People's Committees.
    let target = format!("01.{}.UBND", legacy.1);
    app.act(&supervisor, &code, "assign", json!({"unit": "01.TTPVHCC"}))
        .await
        .assert_problem(422, "validation_failed");
    app.act(&supervisor, &code, "assign", json!({"unit": "01.00004.CA"}))
        .await
        .assert_problem(422, "validation_failed");
    let r = app
        .act(&supervisor, &code, "assign", json!({"unit": target}))
        .await
        .assert_status(200);
    assert_eq!(r["status"], "submitted");
    assert_eq!(r["handling_unit"], target);
    assert_eq!(r["ward_code"], legacy.1);
    let queue = app
        .get("/api/v1/provinces/01/coordination-queue", Some(&supervisor))
        .await
        .assert_status(200);
    assert_eq!(queue["total"], 0);
}

/// A partly merged pre-2025 ward of `province` and one of its successors.
pub async fn partly_merged_legacy_ward(app: &TestApp, province: &str) -> (String, String) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let rows = entity::ward_conversions::Entity::find()
        .filter(entity::ward_conversions::Column::PartlyMerged.eq(true))
        .filter(entity::ward_conversions::Column::NewProvinceCode.eq(province))
        .order_by_asc(entity::ward_conversions::Column::OldWardCode)
        .all(&app.state.db)
        .await
        .unwrap();
    let mut by_old: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for r in rows {
        by_old
            .entry(r.old_ward_code)
            .or_default()
            .push(r.new_ward_code);
    }
    let (old, news) = by_old
        .into_iter()
        .find(|(_, v)| v.len() > 1)
        .expect("a split ward");
    (old, news[0].clone())
}
