//! Where a dossier may be received and its result collected, and what it costs (issue 21
//! §1–2): each province's published lists, the result point, fees and receipts.

use serde_json::{json, Value};

use crate::helpers::*;

const LIST: &str = "/api/v1/provinces/01/boundary-independent-procedures";
const FEES: &str = "/api/v1/provinces/01/fees";
/// Civil-status extract copy: commune level, 8,000 đồng nationally, boundary-independent.
const EXTRACT: &str = "2.000635";
/// Criminal-record certificate: province level (provincial police), boundary-independent.
const CRIMINAL_RECORD: &str = "3.000333";
/// Permanent residence: commune police, not boundary-independent.
const RESIDENCE: &str = "1.004222";
/// A ward of Hồ Chí Minh City (province 79).
const HCM_WARD: &str = "25747";

fn codes(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_string())
        .collect()
}

async fn route(
    app: &TestApp,
    procedure: &str,
    ward: &str,
    at: &str,
    result: Option<&str>,
) -> Value {
    let mut body = json!({"procedure_code": procedure, "address": {"ward_code": ward}, "received_at_unit": at});
    if let Some(r) = result {
        body["result_point"] = json!(r);
    }
    app.post("/api/v1/routing/resolve", None, body)
        .await
        .assert_status(200)
}

