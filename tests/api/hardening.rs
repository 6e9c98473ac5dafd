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

/// Logging out everywhere refuses every access token issued before it, even within the same
/// second (a token's `iat` has whole seconds); a login after it works.
#[tokio::test]
async fn logout_everywhere_refuses_tokens_of_the_same_second() {
    let app = spawn_app().await;
    let pw = app.create_user("hasty", "citizen", None, None).await;
    let (a1, _) = app.login("hasty", &pw).await;
    let (a2, r2) = app.login("hasty", &pw).await;
    app.post(
        "/api/v1/auth/logout",
        Some(&a2),
        json!({"refresh_token": r2, "everywhere": true}),
    )
    .await
    .assert_status(204);
    for access in [&a1, &a2] {
        app.get("/api/v1/me", Some(access))
            .await
            .assert_problem(401, "invalid_token");
    }
    let (a3, _) = app.login("hasty", &pw).await;
    app.get("/api/v1/me", Some(&a3)).await.assert_status(200);
}

/// Disabling an account ends its sessions for good: enabling it again does not bring its old
/// access or refresh tokens back.
#[tokio::test]
async fn enabling_a_disabled_account_does_not_revive_its_tokens() {
    let app = spawn_app().await;
    let admin = app.token_for("root", "admin", None, None).await;
    let pw = app.create_user("comeback", "citizen", None, None).await;
    let (access, refresh) = app.login("comeback", &pw).await;
    let id = app.get("/api/v1/me", Some(&access)).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for disabled in [true, false] {
        app.patch(
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            json!({"disabled": disabled}),
        )
        .await
        .assert_status(200);
    }
    app.get("/api/v1/me", Some(&access))
        .await
        .assert_problem(401, "invalid_token");
    let r = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": refresh}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 401, "{}", r.text);
    let (fresh, _) = app.login("comeback", &pw).await;
    app.get("/api/v1/me", Some(&fresh)).await.assert_status(200);
}

/// Logging out needs the caller's access token and ends only the caller's own sessions: a
/// refresh token of someone else's is refused and nothing is revoked.
#[tokio::test]
async fn logout_acts_only_on_the_callers_sessions() {
    let app = spawn_app().await;
    let pw_v = app.create_user("victim", "citizen", None, None).await;
    let pw_m = app.create_user("mallory", "citizen", None, None).await;
    let (va, vr) = app.login("victim", &pw_v).await;
    let (ma, mr) = app.login("mallory", &pw_m).await;

    app.post("/api/v1/auth/logout", None, json!({"refresh_token": vr}))
        .await
        .assert_problem(401, "missing_token");
    for everywhere in [false, true] {
        app.post(
            "/api/v1/auth/logout",
            Some(&ma),
            json!({"refresh_token": vr, "everywhere": everywhere}),
        )
        .await
        .assert_problem(401, "invalid_refresh_token");
    }
    // The victim is still logged in, both tokens.
    app.get("/api/v1/me", Some(&va)).await.assert_status(200);
    app.post("/api/v1/auth/refresh", None, json!({"refresh_token": vr}))
        .await
        .assert_status(200);
    // Mallory's own logout works.
    app.post(
        "/api/v1/auth/logout",
        Some(&ma),
        json!({"refresh_token": mr}),
    )
    .await
    .assert_status(204);

    let doc = app
        .get("/api-docs/openapi.json", None)
        .await
        .assert_status(200);
    let op = &doc["paths"]["/api/v1/auth/logout"]["post"];
    assert!(op["security"].is_array(), "{op}");
    assert!(op["responses"]["401"].is_object(), "{op}");
}

/// `%` and `_` in a user search are the characters themselves, not LIKE wildcards (and so is
/// the escape character).
#[tokio::test]
async fn user_search_treats_wildcards_literally() {
    let app = spawn_app().await;
    let admin = app.token_for("root", "admin", None, None).await;
    for name in ["lan_nguyen", "lanxnguyen", "minh.tran"] {
        app.create_user(name, "citizen", None, None).await;
    }
    let search = |q: &'static str| {
        let admin = admin.clone();
        let app = &app;
        async move {
            let page = app
                .get(&format!("/api/v1/users?q={q}"), Some(&admin))
                .await
                .assert_status(200);
            let mut names: Vec<String> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["username"].as_str().unwrap().to_string())
                .collect();
            names.sort();
            assert_eq!(page["total"], names.len(), "q={q}");
            names
        }
    };
    assert_eq!(search("%25").await, Vec::<String>::new());
    assert_eq!(search("_").await, vec!["lan_nguyen"]);
    assert_eq!(search("n_n").await, vec!["lan_nguyen"]);
    assert_eq!(search("%5C_").await, Vec::<String>::new());
    assert_eq!(search("%5C").await, Vec::<String>::new());
    assert_eq!(search("nguyen").await, vec!["lan_nguyen", "lanxnguyen"]);
}
