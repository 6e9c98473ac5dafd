//! The access matrix: every dossier endpoint × role × own / other unit / other province.

use serde_json::json;

use crate::helpers::*;

struct Who {
    name: &'static str,
    token: String,
    /// May read the dossier (200) or not (404).
    reads: bool,
}

#[tokio::test]
async fn access_matrix() {
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

    let people = vec![
        Who {
            name: "applicant",
            token: cast.citizen.clone(),
            reads: true,
        },
        Who {
            name: "other citizen",
            token: app.token_for("citizen2", "citizen", None, None).await,
            reads: false,
        },
        Who {
            name: "receiving clerk",
            token: cast.reception.clone(),
            reads: true,
        },
        Who {
            name: "handling clerk",
            token: cast.clerk.clone(),
            reads: true,
        },
        Who {
            name: "handling head",
            token: cast.head.clone(),
            reads: true,
        },
        Who {
            name: "clerk, other unit",
            token: app
                .token_for("clerk3", "clerk", Some(NGOC_HA_PC), None)
                .await,
            reads: false,
        },
        Who {
            name: "head, other unit",
            token: app
                .token_for("head3", "unit_head", Some(NGOC_HA_PC), None)
                .await,
            reads: false,
        },
        Who {
            name: "clerk, other province",
            token: app
                .token_for("clerk4", "clerk", Some("79.TTPVHCC"), None)
                .await,
            reads: false,
        },
        Who {
            name: "supervisor, province",
            token: app.token_for("sup1", "supervisor", None, Some(HN)).await,
            reads: true,
        },
        Who {
            name: "supervisor, other province",
            token: app.token_for("sup2", "supervisor", None, Some("79")).await,
            reads: false,
        },
        Who {
            name: "national supervisor",
            token: app.token_for("sup3", "supervisor", None, None).await,
            reads: true,
        },
        Who {
            name: "admin",
            token: app.token_for("root", "admin", None, None).await,
            reads: true,
        },
    ];

    for who in &people {
        let status = if who.reads { 200 } else { 404 };
        let r = app
            .get(&format!("/api/v1/cases/{code}"), Some(&who.token))
            .await;
        assert_eq!(
            r.status.as_u16(),
            status,
            "GET case as {}: {}",
            who.name,
            r.text
        );
        let r = app
            .get(&format!("/api/v1/cases/{code}/events"), Some(&who.token))
            .await;
        assert_eq!(
            r.status.as_u16(),
            status,
            "GET events as {}: {}",
            who.name,
            r.text
        );
        let list = app
            .get("/api/v1/cases", Some(&who.token))
            .await
            .assert_status(200);
        let listed = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["code"] == code.as_str());
        assert_eq!(listed, who.reads, "list as {}", who.name);

        // Claiming: only the handling unit's staff; the others get 403 (in scope) or 404.
        let r = app.act(&who.token, &code, "claim", json!({})).await;
        let expected = match who.name {
            "handling clerk" | "handling head" => 200,
            _ if who.reads => 403,
            _ => 404,
        };
        assert_eq!(
            r.status.as_u16(),
            expected,
            "claim as {}: {}",
            who.name,
            r.text
        );
        if r.status.as_u16() == 200 {
            // Put it back for the next person.
            use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
            let row = app.case_row(&code).await;
            let mut am = row.into_active_model();
            am.status = Set("received".into());
            am.assigned_to = Set(None);
            am.update(&app.state.db).await.unwrap();
        }

        // Unit queues: the unit's own staff and the province's supervisors.
        let r = app
            .get(
                &format!("/api/v1/units/{BA_DINH_PC}/queue"),
                Some(&who.token),
            )
            .await;
        let expected = match who.name {
            "handling clerk" | "handling head" | "supervisor, province" | "national supervisor" => {
                200
            }
            _ => 403,
        };
        assert_eq!(
            r.status.as_u16(),
            expected,
            "queue as {}: {}",
            who.name,
            r.text
        );
    }

    // Without a token: 401 everywhere but public tracking.
    for path in [
        format!("/api/v1/cases/{code}"),
        format!("/api/v1/cases/{code}/events"),
        "/api/v1/cases".to_string(),
        format!("/api/v1/units/{BA_DINH_PC}/queue"),
    ] {
        app.get(&path, None)
            .await
            .assert_problem(401, "missing_token");
    }
    app.post(
        &format!("/api/v1/cases/{code}/actions/claim"),
        None,
        json!({"version": 1}),
    )
    .await
    .assert_problem(401, "missing_token");
    app.get(&format!("/api/v1/tracking/{code}?id_last4=4567"), None)
        .await
        .assert_status(200);

    // Supervisors and admins cannot file dossiers.
    let admin = &people.last().unwrap().token;
    app.post("/api/v1/cases", Some(admin), intake_body(MARITAL, BA_DINH))
        .await
        .assert_problem(403, "forbidden");

    // Administrators' reads are logged.
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let reads = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::Subject.eq(code.clone()))
        .count(&app.state.db)
        .await
        .unwrap();
    assert!(reads >= 2, "admin reads recorded: {reads}");
}

