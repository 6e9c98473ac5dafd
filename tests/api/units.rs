//! Units API: listing, lookup, and administration.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn list_and_filter_units() {
    let app = spawn_app().await;
    let all = app.get("/api/v1/units", None).await.assert_status(200);
    assert_eq!(all["total"], 34 * 12 + 3321 * 3);
    assert_eq!(all["per_page"], 50);
    assert_eq!(all["items"].as_array().unwrap().len(), 50);

    let body = app
        .get(
            "/api/v1/units?province=1&kind=commune_pc&per_page=500",
            None,
        )
        .await
        .assert_status(200);
    assert_eq!(body["total"], 126);
    assert!(body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["kind"] == "commune_pc" && u["province_code"] == "01"));

    let body = app
        .get("/api/v1/units?ward=4", None)
        .await
        .assert_status(200);
    let codes: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["01.00004.CA", "01.00004.TTPVHCC", "01.00004.UBND"]);

    // q: the name without diacritics, or part of the code.
    for q in [
        "phuong ba dinh",
        "PHƯỜNG BA ĐÌNH",
        "People's Committee of Phường Ba Đình",
    ] {
        let body = app
            .get(
                &format!("/api/v1/units?province=01&q={}", urlencoding(q)),
                None,
            )
            .await
            .assert_status(200);
        assert!(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|u| u["code"] == "01.00004.UBND"),
            "{q}: {body}"
        );
    }
    let body = app
        .get(
            "/api/v1/units?q=ttpvhcc&province=01&per_page=10&page=2",
            None,
        )
        .await
        .assert_status(200);
    assert_eq!(body["total"], 127);
    assert_eq!(body["items"].as_array().unwrap().len(), 10);
    assert_eq!(body["page"], 2);

    // Bad filters.
    for url in [
        "/api/v1/units?kind=ministry",
        "/api/v1/units?province=99",
        "/api/v1/units?province=abc",
        "/api/v1/units?ward=99999",
        "/api/v1/units?page=0",
        "/api/v1/units?per_page=100000",
        "/api/v1/units?active=maybe",
    ] {
        app.get(url, None)
            .await
            .assert_problem(422, "validation_failed");
    }
    let long = "a".repeat(10_000);
    app.get(&format!("/api/v1/units?q={long}"), None)
        .await
        .assert_problem(422, "validation_failed");
}

#[tokio::test]
async fn get_one_unit() {
    let app = spawn_app().await;
    let u = app
        .get("/api/v1/units/01.00004.UBND", None)
        .await
        .assert_status(200);
    assert_eq!(u["name"], "Ủy ban nhân dân Phường Ba Đình");
    assert_eq!(u["name_en"], "People's Committee of Phường Ba Đình");
    assert_eq!(u["kind"], "commune_pc");
    assert_eq!(u["level"], "commune");
    assert_eq!(u["province_code"], "01");
    assert_eq!(u["ward_code"], "00004");
    assert!(u["parent_code"].is_null());
    assert_eq!(u["working_hours"], "07:30-11:30,13:00-17:00");
    assert_eq!(u["receives_dossiers"], false);
    assert_eq!(u["active"], true);
    let c = app
        .get("/api/v1/units/01.TTPVHCC", None)
        .await
        .assert_status(200);
    assert_eq!(c["receives_dossiers"], true);
    assert_eq!(c["parent_code"], "01.UBND");
    assert!(c["ward_code"].is_null());

    for code in [
        "01.99999.UBND",
        "nope",
        "01-UBND",
        "%20",
        &"A".repeat(10_000),
    ] {
        app.get(&format!("/api/v1/units/{code}"), None)
            .await
            .assert_problem(404, "unit_not_found");
    }
}

