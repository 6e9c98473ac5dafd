//! The procedure catalog: reading, creation and versioned edits.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::helpers::spawn_app;

fn codes(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn list_and_read_the_catalog() {
    let app = spawn_app().await;
    let all = app.get("/api/v1/procedures", None).await.assert_status(200);
    assert_eq!(
        all["total"], 25,
        "21 procedures of domain.md §6, 2 bundles and 2 of their parts"
    );
    assert!(all["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["version"] == 1 && p["in_force"] == true));

    // q ignores diacritics and case; it matches English names and codes too.
    for q in [
        "khai sinh",
        "KHAI SINH",
        "khai%20sinh",
        "Khai%20sinh",
        "birth",
    ] {
        let b = app
            .get(&format!("/api/v1/procedures?q={q}"), None)
            .await
            .assert_status(200);
        let c = codes(&b);
        assert!(c.contains(&"1.001193".to_string()), "{q}: {c:?}");
        assert!(c.contains(&"2.000528".to_string()), "{q}: {c:?}");
    }
    let b = app
        .get(
            "/api/v1/procedures?q=%C4%91%C4%83ng%20k%C3%BD%20khai%20sinh",
            None,
        )
        .await
        .assert_status(200);
    assert_eq!(
        codes(&b),
        ["1.001193", "2.000528", "3.000722"],
        "and the birth bundle"
    );
    let b = app
        .get("/api/v1/procedures?q=1.0042", None)
        .await
        .assert_status(200);
    assert_eq!(codes(&b), ["1.004222"]);
    let b = app
        .get("/api/v1/procedures?level=province", None)
        .await
        .assert_status(200);
    assert_eq!(
        codes(&b),
        ["1.012783", "2.001610", "3.000333", "3.000722.03"]
    );
    let b = app
        .get("/api/v1/procedures?field=ho%20tich&level=commune", None)
        .await
        .assert_status(200);
    assert!(codes(&b).contains(&"1.000894".to_string()));
    assert!(!codes(&b).contains(&"1.004222".to_string()));

    let birth = app
        .get("/api/v1/procedures/1.001193", None)
        .await
        .assert_status(200);
    assert_eq!(birth["name_vi"], "Đăng ký khai sinh");
    assert_eq!(birth["level"], "commune");
    assert_eq!(birth["competent_unit_kind"], "commune_pc");
    assert_eq!(birth["time_limit"]["kind"], "same_day");
    assert!(birth["time_limit"]["hours"].is_null());
    assert_eq!(birth["boundary_independent"], true);
    assert_eq!(birth["online_level"], "full");
    assert!(!birth["required_documents"].as_array().unwrap().is_empty());
    assert!(!birth["steps"].as_array().unwrap().is_empty());
    assert_eq!(birth["versions"].as_array().unwrap().len(), 1);
    let ent = app
        .get("/api/v1/procedures/2.001610", None)
        .await
        .assert_status(200);
    assert_eq!(ent["time_limit"]["kind"], "working_hours");
    assert_eq!(ent["time_limit"]["hours"], 24);
    assert_eq!(ent["time_limit"]["working_days"], 3.0);

    // Bad input.
    for url in [
        "/api/v1/procedures/9.999999",
        "/api/v1/procedures/abc",
        &format!("/api/v1/procedures/{}", "1".repeat(10_000)),
    ] {
        app.get(url, None)
            .await
            .assert_problem(404, "procedure_not_found");
    }
    app.get("/api/v1/procedures/1.001193?version=2", None)
        .await
        .assert_problem(404, "procedure_version_not_found");
    for url in [
        "/api/v1/procedures/1.001193?version=abc",
        "/api/v1/procedures/1.001193?version=0",
        "/api/v1/procedures?level=district",
        &format!("/api/v1/procedures?q={}", "a".repeat(10_000)),
    ] {
        app.get(url, None)
            .await
            .assert_problem(422, "validation_failed");
    }
}

#[tokio::test]
async fn an_edit_makes_a_new_version() {
    let app = spawn_app().await;
    let admin = app.token_for("admin1", "admin", None, None).await;
    let citizen = app.token_for("citizen1", "citizen", None, None).await;
    let before = Utc::now();
    let path = "/api/v1/procedures/2.001610";

    app.patch(path, Some(&citizen), json!({"time_limit_hours": 16}))
        .await
        .assert_problem(403, "forbidden");
    app.patch(path, None, json!({"time_limit_hours": 16}))
        .await
        .assert_problem(401, "missing_token");

    let v2 = app
        .patch(
            path,
            Some(&admin),
            json!({"time_limit_hours": 16, "fee_vnd": 100000, "legal_basis": "Nghị định 168/2025/NĐ-CP",
                   "steps": [
                       {"key": "reception", "name_vi": "Tiếp nhận", "name_en": "Receipt", "hours": 1},
                       {"key": "processing", "name_vi": "Thẩm định", "name_en": "Examination", "hours": 12},
                       {"key": "approval", "name_vi": "Phê duyệt", "name_en": "Approval", "hours": 2},
                       {"key": "result", "name_vi": "Trả kết quả", "name_en": "Result", "hours": 1}
                   ]}),
        )
        .await
        .assert_status(200);
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["in_force"], true);
    assert_eq!(v2["time_limit"]["hours"], 16);
    assert_eq!(v2["fee_vnd"], 100000);
    // Copied from version 1.
    assert_eq!(v2["name_vi"], "Đăng ký thành lập doanh nghiệp tư nhân");
    assert_eq!(v2["required_documents"].as_array().unwrap().len(), 2);
    assert_eq!(v2["competent_unit_kind"], "dept_finance");
    let versions: Vec<i64> = v2["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [2, 1]);

    // The old version stays readable; the current one is version 2.
    let cur = app.get(path, None).await.assert_status(200);
    assert_eq!(cur["version"], 2);
    let v1 = app
        .get(&format!("{path}?version=1"), None)
        .await
        .assert_status(200);
    assert_eq!(v1["time_limit"]["hours"], 24);
    assert_eq!(v1["in_force"], false);
    let list = app
        .get("/api/v1/procedures?q=2.001610", None)
        .await
        .assert_status(200);
    assert_eq!(list["items"][0]["version"], 2);
    // `in_force` picks by instant.
    let db = &app.state.db;
    let at_before =
        motcua::repo::procedures::in_force(db, "2.001610", before - Duration::seconds(1))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(at_before.version, 1);
    let now = motcua::repo::procedures::in_force(db, "2.001610", Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.version, 2);

    // A version for later: not in force yet.
    let later = Utc::now() + Duration::days(1);
    let v3 = app
        .patch(
            path,
            Some(&admin),
            json!({"same_day": true, "steps": [], "valid_from": later}),
        )
        .await
        .assert_status(200);
    assert_eq!(v3["version"], 3);
    assert_eq!(v3["in_force"], false);
    assert_eq!(v3["time_limit"]["kind"], "same_day");
    assert_eq!(app.get(path, None).await.assert_status(200)["version"], 2);
    let then = motcua::repo::procedures::in_force(db, "2.001610", later + Duration::hours(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(then.version, 3);
    // Routing uses the version in force now.
    let r = app
        .post(
            "/api/v1/routing/resolve",
            None,
            json!({"procedure_code": "2.001610", "address": {"ward_code": "00004"}}),
        )
        .await
        .assert_status(200);
    assert_eq!(r["procedure"]["version"], 2);
    assert_eq!(r["procedure"]["time_limit"]["hours"], 16);

    // Invalid edits.
    for (body, field, code) in [
        (
            json!({"fee_vnd": 1, "valid_from": Utc::now() - Duration::hours(1)}),
            "valid_from",
            "valid_from_in_past",
        ),
        (
            json!({"fee_vnd": 1}),
            "valid_from",
            "valid_from_before_latest",
        ),
        (json!({}), "body", "no_changes"),
        (
            json!({"competent_unit_kind": "commune_pc", "valid_from": later}),
            "competent_unit_kind",
            "kind_level_mismatch",
        ),
        (
            json!({"competent_unit_kind": "province_service_centre", "valid_from": later}),
            "competent_unit_kind",
            "not_a_handling_kind",
        ),
        (
            json!({"same_day": false, "time_limit_hours": 0, "valid_from": later}),
            "time_limit_hours",
            "out_of_range",
        ),
        (
            json!({"online_level": "sometimes", "valid_from": later}),
            "online_level",
            "invalid_online_level",
        ),
        (
            json!({"name_vi": "", "valid_from": later}),
            "name_vi",
            "invalid_length",
        ),
    ] {
        let p = app
            .patch(path, Some(&admin), body.clone())
            .await
            .assert_problem(422, "validation_failed");
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
        assert_eq!(p["errors"][0]["code"], code, "{body}: {p}");
    }
    app.patch(path, Some(&admin), json!({"code": "1.000001"}))
        .await
        .assert_problem(422, "validation_failed");
    app.patch(
        "/api/v1/procedures/9.999999",
        Some(&admin),
        json!({"fee_vnd": 1}),
    )
    .await
    .assert_problem(404, "procedure_not_found");
    // Nothing was written by the failed edits.
    let all = app.get(path, None).await.assert_status(200);
    assert_eq!(all["versions"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn admins_create_procedures() {
    let app = spawn_app().await;
    let admin = app.token_for("admin1", "admin", None, None).await;
    let clerk = app
        .token_for("clerk1", "clerk", Some("01.00004.UBND"), None)
        .await;
    let body = json!({
        "code": "1.999001",
        "name_vi": "Đăng ký thử nghiệm",
        "name_en": "Test registration",
        "field": "Thử nghiệm",
        "level": "commune",
        "competent_unit_kind": "commune_pc",
        "time_limit_hours": 16,
        "boundary_independent": true,
        "online_level": "partial",
        "fee_vnd": 50000,
        "required_documents": [{"kind": "to_khai", "name_vi": "Tờ khai", "name_en": "Form"}],
        "steps": [{"key": "processing", "name_vi": "Xử lý", "name_en": "Processing", "hours": 8}],
        "at_risk_ratio": 0.75
    });
    app.post("/api/v1/procedures", Some(&clerk), body.clone())
        .await
        .assert_problem(403, "forbidden");
    let p = app
        .post("/api/v1/procedures", Some(&admin), body.clone())
        .await
        .assert_status(201);
    assert_eq!(p["code"], "1.999001");
    assert_eq!(p["version"], 1);
    assert_eq!(p["in_force"], true);
    assert_eq!(p["time_limit"]["working_days"], 2.0);
    assert_eq!(p["required_documents"][0]["mandatory"], true);
    assert_eq!(p["at_risk_ratio"], 0.75);
    assert_eq!(
        app.get("/api/v1/procedures", None).await.assert_status(200)["total"],
        26
    );
    // A bundle's parts are procedures of the catalog, never bundles themselves.
    for (part, status, code) in [
        ("1.999777", 422, "unknown_part"),
        ("3.000722", 422, "unknown_part"),
    ] {
        let mut bundle = body.clone();
        bundle["code"] = json!("1.999002");
        bundle["parts"] = json!([{"procedure": part, "share_hours": 8}]);
        let p = app
            .post("/api/v1/procedures", Some(&admin), bundle)
            .await
            .assert_problem(status, "validation_failed");
        assert_eq!(p["errors"][0]["code"], code, "{p}");
    }
    let mut bundle = body.clone();
    bundle["code"] = json!("1.999002");
    bundle["parts"] = json!([{"procedure": "1.999001", "share_hours": 8}]);
    let b = app
        .post("/api/v1/procedures", Some(&admin), bundle)
        .await
        .assert_status(201);
    assert_eq!(b["parts"][0]["procedure"], "1.999001");
    app.post("/api/v1/procedures", Some(&admin), body.clone())
        .await
        .assert_problem(409, "procedure_exists");
    // The national catalogue's field code (sent to the national portal as MaLinhVuc): kept,
    // checked, and cleared by `null` in a new version.
    assert!(p["field_code"].is_null());
    let mut coded = body.clone();
    coded["code"] = json!("1.999003");
    coded["field_code"] = json!("lĩnh vực");
    let e = app
        .post("/api/v1/procedures", Some(&admin), coded.clone())
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(
        (&e["errors"][0]["field"], &e["errors"][0]["code"]),
        (&json!("field_code"), &json!("invalid_field_code")),
        "{e}"
    );
    coded["field_code"] = json!("HT-001");
    let c = app
        .post("/api/v1/procedures", Some(&admin), coded)
        .await
        .assert_status(201);
    assert_eq!(c["field_code"], "HT-001");
    let c = app
        .patch(
            "/api/v1/procedures/1.999003",
            Some(&admin),
            json!({"field_code": null}),
        )
        .await
        .assert_status(200);
    assert_eq!(
        (c["version"].as_i64(), c["field_code"].is_null()),
        (Some(2), true)
    );
    app.post(
        "/api/v1/procedures",
        Some(&admin),
        json!({"code": "1.001193", "name_vi": "x", "name_en": "x", "field": "x", "level": "commune",
               "competent_unit_kind": "commune_pc", "same_day": true, "boundary_independent": true,
               "online_level": "full"}),
    )
    .await
    .assert_problem(409, "procedure_exists");

    // Routable at once.
    let r = app
        .post(
            "/api/v1/routing/resolve",
            None,
            json!({"procedure_code": "1.999001", "address": {"ward_code": "00004"}}),
        )
        .await
        .assert_status(200);
    assert_eq!(r["status"], "routed");
    assert_eq!(r["handling_unit"]["code"], "01.00004.UBND");

    // Every error at once.
    let p = app
        .post(
            "/api/v1/procedures",
            Some(&admin),
            json!({
                "code": "x1",
                "name_vi": "Tên",
                "level": "commune",
                "competent_unit_kind": "province_service_centre",
                "same_day": true,
                "time_limit_hours": 8,
                "online_level": "full",
                "fee_vnd": -5,
                "at_risk_ratio": 1.5
            }),
        )
        .await
        .assert_problem(422, "validation_failed");
    let fields: Vec<(String, String)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (f, c) in [
        ("code", "invalid_procedure_code"),
        ("name_en", "required"),
        ("field", "required"),
        ("boundary_independent", "required"),
        ("competent_unit_kind", "kind_level_mismatch"),
        ("time_limit_hours", "same_day_has_no_hours"),
        ("fee_vnd", "out_of_range"),
        ("at_risk_ratio", "out_of_range"),
    ] {
        assert!(
            fields.contains(&(f.to_string(), c.to_string())),
            "{f}/{c} in {fields:?}"
        );
    }
    // Steps longer than the limit; a time limit is needed.
    let mut long = body.clone();
    long["code"] = json!("1.999002");
    long["time_limit_hours"] = json!(4);
    let p = app
        .post("/api/v1/procedures", Some(&admin), long)
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["code"], "steps_exceed_limit");
    let mut none = body.clone();
    none["code"] = json!("1.999003");
    none.as_object_mut().unwrap().remove("time_limit_hours");
    let p = app
        .post("/api/v1/procedures", Some(&admin), none)
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "time_limit_hours");
    assert_eq!(p["errors"][0]["code"], "required");
    let mut bad_step = body.clone();
    bad_step["code"] = json!("1.999004");
    bad_step["steps"] = json!([{"key": "lunch", "name_vi": "x", "name_en": "x", "hours": 1}]);
    app.post("/api/v1/procedures", Some(&admin), bad_step)
        .await
        .assert_problem(422, "validation_failed");
    let mut past = body;
    past["code"] = json!("1.999005");
    past["valid_from"] = json!(Utc::now() - Duration::days(1));
    let p = app
        .post("/api/v1/procedures", Some(&admin), past)
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["code"], "valid_from_in_past");
}
