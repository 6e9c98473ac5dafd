//! The audit log: administrators' changes to reference data and reads of dossiers, each
//! written with the change itself, readable by administrators only.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn administrators_changes_and_reads_are_in_the_audit_log() {
    let app = spawn_app().await;
    let admin = app.token_for("admin1", "admin", None, None).await;
    let cast = app.cast().await;
    let me = app.get("/api/v1/me", Some(&admin)).await.assert_status(200);
    let admin_id = me["id"].as_str().unwrap().to_string();

    // A unit created, then renamed.
    app.post(
        "/api/v1/units",
        Some(&admin),
        json!({"code": "01.VPDKDD.CN1", "name": "Chi nhánh số 1", "name_en": "Branch 1",
               "kind": "land_registration_office", "province_code": "01"}),
    )
    .await
    .assert_status(201);
    app.patch(
        "/api/v1/units/01.VPDKDD.CN1",
        Some(&admin),
        json!({"name": "Chi nhánh Văn phòng Đăng ký đất đai số 1"}),
    )
    .await
    .assert_status(200);
    // A routing override created, then switched off.
    let o = app
        .post(
            "/api/v1/routing/overrides",
            Some(&admin),
            json!({"province_code": "01", "from_unit_code": "01.00004.UBND",
                   "to_unit_code": "01.00008.UBND", "priority": 1, "reason": "Tăng cường"}),
        )
        .await
        .assert_status(201);
    let override_id = o["id"].as_i64().unwrap();
    app.patch(
        &format!("/api/v1/routing/overrides/{override_id}"),
        Some(&admin),
        json!({"active": false}),
    )
    .await
    .assert_status(200);
    // A procedure edited (a new version).
    app.patch(
        "/api/v1/procedures/1.001193",
        Some(&admin),
        json!({"fee_vnd": 10000}),
    )
    .await
    .assert_status(200);
    // A dossier read by the administrator.
    let case = app
        .submit_online(&cast.citizen, intake_body(BIRTH, BA_DINH))
        .await;
    let code = case["code"].as_str().unwrap();
    app.get(&format!("/api/v1/cases/{code}"), Some(&admin))
        .await
        .assert_status(200);

    let log = app
        .get("/api/v1/audit?per_page=500", Some(&admin))
        .await
        .assert_status(200);
    let items = log["items"].as_array().unwrap();
    let actions: Vec<(&str, &str)> = items
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["subject"].as_str().unwrap(),
            )
        })
        .collect();
    let override_subject = format!("override:{override_id}");
    // Newest first.
    assert_eq!(
        actions,
        [
            ("read_case", code),
            ("procedure.edit", "1.001193"),
            ("override.update", override_subject.as_str()),
            ("override.create", override_subject.as_str()),
            ("unit.update", "01.VPDKDD.CN1"),
            ("unit.create", "01.VPDKDD.CN1"),
        ]
    );
    assert_eq!(log["total"], 6);
    assert!(items.iter().all(|e| e["account_id"] == admin_id.as_str()));
    let rename = &items[4]["details"];
    assert_eq!(rename["before"]["name"], "Chi nhánh số 1");
    assert_eq!(
        rename["after"]["name"],
        "Chi nhánh Văn phòng Đăng ký đất đai số 1"
    );
    assert_eq!(items[2]["details"]["before"]["active"], true);
    assert_eq!(items[2]["details"]["after"]["active"], false);
    assert_eq!(items[1]["details"]["before"]["version"], 1);
    assert_eq!(items[1]["details"]["after"]["version"], 2);
    assert!(items[0]["details"].is_null());

    // Filters.
    let unit_log = app
        .get("/api/v1/audit?subject=01.VPDKDD.CN1", Some(&admin))
        .await
        .assert_status(200);
    assert_eq!(unit_log["total"], 2);
    let creations = app
        .get("/api/v1/audit?action=override.create", Some(&admin))
        .await
        .assert_status(200);
    assert_eq!(creations["total"], 1);
    let later = app
        .get("/api/v1/audit?since=2999-01-01T00:00:00Z", Some(&admin))
        .await
        .assert_status(200);
    assert_eq!(later["total"], 0);

    // Administrators only; bad filters are 422.
    app.get("/api/v1/audit", None)
        .await
        .assert_problem(401, "missing_token");
    for token in [&cast.citizen, &cast.clerk, &cast.head] {
        app.get("/api/v1/audit", Some(token))
            .await
            .assert_problem(403, "forbidden");
    }
    app.get("/api/v1/audit?per_page=0", Some(&admin))
        .await
        .assert_status(422);
    app.get("/api/v1/audit?since=yesterday", Some(&admin))
        .await
        .assert_status(422);
}

/// A change that fails writes no audit entry (they commit together).
#[tokio::test]
async fn a_refused_change_leaves_no_audit_entry() {
    let app = spawn_app().await;
    let admin = app.token_for("admin1", "admin", None, None).await;
    app.patch(
        "/api/v1/units/01.00004.UBND",
        Some(&admin),
        json!({"working_hours": "25:00-26:00"}),
    )
    .await
    .assert_status(422);
    app.patch(
        "/api/v1/units/01.99999.UBND",
        Some(&admin),
        json!({"active": false}),
    )
    .await
    .assert_status(404);
    let log = app
        .get("/api/v1/audit", Some(&admin))
        .await
        .assert_status(200);
    assert_eq!(log["total"], 0, "{log}");
}

/// Accounts created and changed by an administrator are audited without secrets or personal
/// data; self-registration is not an administrator's act.
#[tokio::test]
async fn account_administration_is_audited_without_personal_data() {
    let app = spawn_app().await;
    let admin = app.token_for("root", "admin", None, None).await;
    let created = app
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({"username": "sup.hn", "password": "supervisor pass", "role": "supervisor",
                   "province": "1", "full_name": "Giám sát Hà Nội", "phone": "0912345678",
                   "id_number": "001203004567"}),
        )
        .await
        .assert_status(201);
    let id = created["id"].as_str().unwrap();
    app.patch(
        &format!("/api/v1/users/{id}"),
        Some(&admin),
        json!({"disabled": true, "full_name": "Giám sát viên Hà Nội"}),
    )
    .await
    .assert_status(200);
    let log = app
        .get(&format!("/api/v1/audit?subject={id}"), Some(&admin))
        .await
        .assert_status(200);
    let items = log["items"].as_array().unwrap();
    assert_eq!(log["total"], 2, "{log}");
    assert_eq!(items[0]["action"], "account.update");
    assert_eq!(items[0]["details"]["before"]["disabled"], false);
    assert_eq!(items[0]["details"]["after"]["disabled"], true);
    assert_eq!(items[0]["details"]["full_name_changed"], true);
    assert_eq!(items[1]["action"], "account.create");
    assert_eq!(items[1]["details"]["after"]["role"], "supervisor");
    assert_eq!(items[1]["details"]["after"]["province_code"], "01");
    let text = log.to_string();
    for secret in ["0912345678", "001203004567", "Giám sát", "argon2"] {
        assert!(!text.contains(secret), "{secret} in the audit log: {text}");
    }
    // A citizen registering leaves no entry; neither do accounts made by the command line.
    app.post(
        "/api/v1/auth/register",
        None,
        json!({"username": "lan", "password": "mật khẩu dài lắm", "full_name": "Nguyễn Thị Lan"}),
    )
    .await
    .assert_status(201);
    app.token_for("citizen1", "citizen", None, None).await;
    let all = app
        .get("/api/v1/audit?action=account.create", Some(&admin))
        .await
        .assert_status(200);
    assert_eq!(all["total"], 1, "{all}");
}
