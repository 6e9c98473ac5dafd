//! Routing decisions and routing overrides, over HTTP.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Resp, TestApp};

const RESOLVE: &str = "/api/v1/routing/resolve";

async fn route_en(app: &TestApp, body: Value) -> Resp {
    app.send(
        app.client
            .post(app.url(RESOLVE))
            .header("accept-language", "en")
            .json(&body),
    )
    .await
}

async fn route(app: &TestApp, procedure: &str, address: Value, at: Option<&str>) -> Value {
    let mut body = json!({"procedure_code": procedure, "address": address});
    if let Some(u) = at {
        body["received_at_unit"] = json!(u);
    }
    app.post(RESOLVE, None, body).await.assert_status(200)
}

fn explanation(r: &Value) -> String {
    r["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn competence_and_receipt() {
    let app = spawn_app().await;
    // A commune-level procedure: the commune People's Committee, received at its centre.
    let r = route(&app, "1.001193", json!({"ward_code": "00004"}), None).await;
    assert_eq!(r["status"], "routed");
    assert_eq!(r["handling_unit"]["code"], "01.00004.UBND");
    assert_eq!(r["handling_unit"]["kind"], "commune_pc");
    assert_eq!(r["handling_unit"]["name"], "Ủy ban nhân dân Phường Ba Đình");
    assert_eq!(r["receiving_unit"]["code"], "01.00004.TTPVHCC");
    assert_eq!(r["ward"]["code"], "00004");
    assert_eq!(r["era"], "2025");
    assert_eq!(r["procedure"]["code"], "1.001193");
    assert_eq!(r["procedure"]["version"], 1);
    assert_eq!(r["procedure"]["time_limit"]["kind"], "same_day");
    assert!(r["rejection"].is_null());
    assert!(explanation(&r).contains("cấp xã"), "{}", explanation(&r));

    // From an old address, in English.
    let r = route_en(
        &app,
        json!({"procedure_code": "1.001193",
               "address": {"text": "Phường Phúc Xá, Quận Ba Đình, Hà Nội"}}),
    )
    .await
    .assert_status(200);
    assert_eq!(r["handling_unit"]["code"], "01.00097.UBND");
    assert_eq!(
        r["handling_unit"]["name"],
        "People's Committee of Phường Hồng Hà"
    );
    assert_eq!(r["era"], "legacy");
    let text = explanation(&r);
    assert!(text.contains("commune-level procedure"), "{text}");
    assert!(text.contains("Phường Phúc Xá"), "{text}");

    // A province-level procedure: the provincial department, received at the provincial centre.
    let r = route(&app, "2.001610", json!({"ward_code": "00004"}), None).await;
    assert_eq!(r["handling_unit"]["code"], "01.STC");
    assert_eq!(r["handling_unit"]["kind"], "dept_finance");
    assert_eq!(r["receiving_unit"]["code"], "01.TTPVHCC");
    let r = route(&app, "3.000333", json!({"ward_code": "25747"}), None).await;
    assert_eq!(r["handling_unit"]["code"], "79.CAT");

    // Boundary-independent: received at another commune's centre of the same province.
    let r = route(
        &app,
        "1.001193",
        json!({"ward_code": "00004"}),
        Some("01.00008.TTPVHCC"),
    )
    .await;
    assert_eq!(r["status"], "routed");
    assert_eq!(r["receiving_unit"]["code"], "01.00008.TTPVHCC");
    assert_eq!(r["handling_unit"]["code"], "01.00004.UBND");
    assert!(explanation(&r).contains("không phụ thuộc địa giới"));
    // ... and at the provincial centre.
    let r = route(
        &app,
        "1.001193",
        json!({"ward_code": "00004"}),
        Some("01.TTPVHCC"),
    )
    .await;
    assert_eq!(r["status"], "routed");

    // Another province: refused.
    let r = route(
        &app,
        "1.001193",
        json!({"ward_code": "00004"}),
        Some("79.25747.TTPVHCC"),
    )
    .await;
    assert_eq!(r["status"], "rejected");
    assert_eq!(r["rejection"], "receipt_in_other_province");
    assert!(r["handling_unit"].is_null() && r["receiving_unit"].is_null());
    assert_eq!(r["ward"]["code"], "00004");

    // Permanent residence is not boundary-independent: only in the address's commune.
    let r = route(
        &app,
        "1.004222",
        json!({"ward_code": "00004"}),
        Some("01.00008.TTPVHCC"),
    )
    .await;
    assert_eq!(r["status"], "rejected");
    assert_eq!(r["rejection"], "receipt_outside_commune");
    let r = route(
        &app,
        "1.004222",
        json!({"ward_code": "00004"}),
        Some("01.00004.TTPVHCC"),
    )
    .await;
    assert_eq!(r["status"], "routed");
    assert_eq!(r["handling_unit"]["code"], "01.00004.CA");

    // Unknown receiving unit (well formed): a routing outcome, not an error.
    let r = route(
        &app,
        "1.001193",
        json!({"ward_code": "00004"}),
        Some("01.99999.TTPVHCC"),
    )
    .await;
    assert_eq!(r["rejection"], "unknown_receiving_unit");
    // A unit that does not receive dossiers.
    let r = route(
        &app,
        "1.001193",
        json!({"ward_code": "00004"}),
        Some("01.STP"),
    )
    .await;
    assert_eq!(r["rejection"], "not_a_reception_point");
    // An address that does not exist.
    let r = route(&app, "1.001193", json!({"ward_code": "99999"}), None).await;
    assert_eq!(r["status"], "rejected");
    assert_eq!(r["rejection"], "address_not_found");
    assert!(r["ward"].is_null());
}

#[tokio::test]
async fn ambiguous_addresses_give_candidate_units() {
    let app = spawn_app().await;
    // Phường Điện Biên was split across four new wards.
    let r = route(&app, "1.001193", json!({"legacy_ward_code": "00019"}), None).await;
    assert_eq!(r["status"], "ambiguous");
    assert!(r["handling_unit"].is_null() && r["ward"].is_null());
    let units: Vec<&str> = r["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["unit"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        units,
        [
            "01.00004.UBND",
            "01.00070.UBND",
            "01.00190.UBND",
            "01.00226.UBND"
        ]
    );
    assert_eq!(r["candidates"][1]["ward"]["code"], "00070");
    assert!(explanation(&r).contains("4"));
    // The provincial body is certain all the same.
    let r = route(&app, "2.001610", json!({"legacy_ward_code": "00019"}), None).await;
    assert_eq!(r["status"], "routed");
    assert_eq!(r["handling_unit"]["code"], "01.STC");
}

#[tokio::test]
async fn overrides_apply_by_priority_within_their_window() {
    let app = spawn_app().await;
    let admin = app.token_for("admin1", "admin", None, None).await;
    let citizen = app.token_for("citizen1", "citizen", None, None).await;
    let path = "/api/v1/routing/overrides";

    // Hà Nội assigns birth registration in Ba Đình to Ngọc Hà's committee.
    let procedure_rule = json!({
        "province_code": "01",
        "procedure_code": "1.001193",
        "from_unit_code": "01.00004.UBND",
        "to_unit_code": "01.00008.UBND",
        "priority": 1,
        "reason": "Tăng cường xử lý hộ tịch"
    });
    app.post(path, Some(&citizen), procedure_rule.clone())
        .await
        .assert_problem(403, "forbidden");
    let o1 = app
        .post(path, Some(&admin), procedure_rule)
        .await
        .assert_status(201);
    assert_eq!(o1["active"], true);
    let id1 = o1["id"].as_i64().unwrap();
    let r = route(&app, "1.001193", json!({"ward_code": "00004"}), None).await;
    assert_eq!(r["handling_unit"]["code"], "01.00008.UBND");
    assert!(
        explanation(&r).contains(&format!("#{id1}")),
        "{}",
        explanation(&r)
    );
    // Other procedures are not affected.
    let r = route(&app, "1.000656", json!({"ward_code": "00004"}), None).await;
    assert_eq!(r["handling_unit"]["code"], "01.00004.UBND");

    // Ba Đình's whole work goes to Giảng Võ for a week, with a higher priority.
    let until = Utc::now() + Duration::days(7);
    let o2 = app
        .post(
            path,
            Some(&admin),
            json!({
                "province_code": "1",
                "from_unit_code": "01.00004.UBND",
                "to_unit_code": "01.00025.UBND",
                "priority": 5,
                "valid_until": until,
                "reason": "Sửa chữa trụ sở"
            }),
        )
        .await
        .assert_status(201);
    let id2 = o2["id"].as_i64().unwrap();
    assert_eq!(o2["province_code"], "01");
    for procedure in ["1.001193", "1.000656"] {
        let r = route_en(
            &app,
            json!({"procedure_code": procedure, "address": {"ward_code": "00004"}}),
        )
        .await
        .assert_status(200);
        assert_eq!(r["handling_unit"]["code"], "01.00025.UBND", "{procedure}");
        let text = explanation(&r);
        assert!(
            text.contains(&format!("Override #{id2} applies (priority 5, valid until")),
            "{text}"
        );
        assert!(text.contains("Sửa chữa trụ sở"), "{text}");
    }
    // An expired override with a higher priority is ignored.
    app.post(
        path,
        Some(&admin),
        json!({
            "province_code": "01",
            "from_unit_code": "01.00004.UBND",
            "to_unit_code": "01.00070.UBND",
            "priority": 100,
            "valid_from": Utc::now() - Duration::days(10),
            "valid_until": Utc::now() - Duration::days(3),
            "reason": "Đã hết hạn"
        }),
    )
    .await
    .assert_status(201);
    // So is one that starts tomorrow.
    app.post(
        path,
        Some(&admin),
        json!({
            "province_code": "01",
            "procedure_code": "1.001193",
            "to_unit_code": "01.00070.UBND",
            "priority": 100,
            "valid_from": Utc::now() + Duration::days(1),
            "reason": "Sắp tới"
        }),
    )
    .await
    .assert_status(201);
    let r = route(&app, "1.001193", json!({"ward_code": "00004"}), None).await;
    assert_eq!(r["handling_unit"]["code"], "01.00025.UBND");

    // Deactivating the week's override brings the procedure override back.
    let p = app
        .patch(
            &format!("{path}/{id2}"),
            Some(&admin),
            json!({"active": false, "reason": "Đã sửa xong"}),
        )
        .await
        .assert_status(200);
    assert_eq!(p["active"], false);
    assert_eq!(p["reason"], "Đã sửa xong");
    let r = route(&app, "1.001193", json!({"ward_code": "00004"}), None).await;
    assert_eq!(r["handling_unit"]["code"], "01.00008.UBND");
    // Ending the procedure override now: back to the competent unit.
    app.patch(
        &format!("{path}/{id1}"),
        Some(&admin),
        json!({"valid_until": Utc::now()}),
    )
    .await
    .assert_status(200);
    let r = route(&app, "1.001193", json!({"ward_code": "00004"}), None).await;
    assert_eq!(r["handling_unit"]["code"], "01.00004.UBND");
    assert!(!explanation(&r).contains('#'), "{}", explanation(&r));

    // Listing (staff only).
    let list = app
        .get(&format!("{path}?province=1"), Some(&admin))
        .await
        .assert_status(200);
    assert_eq!(list["total"], 4);
    let list = app
        .get(&format!("{path}?active=false"), Some(&admin))
        .await
        .assert_status(200);
    assert_eq!(list["total"], 1);
    app.get(path, Some(&citizen))
        .await
        .assert_problem(403, "forbidden");
    app.get(path, None)
        .await
        .assert_problem(401, "missing_token");
    app.get(&format!("{path}?province=99"), Some(&admin))
        .await
        .assert_problem(422, "validation_failed");

    // Invalid overrides.
    for (body, field, code) in [
        (
            json!({"province_code": "01", "to_unit_code": "01.00025.UBND", "reason": "x"}),
            "procedure_code",
            "override_scope_required",
        ),
        (
            json!({"province_code": "01", "procedure_code": "9.999999", "to_unit_code": "01.00025.UBND", "reason": "x"}),
            "procedure_code",
            "unknown_procedure",
        ),
        (
            json!({"province_code": "01", "procedure_code": "1.001193", "to_unit_code": "79.25747.UBND", "reason": "x"}),
            "to_unit_code",
            "unit_in_other_province",
        ),
        (
            json!({"province_code": "01", "procedure_code": "1.001193", "to_unit_code": "01.99999.UBND", "reason": "x"}),
            "to_unit_code",
            "unknown_unit",
        ),
        (
            json!({"province_code": "01", "from_unit_code": "79.25747.UBND", "to_unit_code": "01.00025.UBND", "reason": "x"}),
            "from_unit_code",
            "unit_in_other_province",
        ),
        (
            json!({"province_code": "99", "procedure_code": "1.001193", "to_unit_code": "01.00025.UBND", "reason": "x"}),
            "province_code",
            "unknown_province",
        ),
        (
            json!({"province_code": "01", "procedure_code": "1.001193", "to_unit_code": "01.00025.UBND", "reason": ""}),
            "reason",
            "invalid_length",
        ),
        (
            json!({"province_code": "01", "procedure_code": "1.001193", "to_unit_code": "01.00025.UBND", "reason": "x",
                   "valid_from": Utc::now(), "valid_until": Utc::now() - Duration::days(1)}),
            "valid_until",
            "window_empty",
        ),
        (
            json!({"province_code": "01", "procedure_code": "1.001193", "to_unit_code": "01.00025.UBND", "reason": "x",
                   "priority": 5000}),
            "priority",
            "out_of_range",
        ),
    ] {
        let p = app
            .post(path, Some(&admin), body.clone())
            .await
            .assert_problem(422, "validation_failed");
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
        assert_eq!(p["errors"][0]["code"], code, "{body}: {p}");
    }
    // An inactive target unit.
    app.patch(
        "/api/v1/units/01.00025.UBND",
        Some(&admin),
        json!({"active": false}),
    )
    .await
    .assert_status(200);
    let p = app
        .post(
            path,
            Some(&admin),
            json!({"province_code": "01", "procedure_code": "1.001193", "to_unit_code": "01.00025.UBND", "reason": "x"}),
        )
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["code"], "unit_inactive");
    for id in ["999999", "abc"] {
        app.patch(
            &format!("{path}/{id}"),
            Some(&admin),
            json!({"active": false}),
        )
        .await
        .assert_problem(404, "override_not_found");
    }
    app.patch(
        &format!("{path}/{id1}"),
        Some(&citizen),
        json!({"active": false}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.patch(
        &format!("{path}/{id1}"),
        Some(&admin),
        json!({"priority": "high"}),
    )
    .await
    .assert_problem(422, "validation_failed");
}

#[tokio::test]
async fn another_instance_routes_by_a_new_override_after_its_refresh() {
    use motcua::app::{build_state, StartOptions};
    use motcua::domain::geography::AddressInput;
    let app = spawn_app().await;
    // A second instance on the same database, as a replica behind a load balancer.
    let other = build_state(
        crate::helpers::settings_for(&app.database_url, &Default::default()),
        StartOptions { migrate: false },
    )
    .await
    .expect("second instance");
    let handling = |state: &motcua::state::AppState| {
        motcua::services::routing::route(
            &state.catalog(),
            &state.gazetteer,
            &state.directory(),
            "1.001193",
            &AddressInput::WardCode("00004".into()),
            None,
            None,
            Utc::now(),
        )
        .expect("routed")
        .decision
        .handling_unit
        .expect("handling unit")
        .code
        .clone()
    };
    assert_eq!(handling(&other), "01.00004.UBND");

    let admin = app.token_for("admin1", "admin", None, None).await;
    app.post(
        "/api/v1/routing/overrides",
        Some(&admin),
        json!({
            "province_code": "01",
            "procedure_code": "1.001193",
            "to_unit_code": "01.00008.UBND",
            "reason": "Tăng cường xử lý hộ tịch"
        }),
    )
    .await
    .assert_status(201);
    // The instance that stored it routes by it at once ...
    assert_eq!(handling(&app.state), "01.00008.UBND");
    // ... the other one after its periodic reload (`jobs::refresh`), not from a stale copy.
    other.reload_catalog().await;
    assert_eq!(handling(&other), "01.00008.UBND");
    other.db.clone().close().await.ok();
}

#[tokio::test]
async fn bad_routing_input() {
    let app = spawn_app().await;
    let addr = json!({"ward_code": "00004"});
    for code in ["9.999999", "abc", &"1".repeat(10_000)] {
        app.post(
            RESOLVE,
            None,
            json!({"procedure_code": code, "address": addr}),
        )
        .await
        .assert_problem(404, "procedure_not_found");
    }
    let long = "x".repeat(10_000);
    for (body, field) in [
        (
            json!({"procedure_code": "", "address": addr}),
            "procedure_code",
        ),
        (
            json!({"procedure_code": "1.001193", "address": {}}),
            "address",
        ),
        (
            json!({"procedure_code": "1.001193", "address": {"text": ""}}),
            "address",
        ),
        (
            json!({"procedure_code": "1.001193", "address": {"text": long}}),
            "address.text",
        ),
        (
            json!({"procedure_code": "1.001193", "address": {"ward_code": "4", "legacy_ward_code": "1"}}),
            "address",
        ),
        (
            json!({"procedure_code": "1.001193", "address": {"ward_code": "x"}}),
            "address.ward_code",
        ),
        (
            json!({"procedure_code": "1.001193", "address": addr, "received_at_unit": "not a code"}),
            "received_at_unit",
        ),
        (
            json!({"procedure_code": "1.001193", "address": addr, "received_at_unit": long}),
            "received_at_unit",
        ),
    ] {
        let p = app
            .post(RESOLVE, None, body.clone())
            .await
            .assert_problem(422, "validation_failed");
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
    }
    app.post(RESOLVE, None, json!({"address": addr}))
        .await
        .assert_problem(422, "validation_failed");
    app.post(
        RESOLVE,
        None,
        json!({"procedure_code": "1.001193", "address": "Hà Nội"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.post(
        RESOLVE,
        None,
        json!({"procedure_code": "1.001193", "address": addr, "extra": 1}),
    )
    .await
    .assert_problem(422, "validation_failed");
}
