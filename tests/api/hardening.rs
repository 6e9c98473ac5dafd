//! What a broken client or an attacker finds: headers, the metrics endpoint, wildcards in
//! searches, token revocation. (Throttling and tracking have their own tests.)

use serde_json::json;

use crate::helpers::*;

/// Every response, success or problem, carries the secure headers; token answers and
/// dossiers are never stored by caches; HSTS only where configured.
#[tokio::test]
async fn responses_carry_the_secure_headers() {
    let app = spawn_app().await;
    let password = app.create_user("citizen", "citizen", None, None).await;
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "citizen", "password": password}),
        )
        .await;
    let missing = app.get("/api/v1/units/XX", None).await;
    let health = app.get("/healthz", None).await;
    for (what, r) in [("login", &login), ("404", &missing), ("healthz", &health)] {
        let h = |name: &str| {
            r.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        assert_eq!(
            h("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(
            h("referrer-policy").as_deref(),
            Some("no-referrer"),
            "{what}"
        );
        assert_eq!(h("x-frame-options").as_deref(), Some("DENY"), "{what}");
        assert!(
            h("content-security-policy").is_some_and(|v| v.contains("frame-ancestors 'none'")),
            "{what}"
        );
        assert!(
            h("strict-transport-security").is_none(),
            "{what}: no TLS here"
        );
    }
    assert_eq!(
        login.headers.get("cache-control").unwrap(),
        "no-store",
        "tokens are not cached"
    );

    let tls = spawn_app_with(TestConfig::default().with("MOTCUA__SERVER__HSTS", "true")).await;
    let r = tls.get("/healthz", None).await;
    assert_eq!(
        r.headers.get("strict-transport-security").unwrap(),
        "max-age=31536000; includeSubDomains"
    );
}

/// `/metrics` answers administrators and the configured scraper token; nobody else.
#[tokio::test]
async fn metrics_are_for_administrators_and_the_scraper() {
    let token = "a-scraper-token-of-at-least-32-characters";
    let app = spawn_app_with(TestConfig::default().with("MOTCUA__METRICS__TOKEN", token)).await;
    app.get("/metrics", None)
        .await
        .assert_problem(401, "missing_token");
    let clerk = app
        .token_for("clerk", "clerk", Some(BA_DINH_PC), None)
        .await;
    app.get("/metrics", Some(&clerk))
        .await
        .assert_problem(403, "forbidden");
    app.get("/metrics", Some("not-the-token"))
        .await
        .assert_problem(401, "invalid_token");
    let admin = app.token_for("root", "admin", None, None).await;
    for bearer in [token, admin.as_str()] {
        let r = app.get("/metrics", Some(bearer)).await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
        assert!(r.text.contains("http_requests_total"));
    }
}
