use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_and_readyz() {
    let app = spawn_app().await;
    let r = app.get("/healthz", None).await;
    assert_eq!(r.assert_status(200)["status"], "ok");
    let r = app.get("/readyz", None).await;
    let body = r.assert_status(200);
    assert_eq!(body["database"], "ok");
    assert_eq!(body["migrations"], "current");
}

#[tokio::test]
async fn readyz_is_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.state.db.clone().close().await.unwrap();
    let r = app.get("/readyz", None).await;
    let body = r.assert_problem(503, "not_ready");
    assert_eq!(body["database"], "unreachable");
}

#[tokio::test]
async fn request_id_is_echoed_or_generated() {
    let app = spawn_app().await;
    let r = app
        .send(
            app.client
                .get(app.url("/healthz"))
                .header("x-request-id", "abc-123"),
        )
        .await;
    assert_eq!(r.headers["x-request-id"], "abc-123");
    let r = app.get("/healthz", None).await;
    let generated = r.headers["x-request-id"].to_str().unwrap();
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
}

#[tokio::test]
async fn openapi_document_covers_the_api() {
    let app = spawn_app().await;
    let doc = app
        .get("/api-docs/openapi.json", None)
        .await
        .assert_status(200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/auth/login",
        "/api/v1/auth/register",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/audit",
        "/healthz",
        "/readyz",
    ] {
        assert!(paths.contains_key(p), "missing {p}");
    }
    // Every operation documents at least one error as a problem document.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let has_problem = responses.iter().any(|(code, r)| {
                code.starts_with('4')
                    || code.starts_with('5')
                        && r["content"].get("application/problem+json").is_some()
            });
            // Liveness and the Prometheus scrape cannot fail.
            if path != "/healthz" && path != "/metrics" {
                assert!(has_problem, "{method} {path} documents no error");
            }
        }
    }
    // Every schema referred to is defined.
    fn refs<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(|r| r.as_str()) {
                    out.push(r);
                }
                m.values().for_each(|x| refs(x, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 20);
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "$ref {r} has no schema"
        );
    }
    let ui = app.get("/docs", None).await;
    assert_eq!(ui.status.as_u16(), 200);
    assert!(
        ui.text.contains("<html") || ui.text.contains("<!doctype") || ui.text.contains("<!DOCTYPE")
    );
}