/// Decree 118/2025/NĐ-CP: each province publishes the procedures received and
/// returned anywhere in it; seeded from the catalog's national flag, edited by the
/// province's administrators (and the national ones), versioned and audited.
#[tokio::test]
async fn each_province_publishes_its_own_list_decree_118() {
    let app = spawn_app().await;
    let seeded = app.get(LIST, None).await.assert_status(200);
    let listed = codes(&seeded);
    assert!(listed.contains(&BIRTH.to_string()));
    assert!(listed.contains(&CRIMINAL_RECORD.to_string()));
    assert!(!listed.contains(&RESIDENCE.to_string()));
    assert_eq!(seeded["versions"].as_array().unwrap().len(), 1);
    assert_eq!(seeded["versions"][0]["created_by"], Value::Null);
    let hcm = app
        .get("/api/v1/provinces/79/boundary-independent-procedures", None)
        .await
        .assert_status(200);
    assert_eq!(
        codes(&hcm),
        listed,
        "every province starts from the national flag"
    );
    app.get("/api/v1/provinces/99/boundary-independent-procedures", None)
        .await
        .assert_problem(404, "province_not_found");

    // A province-level procedure on the list is received at any commune centre; competence
    // stays with the provincial police.
    let r = route(&app, CRIMINAL_RECORD, BA_DINH, NGOC_HA_CENTRE, None).await;
    assert_eq!(r["status"], "routed", "{r}");
    assert_eq!(r["boundary_independent"], true);
    assert_eq!(r["receiving_unit"]["code"], NGOC_HA_CENTRE);
    assert_eq!(r["handling_unit"]["code"], "01.CAT");

    // Who may publish: the national administrators and Hà Nội's own; nobody else.
    let mine = app
        .token_for("hn.admin", "province_admin", None, Some(HN))
        .await;
    let body = json!({"procedures": [BIRTH, EXTRACT], "note": "Quyết định 99/QĐ-UBND"});
    let outsiders = [
        (
            "citizen",
            app.token_for("citizen1", "citizen", None, None).await,
        ),
        (
            "clerk",
            app.token_for("clerk1", "clerk", Some(BA_DINH_CENTRE), None)
                .await,
        ),
        (
            "supervisor",
            app.token_for("super1", "supervisor", None, Some(HN)).await,
        ),
        (
            "province_admin of 79",
            app.token_for("hcm.admin", "province_admin", None, Some("79"))
                .await,
        ),
    ];
    app.post(LIST, None, body.clone())
        .await
        .assert_problem(401, "missing_token");
    for (who, token) in &outsiders {
        let r = app.post(LIST, Some(token), body.clone()).await;
        assert_eq!(r.status.as_u16(), 403, "{who}: {}", r.text);
        let r = app.post(FEES, Some(token), json!({"fees": []})).await;
        assert_eq!(r.status.as_u16(), 403, "{who}: {}", r.text);
    }
    // A province administrator edits lists; it reads no dossier and no statistic.
    app.get("/api/v1/cases", Some(&mine))
        .await
        .assert_problem(403, "forbidden");
    app.get("/api/v1/stats/scorecard", Some(&mine))
        .await
        .assert_problem(403, "forbidden");
    // A province administrator needs a province.
    let admin = app.token_for("root", "admin", None, None).await;
    app.post(
        "/api/v1/users",
        Some(&admin),
        json!({"username": "nowhere", "password": "mat-khau-dai-1", "full_name": "Không Tỉnh", "role": "province_admin"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    // Bad lists change nothing.
    for (bad, code) in [
        (json!({"procedures": ["9.999999"]}), "unknown_procedure"),
        (json!({"procedures": [BIRTH, BIRTH]}), "duplicate_procedure"),
        (
            json!({"procedures": [BIRTH], "valid_from": "2025-07-01T00:00:00Z"}),
            "valid_from_in_past",
        ),
    ] {
        let p = app
            .post(LIST, Some(&mine), bad)
            .await
            .assert_problem(422, "validation_failed");
        assert_eq!(p["errors"][0]["code"], code, "{p}");
    }
    assert_eq!(
        app.get(LIST, None).await.json()["versions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let published = app
        .post(LIST, Some(&mine), body.clone())
        .await
        .assert_status(201);
    assert_eq!(
        codes(&published),
        vec![BIRTH.to_string(), EXTRACT.to_string()]
    );
    assert_eq!(published["note"], "Quyết định 99/QĐ-UBND");
    assert_eq!(published["versions"].as_array().unwrap().len(), 2);
    // In force at once: the criminal-record certificate is no longer received outside its
    // commune in Hà Nội, and still is in Hồ Chí Minh City.
    let p = app
        .post(
            "/api/v1/routing/resolve",
            None,
            json!({"procedure_code": CRIMINAL_RECORD, "address": {"ward_code": BA_DINH}, "received_at_unit": NGOC_HA_CENTRE}),
        )
        .await
        .assert_status(200);
    assert_eq!(p["rejection"], "receipt_outside_commune", "{p}");
    let r = route(&app, CRIMINAL_RECORD, HCM_WARD, "79.TTPVHCC", None).await;
    assert_eq!(r["boundary_independent"], true);
    // A version scheduled ahead takes effect at its instant; the same instant twice is a
    // conflict.
    let later = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let scheduled = json!({"procedures": [BIRTH], "valid_from": later});
    app.post(LIST, Some(&admin), scheduled.clone())
        .await
        .assert_status(201);
    app.post(LIST, Some(&admin), scheduled)
        .await
        .assert_problem(409, "version_exists");
    assert_eq!(codes(&app.get(LIST, None).await.json()).len(), 2);
    let future = app
        .get(&format!("{LIST}?at={}", later.replace('+', "%2B")), None)
        .await
        .assert_status(200);
    assert_eq!(codes(&future), vec![BIRTH.to_string()]);
    // Audited.
    let audit = app
        .get("/api/v1/audit?action=publish_province_list", Some(&admin))
        .await
        .assert_status(200);
    assert_eq!(audit["items"].as_array().unwrap().len(), 2, "{audit}");
    assert_eq!(audit["items"][0]["subject"], "01/boundary_independent");
}

/// Decree 118/2025/NĐ-CP: the applicant collects the result at the reception point
/// of their choice in the province, for the procedures on its list; competence never moves.
#[tokio::test]
async fn the_result_point_is_any_reception_point_of_the_province_decree_118() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let mut body = intake_body(BIRTH, BA_DINH);
    body["received_at_unit"] = json!(NGOC_HA_CENTRE);
    body["result_point"] = json!(HN_CENTRE);
    let filed = app.submit_online(&cast.citizen, body).await;
    assert_eq!(filed["receiving_unit"], NGOC_HA_CENTRE);
    assert_eq!(
        filed["handling_unit"], BA_DINH_PC,
        "competence does not move"
    );
    assert_eq!(filed["result_point"], HN_CENTRE);
    let explanation = filed["routing"]["explanation"].to_string();
    assert!(explanation.contains("Nhận kết quả tại"), "{explanation}");
    assert!(explanation.contains("118/2025"), "{explanation}");

    let before = app
        .get("/api/v1/cases", Some(&cast.citizen))
        .await
        .assert_status(200)["total"]
        .clone();
    for (procedure, point, code) in [
        (BIRTH, "79.TTPVHCC", "result_point_outside_province"),
        (BIRTH, "01.99999.TTPVHCC", "unknown_result_point"),
        (BIRTH, NGOC_HA_PC, "result_point_not_reception_point"),
        (RESIDENCE, NGOC_HA_CENTRE, "result_point_outside_commune"),
    ] {
        let mut body = intake_body(procedure, BA_DINH);
        body["result_point"] = json!(point);
        let body = app.with_documents(&cast.citizen, body).await;
        let r = app
            .send(
                app.client
                    .post(app.url("/api/v1/cases"))
                    .bearer_auth(&cast.citizen)
                    .header("idempotency-key", uuid::Uuid::new_v4().to_string())
                    .json(&body),
            )
            .await;
        r.assert_problem(422, code);
    }
    let after = app
        .get("/api/v1/cases", Some(&cast.citizen))
        .await
        .assert_status(200)["total"]
        .clone();
    assert_eq!(before, after, "a refused intake writes nothing");
    // The routing preview says the same.
    let r = route(&app, BIRTH, BA_DINH, BA_DINH_CENTRE, Some(NGOC_HA_CENTRE)).await;
    assert_eq!(r["result_point"]["code"], NGOC_HA_CENTRE);
}

/// Fees: the province's (Law on Fees and Charges 2015 art. 21), else the national one;
/// paid at the counter (Decree 61/2018/NĐ-CP art. 6) or through the online payment gateway
/// (Decree 45/2020/NĐ-CP art. 17); every payment leaves a receipt on the dossier.
#[tokio::test]
async fn fees_are_set_by_the_province_and_paid_with_a_receipt() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let hn_admin = app
        .token_for("hn.admin", "province_admin", None, Some(HN))
        .await;

    // National fee first.
    let r = route(&app, EXTRACT, BA_DINH, BA_DINH_CENTRE, None).await;
    assert_eq!(r["fee_vnd"], 8000);
    for (bad, code) in [
        (
            json!({"fees": [{"procedure_code": EXTRACT, "fee_vnd": -1}]}),
            "negative_amount",
        ),
        (
            json!({"fees": [{"procedure_code": EXTRACT, "fee_vnd": 100_000_001}]}),
            "amount_too_large",
        ),
        (
            json!({"fees": [{"procedure_code": "9.999999", "fee_vnd": 1}]}),
            "unknown_procedure",
        ),
    ] {
        let p = app
            .post(FEES, Some(&hn_admin), bad)
            .await
            .assert_problem(422, "validation_failed");
        assert_eq!(p["errors"][0]["code"], code, "{p}");
    }
    assert_eq!(app.get(FEES, None).await.json()["total"], 0);
    let fees = app
        .post(
            FEES,
            Some(&hn_admin),
            json!({"fees": [{"procedure_code": EXTRACT, "fee_vnd": 5000}], "note": "Nghị quyết 12/2026/NQ-HĐND"}),
        )
        .await
        .assert_status(201);
    assert_eq!(fees["items"][0]["fee_vnd"], 5000);
    assert_eq!(
        route(&app, EXTRACT, BA_DINH, BA_DINH_CENTRE, None).await["fee_vnd"],
        5000
    );
    assert_eq!(
        route(&app, EXTRACT, HCM_WARD, "79.TTPVHCC", None).await["fee_vnd"],
        8000,
        "another province keeps the national fee"
    );

    // Online: the citizen pays through the gateway, nothing else.
    let mut body = intake_body(EXTRACT, BA_DINH);
    body["payment_channel"] = json!("cash");
    let body = app.with_documents(&cast.citizen, body).await;
    let r = app
        .send(
            app.client
                .post(app.url("/api/v1/cases"))
                .bearer_auth(&cast.citizen)
                .header("idempotency-key", "pay-1")
                .json(&body),
        )
        .await;
    let p = r.assert_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["code"], "online_gateway_only");
    let mut body = intake_body(EXTRACT, BA_DINH);
    body["payment_channel"] = json!("online_gateway");
    body["payment_reference"] = json!("PAYGOV-2026-000001");
    let paid = app.submit_online(&cast.citizen, body).await;
    let code = paid["code"].as_str().unwrap();
    assert_eq!(paid["fee_vnd"], 5000);
    assert!(paid.get("fee_due_vnd").is_none());
    let receipt = &paid["receipts"][0];
    assert_eq!(receipt["number"], format!("{code}-BL1"));
    assert_eq!(receipt["purpose"], "fee");
    assert_eq!(receipt["amount_vnd"], 5000);
    assert_eq!(receipt["channel"], "online_gateway");
    assert_eq!(receipt["reference"], "PAYGOV-2026-000001");

    // Unpaid online: the fee is taken at receipt, at the counter.
    let unpaid = app
        .submit_online(&cast.citizen, intake_body(EXTRACT, BA_DINH))
        .await;
    let code = unpaid["code"].as_str().unwrap().to_string();
    assert_eq!(unpaid["fee_due_vnd"], 5000);
    let before = app.case_row(&code).await;
    let p = app
        .act(
            &cast.reception,
            &code,
            "receive",
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
            "receive",
            json!({"payment_channel": "cash"}),
        )
        .await
        .assert_status(200);
    assert_eq!(r["receipts"][0]["channel"], "cash");
    assert_eq!(r["receipts"][0]["unit"], BA_DINH_CENTRE);
    assert!(r.get("fee_due_vnd").is_none());

    // No fee, no payment: a birth registration is free.
    let free = app
        .submit_online(&cast.citizen, intake_body(BIRTH, BA_DINH))
        .await;
    let free_code = free["code"].as_str().unwrap().to_string();
    assert!(free.get("fee_vnd").is_none());
    let before = app.case_row(&free_code).await;
    let p = app
        .act(
            &cast.reception,
            &free_code,
            "receive",
            json!({"payment_channel": "cash"}),
        )
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["code"], "no_fee_due");
    assert_eq!(app.case_row(&free_code).await, before);

    // An absurd amount asked for later is refused.
    app.act(&cast.clerk, &code, "claim", json!({}))
        .await
        .assert_status(200);
    app.act(&cast.clerk, &code, "start_processing", json!({}))
        .await
        .assert_status(200);
    let before = app.case_row(&code).await;
    let p = app
        .act(
            &cast.clerk,
            &code,
            "request_payment",
            json!({"amount_vnd": 100_000_001}),
        )
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["code"], "amount_too_large");
    assert_eq!(app.case_row(&code).await, before);

    // A walk-in pays at the counter with the filing.
    let mut body = intake_body(EXTRACT, BA_DINH);
    body["payment_channel"] = json!("cash");
    let walk_in = app.file(&cast.reception, body).await.assert_status(201);
    assert_eq!(walk_in["receipts"][0]["amount_vnd"], 5000);
    assert_eq!(walk_in["receipts"][0]["channel"], "cash");
}
