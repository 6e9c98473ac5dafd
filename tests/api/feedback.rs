//! The applicant rates the service after the result (issue 21 §3; Decision 766/QĐ-TTg's
//! satisfaction group: the applicant's assessment of each dossier's handling).

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_applicant_rates_once_after_the_result() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let filed = app
        .submit_online(&cast.citizen, intake_body(BIRTH, BA_DINH))
        .await;
    let code = filed["code"].as_str().unwrap().to_string();
    let path = format!("/api/v1/cases/{code}/feedback");
    for (who, action) in [
        (&cast.reception, "receive"),
        (&cast.clerk, "claim"),
        (&cast.clerk, "start_processing"),
        (&cast.clerk, "send_for_approval"),
        (&cast.head, "approve"),
    ] {
        app.act(who, &code, action, json!({}))
            .await
            .assert_status(200);
    }
    // Decided is not yet returned: the applicant has nothing to judge.
    app.post(&path, Some(&cast.citizen), json!({"rating": 5}))
        .await
        .assert_problem(409, "result_not_returned");
    app.act(&cast.reception, &code, "return_result", json!({}))
        .await
        .assert_status(200);
    let events = app.event_count(&code).await;

    // Bad input changes nothing.
    for (body, field) in [
        (json!({"rating": 0}), "rating"),
        (json!({"rating": 6}), "rating"),
        (json!({"rating": 4, "comment": "ok\u{0007}"}), "comment"),
        (json!({"rating": 4, "comment": "x".repeat(2001)}), "comment"),
    ] {
        let p = app
            .post(&path, Some(&cast.citizen), body)
            .await
            .assert_problem(422, "validation_failed");
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    // Only the applicant rates; others in scope are refused, outsiders see nothing.
    let other_citizen = app.token_for("other.citizen", "citizen", None, None).await;
    let other_province = app
        .token_for("hcm", "clerk", Some("79.TTPVHCC"), None)
        .await;
    app.post(&path, Some(&cast.clerk), json!({"rating": 5}))
        .await
        .assert_problem(403, "forbidden");
    for outsider in [&other_citizen, &other_province] {
        app.post(&path, Some(outsider), json!({"rating": 1}))
            .await
            .assert_problem(404, "case_not_found");
    }
    app.get(&path, Some(&cast.citizen))
        .await
        .assert_problem(404, "feedback_not_found");
    assert_eq!(app.event_count(&code).await, events, "nothing changed");

    let r = app
        .post(
            &path,
            Some(&cast.citizen),
            json!({"rating": 4, "comment": "Nhanh, cán bộ hướng dẫn tận tình"}),
        )
        .await
        .assert_status(201);
    assert_eq!(r["rating"], 4);
    assert_eq!(
        r["unit"], BA_DINH_PC,
        "counted for the unit that handled it"
    );
    app.post(&path, Some(&cast.citizen), json!({"rating": 1}))
        .await
        .assert_problem(409, "already_rated");
    for reader in [&cast.citizen, &cast.clerk] {
        let f = app.get(&path, Some(reader)).await.assert_status(200);
        assert_eq!(f["rating"], 4);
    }
    let history = app
        .get(&format!("/api/v1/cases/{code}/events"), Some(&cast.citizen))
        .await
        .assert_status(200);
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["action"].as_str(), last["data"]["rating"].as_i64()),
        (Some("feedback"), Some(4))
    );
}