#[tokio::test]
async fn admins_create_edit_and_deactivate_units() {
    let app = spawn_app().await;
    let admin = app.token_for("admin1", "admin", None, None).await;
    let citizen = app.token_for("citizen1", "citizen", None, None).await;
    let supervisor = app.token_for("sup1", "supervisor", None, Some("01")).await;
    let new_unit = json!({
        "code": "01.VPDKDD.CN1",
        "name": "Chi nhánh Văn phòng Đăng ký đất đai số 1",
        "name_en": "Land Registration Office, branch 1",
        "kind": "land_registration_office",
        "province_code": "1"
    });

    // Only administrators.
    app.post("/api/v1/units", None, new_unit.clone())
        .await
        .assert_problem(401, "missing_token");
    app.post("/api/v1/units", Some(&citizen), new_unit.clone())
        .await
        .assert_problem(403, "forbidden");
    app.post("/api/v1/units", Some(&supervisor), new_unit.clone())
        .await
        .assert_problem(403, "forbidden");

    let u = app
        .post("/api/v1/units", Some(&admin), new_unit.clone())
        .await
        .assert_status(201);
    assert_eq!(u["code"], "01.VPDKDD.CN1");
    assert_eq!(u["level"], "province");
    assert_eq!(u["province_code"], "01");
    assert_eq!(u["parent_code"], "01.UBND");
    assert_eq!(u["receives_dossiers"], false);
    assert_eq!(u["working_hours"], "07:30-11:30,13:00-17:00");
    assert!(app.state.directory().unit("01.VPDKDD.CN1").is_some());
    app.post("/api/v1/units", Some(&admin), new_unit)
        .await
        .assert_problem(409, "unit_exists");

    // A commune-level reception point: receives dossiers by default.
    let c = app
        .post(
            "/api/v1/units",
            Some(&admin),
            json!({
                "code": "01.00004.DIEMTIEPNHAN2",
                "name": "Điểm tiếp nhận số 2 Phường Ba Đình",
                "name_en": "Reception point 2 of Phường Ba Đình",
                "kind": "commune_service_centre",
                "province_code": "01",
                "ward_code": "4",
                "working_hours": "08:00-12:00, 13:30-17:30"
            }),
        )
        .await
        .assert_status(201);
    assert_eq!(c["ward_code"], "00004");
    assert_eq!(c["receives_dossiers"], true);
    assert_eq!(c["parent_code"], "01.00004.UBND");
    assert_eq!(c["working_hours"], "08:00-12:00,13:30-17:30");
    // The standard centre stays the commune's default reception point.
    let d = app.state.directory();
    assert_eq!(
        d.competent(
            motcua::domain::unit::UnitKind::CommuneServiceCentre,
            "01",
            "00004"
        )
        .unwrap()
        .code,
        "01.00004.TTPVHCC"
    );

    // Every invalid field at once.
    let r = app
        .post(
            "/api/v1/units",
            Some(&admin),
            json!({
                "code": "bad code",
                "name": "",
                "name_en": "x".repeat(10_000),
                "kind": "ministry",
                "province_code": "99",
                "working_hours": "8h-17h"
            }),
        )
        .await;
    let p = r.assert_problem(422, "validation_failed");
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in [
        "code",
        "name",
        "name_en",
        "kind",
        "province_code",
        "working_hours",
    ] {
        assert!(fields.contains(&f), "{f} in {p}");
    }
    for (body, field, code) in [
        (
            json!({"code": "01.00004.X", "name": "X", "name_en": "X", "kind": "commune_police", "province_code": "01"}),
            "ward_code",
            "required",
        ),
        (
            json!({"code": "01.X", "name": "X", "name_en": "X", "kind": "dept_health", "province_code": "01", "ward_code": "4"}),
            "ward_code",
            "not_allowed",
        ),
        (
            json!({"code": "79.25747.X", "name": "X", "name_en": "X", "kind": "commune_police", "province_code": "01", "ward_code": "25747"}),
            "ward_code",
            "ward_not_in_province",
        ),
        (
            json!({"code": "79.X", "name": "X", "name_en": "X", "kind": "dept_health", "province_code": "01"}),
            "code",
            "code_prefix_mismatch",
        ),
        (
            json!({"code": "01.00008.X", "name": "X", "name_en": "X", "kind": "commune_police", "province_code": "01", "ward_code": "4"}),
            "code",
            "code_prefix_mismatch",
        ),
        (
            json!({"code": "01.X", "name": "X", "name_en": "X", "kind": "dept_health", "province_code": "01", "working_hours": "17:00-08:00"}),
            "working_hours",
            "invalid_working_hours",
        ),
    ] {
        let p = app
            .post("/api/v1/units", Some(&admin), body.clone())
            .await
            .assert_problem(422, "validation_failed");
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
        assert_eq!(p["errors"][0]["code"], code, "{body}: {p}");
    }
    app.post(
        "/api/v1/units",
        Some(&admin),
        json!({"code": "01.X", "name": "X", "name_en": "X", "kind": "dept_health", "province_code": "01", "parent_code": "01.UBND"}),
    )
    .await
    .assert_problem(422, "validation_failed");

    // Edit, then deactivate.
    let e = app
        .patch(
            "/api/v1/units/01.00004.DIEMTIEPNHAN2",
            Some(&admin),
            json!({"name": "Điểm tiếp nhận Ba Đình 2", "working_hours": "07:00-11:00,13:00-17:00"}),
        )
        .await
        .assert_status(200);
    assert_eq!(e["name"], "Điểm tiếp nhận Ba Đình 2");
    assert_eq!(e["name_en"], "Reception point 2 of Phường Ba Đình");
    assert_eq!(e["working_hours"], "07:00-11:00,13:00-17:00");
    let e = app
        .patch(
            "/api/v1/units/01.00004.DIEMTIEPNHAN2",
            Some(&admin),
            json!({"active": false}),
        )
        .await
        .assert_status(200);
    assert_eq!(e["active"], false);
    assert!(
        !app.state
            .directory()
            .unit("01.00004.DIEMTIEPNHAN2")
            .unwrap()
            .active
    );
    let listed = app
        .get("/api/v1/units?ward=00004&active=false", None)
        .await
        .assert_status(200);
    assert_eq!(listed["total"], 1);
    // Routing refuses an inactive reception point.
    let r = app
        .post(
            "/api/v1/routing/resolve",
            None,
            json!({"procedure_code": "1.001193", "address": {"ward_code": "00004"},
                   "received_at_unit": "01.00004.DIEMTIEPNHAN2"}),
        )
        .await
        .assert_status(200);
    assert_eq!(r["status"], "rejected");
    assert_eq!(r["rejection"], "receiving_unit_inactive");

    app.patch(
        "/api/v1/units/01.00004.UBND",
        Some(&citizen),
        json!({"active": false}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.patch(
        "/api/v1/units/01.99999.UBND",
        Some(&admin),
        json!({"active": false}),
    )
    .await
    .assert_problem(404, "unit_not_found");
    app.patch("/api/v1/units/nope", Some(&admin), json!({"active": false}))
        .await
        .assert_problem(404, "unit_not_found");
    for body in [
        json!({"working_hours": "all day"}),
        json!({"name": "   "}),
        json!({"kind": "dept_health"}),
        json!({"active": "no"}),
    ] {
        app.patch("/api/v1/units/01.00004.UBND", Some(&admin), body)
            .await
            .assert_problem(422, "validation_failed");
    }
}

fn urlencoding(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
