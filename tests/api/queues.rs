//! Unit queues: scope, filters, urgency order, assignment by the unit head.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn queue_order_filters_and_assignment() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let other_clerk = app
        .token_for("other.clerk", "clerk", Some(BA_DINH_PC), None)
        .await;
    let mut codes = Vec::new();
    for _ in 0..3 {
        let r = app
            .file(&cast.reception, intake_body(MARITAL, BA_DINH))
            .await
            .assert_status(201);
        codes.push(r["code"].as_str().unwrap().to_string());
    }
    // Make the second dossier the most urgent by pulling its deadline into the past.
    {
        use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
        let row = app.case_row(&codes[1]).await;
        let mut am = row.clone().into_active_model();
        am.due_at = Set(Some(chrono::Utc::now() - chrono::Duration::hours(1)));
        am.update(&app.state.db).await.unwrap();
    }
    let q = app
        .get(
            &format!("/api/v1/units/{BA_DINH_PC}/queue"),
            Some(&cast.clerk),
        )
        .await
        .assert_status(200);
    assert_eq!(q["total"], 3);
    let order: Vec<&str> = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert_eq!(order[0], codes[1], "overdue first");
    assert_eq!(
        order[1..],
        [codes[0].as_str(), codes[2].as_str()],
        "then the nearest deadline"
    );

    // The head assigns one to a clerk; a clerk cannot assign.
    let other_id = app.get("/api/v1/me", Some(&other_clerk)).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(
        &cast.clerk,
        &codes[0],
        "assign",
        json!({"assignee": other_id}),
    )
    .await
    .assert_problem(403, "forbidden");
    let outsider = app
        .token_for("outsider", "clerk", Some(NGOC_HA_PC), None)
        .await;
    let outsider_id = app.get("/api/v1/me", Some(&outsider)).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(
        &cast.head,
        &codes[0],
        "assign",
        json!({"assignee": outsider_id}),
    )
    .await
    .assert_problem(422, "validation_failed");
    let r = app
        .act(
            &cast.head,
            &codes[0],
            "assign",
            json!({"assignee": other_id}),
        )
        .await
        .assert_status(200);
    assert_eq!(r["status"], "assigned");
    assert_eq!(r["assigned_to"], other_id.as_str());
    // Reassignment.
    let clerk_id = app.get("/api/v1/me", Some(&cast.clerk)).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(
        &cast.head,
        &codes[0],
        "assign",
        json!({"assignee": clerk_id}),
    )
    .await
    .assert_status(200);

    let claimed = app
        .get(
            &format!("/api/v1/units/{BA_DINH_PC}/queue?claimed=true"),
            Some(&cast.clerk),
        )
        .await
        .json();
    assert_eq!(claimed["total"], 1);
    let unclaimed = app
        .get(
            &format!("/api/v1/units/{BA_DINH_PC}/queue?claimed=false"),
            Some(&cast.clerk),
        )
        .await
        .json();
    assert_eq!(unclaimed["total"], 2);
    let mine = app
        .get(
            &format!("/api/v1/units/{BA_DINH_PC}/queue?assignee=me"),
            Some(&cast.clerk),
        )
        .await
        .json();
    assert_eq!(mine["total"], 1);
    let by_status = app
        .get(
            &format!("/api/v1/units/{BA_DINH_PC}/queue?status=assigned"),
            Some(&cast.clerk),
        )
        .await
        .json();
    assert_eq!(by_status["total"], 1);
    let by_receipt = app
        .get(
            &format!("/api/v1/units/{BA_DINH_PC}/queue?sort=received_at"),
            Some(&cast.clerk),
        )
        .await
        .json();
    let order: Vec<&str> = by_receipt["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert_eq!(order, codes.iter().map(String::as_str).collect::<Vec<_>>());
    app.get(
        &format!("/api/v1/units/{BA_DINH_PC}/queue?sort=random"),
        Some(&cast.clerk),
    )
    .await
    .assert_problem(422, "validation_failed");

    // Other units' staff and citizens may not read it; supervisors of the province may.
    app.get(
        &format!("/api/v1/units/{BA_DINH_PC}/queue"),
        Some(&outsider),
    )
    .await
    .assert_problem(403, "forbidden");
    app.get(
        &format!("/api/v1/units/{BA_DINH_PC}/queue"),
        Some(&cast.citizen),
    )
    .await
    .assert_problem(403, "forbidden");
    let sup = app.token_for("sup", "supervisor", None, Some(HN)).await;
    app.get(&format!("/api/v1/units/{BA_DINH_PC}/queue"), Some(&sup))
        .await
        .assert_status(200);
    app.get("/api/v1/units/01.99999.UBND/queue", Some(&sup))
        .await
        .assert_problem(404, "unit_not_found");
}

#[tokio::test]
async fn the_reception_queue_holds_online_dossiers_to_receive() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let code = app
        .submit_online(&cast.citizen, intake_body(BIRTH, BA_DINH))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let q = app
        .get(
            &format!("/api/v1/units/{BA_DINH_CENTRE}/queue"),
            Some(&cast.reception),
        )
        .await
        .assert_status(200);
    assert_eq!(q["total"], 1);
    assert_eq!(q["items"][0]["code"], code);
    app.act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_status(200);
    let q = app
        .get(
            &format!("/api/v1/units/{BA_DINH_CENTRE}/queue"),
            Some(&cast.reception),
        )
        .await
        .json();
    assert_eq!(
        q["total"], 0,
        "once received it is the handling unit's work"
    );
    let q = app
        .get(
            &format!("/api/v1/units/{BA_DINH_PC}/queue"),
            Some(&cast.clerk),
        )
        .await
        .json();
    assert_eq!(q["total"], 1);
}
