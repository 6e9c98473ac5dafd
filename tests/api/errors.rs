//! Every kind of rejection is a problem document, never axum's plain text.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn unknown_route_is_a_problem() {
    let app = spawn_app().await;
    app.get("/api/v1/nothing-here", None)
        .await
        .assert_problem(404, "route_not_found");
}

#[tokio::test]
async fn wrong_method_is_a_problem() {
    let app = spawn_app().await;
    let r = app
        .send(app.client.delete(app.url("/api/v1/auth/login")))
        .await;
    r.assert_problem(405, "method_not_allowed");
    assert!(r.headers.get("allow").is_some());
}

#[tokio::test]
async fn malformed_json_is_a_problem() {
    let app = spawn_app().await;
    let r = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("content-type", "application/json")
                .body("{\"username\": "),
        )
        .await;
    r.assert_problem(400, "malformed_json");
}

#[tokio::test]
async fn wrong_content_type_is_a_problem() {
    let app = spawn_app().await;
    let r = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("content-type", "text/plain")
                .body("username=x"),
        )
        .await;
    r.assert_problem(415, "unsupported_media_type");
}

#[tokio::test]
async fn oversized_body_is_a_problem() {
    let app = spawn_app().await;
    let big = "x".repeat(300 * 1024);
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"username": "u", "password": big, "full_name": "x"}),
        )
        .await;
    r.assert_problem(413, "payload_too_large");
}

#[tokio::test]
async fn wrong_field_types_are_validation_problems() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": 5, "password": "x"}),
        )
        .await;
    let body = r.assert_problem(422, "validation_failed");
    assert_eq!(body["errors"][0]["code"], "invalid_body");
    assert_eq!(body["errors"][0]["field"], "username");
}

#[tokio::test]
async fn messages_follow_accept_language() {
    let app = spawn_app().await;
    let vi = app.get("/api/v1/nothing", None).await;
    let vi_body = vi.assert_problem(404, "route_not_found");
    assert_eq!(vi_body["title"], "Không tìm thấy");
    assert_eq!(vi.headers["content-language"], "vi");
    let en = app
        .send(
            app.client
                .get(app.url("/api/v1/nothing"))
                .header("accept-language", "en-US,en;q=0.9"),
        )
        .await;
    let en_body = en.assert_problem(404, "route_not_found");
    assert_eq!(en_body["title"], "Not found");
    assert_eq!(en.headers["content-language"], "en");
}

#[tokio::test]
async fn problems_carry_the_request_id() {
    let app = spawn_app().await;
    let r = app
        .send(
            app.client
                .get(app.url("/api/v1/nothing"))
                .header("x-request-id", "req-42"),
        )
        .await;
    let body = r.assert_problem(404, "route_not_found");
    assert_eq!(body["instance"], "urn:motcua:request:req-42");
}

#[tokio::test]
async fn validation_lists_every_invalid_field() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"username": "a", "password": "short", "full_name": "", "id_number": "123", "email": "nope"}),
        )
        .await;
    let body = r.assert_problem(422, "validation_failed");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in ["username", "password", "full_name", "id_number", "email"] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
}