/// Every list endpoint shows dossiers masked (no full ID number or phone, no e-mail, form or
/// documents), whoever asks, and the coordination queue is open only to the province's
/// coordinators: a clerk who sees a dossier there still gets 404 on the dossier itself.
#[tokio::test]
async fn lists_are_masked_and_the_coordination_queue_is_for_coordinators() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let legacy = crate::lifecycle::partly_merged_legacy_ward(&app, HN).await;
    let mut body = intake_body(MARITAL, BA_DINH);
    body["address"] = json!({"legacy_ward_code": legacy.0});
    let filed = app.submit_online(&cast.citizen, body).await;
    assert_eq!(filed["status"], "awaiting_routing");
    let ambiguous = filed["code"].as_str().unwrap().to_string();
    let routed = app
        .submit_online(&cast.citizen, intake_body(MARITAL, BA_DINH))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();

    let other_commune_clerk = app
        .token_for("clerk3", "clerk", Some(NGOC_HA_PC), None)
        .await;
    let province_sup = app.token_for("sup1", "supervisor", None, Some(HN)).await;
    let national_sup = app.token_for("sup3", "supervisor", None, None).await;
    let admin = app.token_for("root", "admin", None, None).await;
    let queue = "/api/v1/provinces/01/coordination-queue";
    for (name, token, status) in [
        ("applicant", &cast.citizen, 403),
        ("clerk of another commune", &other_commune_clerk, 200),
        ("handling clerk", &cast.clerk, 200),
        (
            "clerk, other province",
            &app.token_for("clerk4", "clerk", Some("79.TTPVHCC"), None)
                .await,
            403,
        ),
        ("supervisor, province", &province_sup, 200),
        (
            "supervisor, other province",
            &app.token_for("sup2", "supervisor", None, Some("79")).await,
            403,
        ),
        ("national supervisor", &national_sup, 200),
        ("admin", &admin, 403),
    ] {
        let r = app.get(queue, Some(token)).await;
        assert_eq!(r.status.as_u16(), status, "queue as {name}: {}", r.text);
        if status == 200 {
            let page = r.json();
            assert_eq!(page["total"], 1, "as {name}");
            assert_masked(&page["items"][0], name);
        }
    }
    app.get(queue, None)
        .await
        .assert_problem(401, "missing_token");
    // Seen in the queue, not readable whole.
    app.get(
        &format!("/api/v1/cases/{ambiguous}"),
        Some(&other_commune_clerk),
    )
    .await
    .assert_problem(404, "case_not_found");

    // The other lists, for those who may read them.
    for (path, token) in [
        ("/api/v1/cases".to_string(), &cast.citizen),
        ("/api/v1/cases".to_string(), &cast.clerk),
        ("/api/v1/cases".to_string(), &province_sup),
        ("/api/v1/cases".to_string(), &admin),
        (format!("/api/v1/units/{BA_DINH_PC}/queue"), &cast.clerk),
        (format!("/api/v1/units/{BA_DINH_PC}/queue"), &province_sup),
    ] {
        let page = app.get(&path, Some(token)).await.assert_status(200);
        let items = page["items"].as_array().unwrap();
        assert!(
            items.iter().any(|i| i["code"] == routed.as_str()),
            "{path} lists {routed}"
        );
        for item in items {
            assert_masked(item, &path);
        }
    }
}

fn assert_masked(item: &serde_json::Value, who: &str) {
    let a = &item["applicant"];
    assert_eq!(a["id_number"], "********4567", "{who}: {item}");
    assert_eq!(a["phone"], "*******678", "{who}: {item}");
    assert!(a["email"].is_null(), "{who}: {item}");
    for detail in ["form", "documents", "routing"] {
        assert!(item.get(detail).is_none(), "{who}: {detail} in a list");
    }
}
