use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;

use std::time::Duration;

use crate::helpers::{spawn_app, spawn_app_with, TestApp, TestConfig};

const SECRET: &str = "an-explicit-test-signing-key-of-at-least-32-bytes";

#[tokio::test]
async fn register_login_me() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"username": "Lan.Nguyen", "password": "mật khẩu dài lắm", "full_name": "Nguyễn Thị Lan",
                   "phone": "+84 912 345 678", "id_number": "001203004567"}),
        )
        .await;
    let body = r.assert_status(201);
    assert_eq!(body["role"], "citizen");
    assert_eq!(body["id_number"], "********4567");
    assert!(body.get("password_hash").is_none());

    // Usernames are unique regardless of case.
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"username": "lan.nguyen", "password": "another password", "full_name": "X"}),
        )
        .await;
    r.assert_problem(409, "username_taken");

    let (access, refresh) = app.login("LAN.NGUYEN", "mật khẩu dài lắm").await;
    assert!(!refresh.is_empty());
    let me = app
        .get("/api/v1/me", Some(&access))
        .await
        .assert_status(200);
    assert_eq!(me["username"], "Lan.Nguyen");
    assert_eq!(me["role"], "citizen");
    assert!(me.to_string().find("argon2").is_none());

    // The stored hash is an Argon2id PHC string with at least OWASP's parameters.
    let account = motcua::repo::accounts::find_by_username_key(
        &app.state.db,
        &app.state.data_keys,
        "lan.nguyen",
    )
    .await
    .unwrap()
    .unwrap();
    assert!(
        account
            .password_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        account.password_hash
    );
}

#[tokio::test]
async fn login_response_shape() {
    let app = spawn_app().await;
    let pw = app.create_user("clerk1", "citizen", None, None).await;
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "clerk1", "password": pw}),
        )
        .await;
    let body = r.assert_status(200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    // The access token carries the standard claims.
    let token = body["access_token"].as_str().unwrap();
    let payload: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    for claim in ["sub", "role", "iss", "aud", "iat", "nbf", "exp", "gen"] {
        assert!(
            payload.get(claim).is_some(),
            "claim {claim} missing: {payload}"
        );
    }
    assert_eq!(
        payload["exp"].as_i64().unwrap() - payload["iat"].as_i64().unwrap(),
        900
    );
    let header: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "HS256");
}

#[tokio::test]
async fn unknown_user_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    let _ = app.create_user("real.user", "citizen", None, None).await;
    let a = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "real.user", "password": "wrong password"}),
        )
        .await;
    let b = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "ghost.user", "password": "wrong password"}),
        )
        .await;
    let a = a.assert_problem(401, "invalid_credentials");
    let b = b.assert_problem(401, "invalid_credentials");
    assert_eq!(a["detail"], b["detail"]);
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    let pw = app.create_user("rot", "citizen", None, None).await;
    let (_, r1) = app.login("rot", &pw).await;

    let first = app
        .post("/api/v1/auth/refresh", None, json!({"refresh_token": r1}))
        .await
        .assert_status(200);
    let r2 = first["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    app.get("/api/v1/me", Some(first["access_token"].as_str().unwrap()))
        .await
        .assert_status(200);

    // Presenting r1 again: reuse. The family (r2 included) is revoked.
    app.post("/api/v1/auth/refresh", None, json!({"refresh_token": r1}))
        .await
        .assert_problem(401, "refresh_token_reused");
    app.post("/api/v1/auth/refresh", None, json!({"refresh_token": r2}))
        .await
        .assert_problem(401, "refresh_token_reused");

    // Another login's family is untouched.
    let (_, other) = app.login("rot", &pw).await;
    app.post(
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": other}),
    )
    .await
    .assert_status(200);

    app.post(
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": "not-a-token"}),
    )
    .await
    .assert_problem(401, "invalid_refresh_token");
}

#[tokio::test]
async fn logout_revokes_the_session_and_everywhere_revokes_access_tokens() {
    let app = spawn_app().await;
    let pw = app.create_user("leaver", "citizen", None, None).await;
    let (a1, r1) = app.login("leaver", &pw).await;
    let (a2, r2) = app.login("leaver", &pw).await;

    app.post(
        "/api/v1/auth/logout",
        Some(&a1),
        json!({"refresh_token": r1}),
    )
    .await
    .assert_status(204);
    app.post("/api/v1/auth/refresh", None, json!({"refresh_token": r1}))
        .await
        .assert_problem(401, "refresh_token_reused");
    // The other session still works.
    app.get("/api/v1/me", Some(&a2)).await.assert_status(200);

    // Access tokens stay valid until `everywhere`.
    app.get("/api/v1/me", Some(&a1)).await.assert_status(200);
    app.post(
        "/api/v1/auth/logout",
        Some(&a2),
        json!({"refresh_token": r2, "everywhere": true}),
    )
    .await
    .assert_status(204);
    app.get("/api/v1/me", Some(&a1))
        .await
        .assert_problem(401, "invalid_token");
    app.get("/api/v1/me", Some(&a2))
        .await
        .assert_problem(401, "invalid_token");
}

fn claims(iss: &str, aud: &str, iat: i64, exp: i64, sub: &str) -> serde_json::Value {
    json!({"sub": sub, "role": "admin", "iss": iss, "aud": aud, "iat": iat, "nbf": iat, "exp": exp,
           "jti": "00000000-0000-0000-0000-000000000000", "gen": 0})
}

#[tokio::test]
async fn jwt_rejections() {
    let app = spawn_app_with(TestConfig::default().with("MOTCUA__AUTH__JWT_SECRET", SECRET)).await;
    let pw = app.create_user("victim", "citizen", None, None).await;
    let (good, _) = app.login("victim", &pw).await;
    app.get("/api/v1/me", Some(&good)).await.assert_status(200);
    let me = app.get("/api/v1/me", Some(&good)).await.json();
    let sub = me["id"].as_str().unwrap();
    let now = chrono::Utc::now().timestamp();
    let key = EncodingKey::from_secret(SECRET.as_bytes());

    // A correctly made token with our key is accepted (so the rejections below are real).
    let ok = encode(
        &Header::new(Algorithm::HS256),
        &claims("motcua", "motcua-api", now, now + 60, sub),
        &key,
    )
    .unwrap();
    app.get("/api/v1/me", Some(&ok)).await.assert_status(200);

    // Without the token generation, or of another generation.
    for gen in [json!(null), json!(1)] {
        let mut c = claims("motcua", "motcua-api", now, now + 60, sub);
        if gen.is_null() {
            c.as_object_mut().unwrap().remove("gen");
        } else {
            c["gen"] = gen;
        }
        let t = encode(&Header::new(Algorithm::HS256), &c, &key).unwrap();
        app.get("/api/v1/me", Some(&t))
            .await
            .assert_problem(401, "invalid_token");
    }

    // alg: none
    let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let p = URL_SAFE_NO_PAD.encode(claims("motcua", "motcua-api", now, now + 60, sub).to_string());
    let none = format!("{h}.{p}.");
    app.get("/api/v1/me", Some(&none))
        .await
        .assert_problem(401, "invalid_token");

    // Another algorithm, same key.
    let hs512 = encode(
        &Header::new(Algorithm::HS512),
        &claims("motcua", "motcua-api", now, now + 60, sub),
        &key,
    )
    .unwrap();
    app.get("/api/v1/me", Some(&hs512))
        .await
        .assert_problem(401, "invalid_token");

    // A bad signature.
    let other_key = EncodingKey::from_secret(b"another-key-another-key-another-key!!");
    let forged = encode(
        &Header::new(Algorithm::HS256),
        &claims("motcua", "motcua-api", now, now + 60, sub),
        &other_key,
    )
    .unwrap();
    app.get("/api/v1/me", Some(&forged))
        .await
        .assert_problem(401, "invalid_token");
    let mut tampered = good.clone();
    tampered.pop();
    tampered.push(if good.ends_with('A') { 'B' } else { 'A' });
    app.get("/api/v1/me", Some(&tampered))
        .await
        .assert_problem(401, "invalid_token");

    // Wrong issuer, wrong audience.
    let iss = encode(
        &Header::new(Algorithm::HS256),
        &claims("someone-else", "motcua-api", now, now + 60, sub),
        &key,
    )
    .unwrap();
    app.get("/api/v1/me", Some(&iss))
        .await
        .assert_problem(401, "invalid_token");
    let aud = encode(
        &Header::new(Algorithm::HS256),
        &claims("motcua", "other-api", now, now + 60, sub),
        &key,
    )
    .unwrap();
    app.get("/api/v1/me", Some(&aud))
        .await
        .assert_problem(401, "invalid_token");

    // Expired.
    let old = encode(
        &Header::new(Algorithm::HS256),
        &claims("motcua", "motcua-api", now - 3600, now - 60, sub),
        &key,
    )
    .unwrap();
    app.get("/api/v1/me", Some(&old))
        .await
        .assert_problem(401, "token_expired");

    // Not yet valid.
    let mut future = claims("motcua", "motcua-api", now, now + 7200, sub);
    future["nbf"] = json!(now + 3600);
    let nbf = encode(&Header::new(Algorithm::HS256), &future, &key).unwrap();
    app.get("/api/v1/me", Some(&nbf))
        .await
        .assert_problem(401, "invalid_token");

    // Missing header, wrong scheme, garbage.
    app.get("/api/v1/me", None)
        .await
        .assert_problem(401, "missing_token");
    let basic = app
        .send(
            app.client
                .get(app.url("/api/v1/me"))
                .header("authorization", "Basic dXNlcjpwdw=="),
        )
        .await;
    basic.assert_problem(401, "invalid_token");
    app.get("/api/v1/me", Some("garbage"))
        .await
        .assert_problem(401, "invalid_token");
}

#[tokio::test]
async fn disabled_accounts_tokens_stop_working() {
    let app = spawn_app().await;
    let admin = app.token_for("root", "admin", None, None).await;
    let pw = app.create_user("soon.gone", "citizen", None, None).await;
    let (access, refresh) = app.login("soon.gone", &pw).await;
    app.get("/api/v1/me", Some(&access))
        .await
        .assert_status(200);

    let me = app.get("/api/v1/me", Some(&access)).await.json();
    disable(&app, &admin, me["id"].as_str().unwrap()).await;

    app.get("/api/v1/me", Some(&access))
        .await
        .assert_problem(401, "account_disabled");
    app.post(
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": refresh}),
    )
    .await
    .assert_problem(401, "refresh_token_reused");
    app.post(
        "/api/v1/auth/login",
        None,
        json!({"username": "soon.gone", "password": pw}),
    )
    .await
    .assert_problem(401, "account_disabled");
}

#[tokio::test]
async fn throttling_after_five_failures() {
    let app = spawn_app().await;
    let pw = app.create_user("target", "citizen", None, None).await;
    for _ in 0..4 {
        app.post(
            "/api/v1/auth/login",
            None,
            json!({"username": "target", "password": "nope nope nope"}),
        )
        .await
        .assert_problem(401, "invalid_credentials");
    }
    // The fifth failure locks.
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "target", "password": "nope nope nope"}),
        )
        .await;
    r.assert_problem(429, "too_many_attempts");
    let first: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((25..=30).contains(&first), "first delay {first}");
    // Even the right password is refused while locked.
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "target", "password": pw}),
        )
        .await;
    r.assert_problem(429, "too_many_attempts");

    // Growing delays: lift the lock by hand, fail again, and the delay doubles.
    // (The lock of the account from this address; the account's and the address's own
    // bounds are far off.)
    motcua::repo::throttle::lock_until(&app.state.db, "pair:127.0.0.1 target", chrono::Utc::now())
        .await
        .unwrap();
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "target", "password": "nope nope nope"}),
        )
        .await;
    r.assert_problem(429, "too_many_attempts");
    let second: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((55..=60).contains(&second), "second delay {second}");
}

/// Log in through the service as if from `client` (another address than the test's).
async fn login_from(
    app: &TestApp,
    username: &str,
    password: &str,
    client: &str,
) -> Result<(), (u16, String, Option<u64>)> {
    match motcua::services::auth::login(
        &app.state.auth(),
        username,
        password.to_string(),
        Some(client),
        chrono::Utc::now(),
    )
    .await
    {
        Ok(_) => Ok(()),
        Err(motcua::error::ApiError::Problem(p)) => {
            Err((p.status.as_u16(), p.code.to_string(), p.retry_after_secs))
        }
        Err(e) => panic!("{e}"),
    }
}

async fn wrong_login(app: &TestApp, username: &str) -> crate::helpers::Resp {
    app.post(
        "/api/v1/auth/login",
        None,
        json!({"username": username, "password": "wrong password"}),
    )
    .await
}

/// One person's typos lock their own account from their own address, not their colleagues
/// behind the same address (a commune office behind one NAT), nor their account from
/// elsewhere.
#[tokio::test]
async fn one_accounts_typos_do_not_lock_out_its_office() {
    let app = spawn_app().await;
    let pw_a = app.create_user("clerk.a", "citizen", None, None).await;
    let pw_b = app.create_user("clerk.b", "citizen", None, None).await;
    for i in 1..=6 {
        let r = wrong_login(&app, "clerk.a").await;
        if i < 5 {
            r.assert_problem(401, "invalid_credentials");
        } else {
            r.assert_problem(429, "too_many_attempts");
            let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=30).contains(&wait), "pair delay {wait}");
        }
    }
    // A colleague behind the same address logs in, and mistyping usernames is no crime.
    app.login("clerk.b", &pw_b).await;
    for i in 0..10 {
        wrong_login(&app, &format!("clerk.typo{i}"))
            .await
            .assert_problem(401, "invalid_credentials");
    }
    // clerk.a stays throttled from here, even with the right password...
    app.post(
        "/api/v1/auth/login",
        None,
        json!({"username": "clerk.a", "password": pw_a}),
    )
    .await
    .assert_problem(429, "too_many_attempts");
    // ...but not from another address.
    login_from(&app, "clerk.a", &pw_a, "198.51.100.20")
        .await
        .expect("clerk.a from elsewhere");
}

/// Guessing one account's password from many addresses locks the account everywhere at the
/// per-account bound, for a short fixed time (not doubling), after which its owner logs in.
#[tokio::test]
async fn guessing_one_account_from_many_addresses_locks_it_briefly() {
    let app = spawn_app_with(
        TestConfig::default().with("MOTCUA__AUTH__THROTTLE__ACCOUNT_LOCK_SECS", "2"),
    )
    .await;
    let pw = app.create_user("wanted", "citizen", None, None).await;
    for i in 1..=19 {
        let r = login_from(&app, "wanted", "wrong password", &format!("203.0.113.{i}")).await;
        assert_eq!(r.unwrap_err().1, "invalid_credentials", "failure {i}");
    }
    let (status, code, wait) = login_from(&app, "wanted", "wrong password", "203.0.113.20")
        .await
        .unwrap_err();
    assert_eq!((status, code.as_str()), (429, "too_many_attempts"));
    assert!(wait.is_some_and(|w| (1..=2).contains(&w)), "{wait:?}");
    // Locked from every address, the owner's too, while the lock lasts.
    let (status, _, _) = login_from(&app, "wanted", &pw, "192.0.2.1")
        .await
        .unwrap_err();
    assert_eq!(status, 429);
    // A further failure after the lock locks again for the same short time.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (_, _, again) = login_from(&app, "wanted", "wrong password", "203.0.113.21")
        .await
        .unwrap_err();
    assert!(again.is_some_and(|w| (1..=2).contains(&w)), "{again:?}");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    login_from(&app, "wanted", &pw, "192.0.2.1")
        .await
        .expect("the owner after the lock");
}

/// Credential stuffing (many usernames from one address) stops at the per-address bound;
/// other addresses are not affected.
#[tokio::test]
async fn stuffing_from_one_address_stops_at_the_address_bound() {
    let app = spawn_app_with(
        TestConfig::default().with("MOTCUA__AUTH__THROTTLE__ADDRESS_MAX_FAILURES", "12"),
    )
    .await;
    let pw = app.create_user("bystander", "citizen", None, None).await;
    for i in 1..=11 {
        wrong_login(&app, &format!("stuffed{i}"))
            .await
            .assert_problem(401, "invalid_credentials");
    }
    let r = wrong_login(&app, "stuffed12").await;
    r.assert_problem(429, "too_many_attempts");
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "address lock {wait}");
    wrong_login(&app, "stuffed13")
        .await
        .assert_problem(429, "too_many_attempts");
    // A successful login from elsewhere is not stopped; from here it waits too.
    login_from(&app, "bystander", &pw, "198.51.100.7")
        .await
        .expect("another address");
    app.post(
        "/api/v1/auth/login",
        None,
        json!({"username": "bystander", "password": pw}),
    )
    .await
    .assert_problem(429, "too_many_attempts");
}

/// Behind a trusted proxy, the client is the right-most forwarded address that is not a
/// proxy: two clients are throttled apart, and a forged left-most address changes nothing.
#[tokio::test]
async fn forwarded_addresses_from_a_trusted_proxy_are_throttled_apart() {
    let app = spawn_app_with(
        TestConfig::default()
            .with("MOTCUA__SERVER__TRUSTED_PROXIES", "10.0.0.0/8,127.0.0.1/32")
            .with("MOTCUA__AUTH__THROTTLE__ADDRESS_MAX_FAILURES", "3"),
    )
    .await;
    let from = |xff: &str, user: &str| {
        app.send(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("x-forwarded-for", xff)
                .json(&json!({"username": user, "password": "wrong password"})),
        )
    };
    // Client X: 203.0.113.7, through an inner proxy 10.1.2.3.
    from("203.0.113.7, 10.1.2.3", "x1")
        .await
        .assert_problem(401, "invalid_credentials");
    from("203.0.113.7", "x2")
        .await
        .assert_problem(401, "invalid_credentials");
    from("203.0.113.7", "x3")
        .await
        .assert_problem(429, "too_many_attempts");
    // X forging a left-most address is still X.
    from("192.0.2.99, 203.0.113.7", "x4")
        .await
        .assert_problem(429, "too_many_attempts");
    // Client Y is not throttled.
    from("203.0.113.7, 203.0.113.8", "y1")
        .await
        .assert_problem(401, "invalid_credentials");
    from("[2001:db8::8]:4711", "y2")
        .await
        .assert_problem(401, "invalid_credentials");
}

/// Without a trusted proxy in front, X-Forwarded-For is the client's own words: forging a new
/// one on every request does not escape the per-address bound.
#[tokio::test]
async fn a_forged_forwarded_for_does_not_escape_the_address_bound() {
    for proxies in ["", "10.0.0.0/8"] {
        let app = spawn_app_with(
            TestConfig::default()
                .with("MOTCUA__SERVER__TRUSTED_PROXIES", proxies)
                .with("MOTCUA__AUTH__THROTTLE__ADDRESS_MAX_FAILURES", "3"),
        )
        .await;
        for i in 1..=4 {
            let r = app
                .send(
                    app.client
                        .post(app.url("/api/v1/auth/login"))
                        .header("x-forwarded-for", format!("192.0.2.{i}"))
                        .header("forwarded", format!("for=192.0.2.{i}"))
                        .json(&json!({"username": format!("forger{i}"), "password": "wrong password"})),
                )
                .await;
            if i < 3 {
                r.assert_problem(401, "invalid_credentials");
            } else {
                r.assert_problem(429, "too_many_attempts");
            }
        }
    }
}

#[tokio::test]
async fn admin_user_management() {
    let app = spawn_app().await;
    let admin = app.token_for("root", "admin", None, None).await;
    let citizen = app.token_for("citizen1", "citizen", None, None).await;

    let body = json!({"username": "sup.hn", "password": "supervisor pass", "role": "supervisor", "province": "1", "full_name": "Giám sát Hà Nội", "phone": "0912345678", "id_number": "001203004567"});
    app.post("/api/v1/users", Some(&citizen), body.clone())
        .await
        .assert_problem(403, "forbidden");
    app.post("/api/v1/users", None, body.clone())
        .await
        .assert_problem(401, "missing_token");
    let created = app
        .post("/api/v1/users", Some(&admin), body)
        .await
        .assert_status(201);
    assert_eq!(created["province"], "01");

    // A clerk needs a unit; a supervisor has no unit; a role must exist.
    app.post(
        "/api/v1/users",
        Some(&admin),
        json!({"username": "c2", "password": "clerk password", "role": "clerk", "full_name": "C"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.post(
        "/api/v1/users",
        Some(&admin),
        json!({"username": "c3", "password": "clerk password", "role": "wizard", "full_name": "C"}),
    )
    .await
    .assert_problem(422, "validation_failed");

    let list = app
        .get("/api/v1/users?role=supervisor", Some(&admin))
        .await
        .assert_status(200);
    assert_eq!(list["total"], 1);
    let item = &list["items"][0];
    assert_eq!(item["phone"], "*******678");
    assert_eq!(item["id_number"], "********4567");
    app.get("/api/v1/users", Some(&citizen))
        .await
        .assert_problem(403, "forbidden");

    let id = created["id"].as_str().unwrap();
    let updated = app
        .patch(
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            json!({"province": null}),
        )
        .await
        .assert_status(200);
    assert_eq!(updated["province"], serde_json::Value::Null);
    app.patch(
        "/api/v1/users/not-a-uuid",
        Some(&admin),
        json!({"disabled": true}),
    )
    .await
    .assert_problem(404, "account_not_found");
}

/// Accounts behind tokens are cached in memory (`services::account_cache`); a change made
/// through one instance must still stop the account's tokens on every instance at once.
#[tokio::test]
async fn a_disabled_account_stops_on_another_instance_despite_its_cache() {
    let app = spawn_app().await;
    if app.state.db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        // Several instances need PostgreSQL: on SQLite one process serves, and the
        // same-instance case is `disabled_accounts_tokens_stop_working`.
        return;
    }
    let replica = app.replica().await;
    for state in [&app.state, &replica.state] {
        eventually(Duration::from_secs(10), "the account listener", || async {
            state.accounts.is_listening()
        })
        .await;
    }
    let admin = app.token_for("root", "admin", None, None).await;
    let pw = app.create_user("two.places", "citizen", None, None).await;
    let (access, _) = app.login("two.places", &pw).await;
    // Served twice on the replica: the second answer comes from its cache.
    for _ in 0..2 {
        replica
            .get("/api/v1/me", Some(&access))
            .await
            .assert_status(200);
    }
    let id = replica.get("/api/v1/me", Some(&access)).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let id_uuid: uuid::Uuid = id.parse().unwrap();
    assert!(replica.state.accounts.serves(id_uuid), "not cached");

    disable(&app, &admin, &id).await;
    // The writing instance: at once. The replica: as soon as PostgreSQL delivers the
    // notification sent by the committing transaction (milliseconds), never after the
    // cache's time to live (5 s by default).
    app.get("/api/v1/me", Some(&access))
        .await
        .assert_problem(401, "account_disabled");
    eventually(
        Duration::from_secs(2),
        "the replica refusing a disabled account",
        || async {
            let r = replica.get("/api/v1/me", Some(&access)).await;
            r.status == 401 && r.json()["code"] == "account_disabled"
        },
    )
    .await;

    // Revoking every session (logout everywhere) reaches the replica the same way.
    let pw2 = app.create_user("two.places.b", "citizen", None, None).await;
    let (access2, refresh2) = app.login("two.places.b", &pw2).await;
    replica
        .get("/api/v1/me", Some(&access2))
        .await
        .assert_status(200);
    app.post(
        "/api/v1/auth/logout",
        Some(&access2),
        json!({"refresh_token": refresh2, "everywhere": true}),
    )
    .await
    .assert_status(204);
    eventually(
        Duration::from_secs(2),
        "the replica refusing a revoked token",
        || async { replica.get("/api/v1/me", Some(&access2)).await.status == 401 },
    )
    .await;
}

async fn disable(app: &TestApp, admin: &str, id: &str) {
    app.patch(
        &format!("/api/v1/users/{id}"),
        Some(admin),
        json!({"disabled": true}),
    )
    .await
    .assert_status(200);
}

/// Polls `check` every 10 ms until it holds; fails the test after `limit`.
async fn eventually<F, Fut>(limit: Duration, what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let began = std::time::Instant::now();
    while !check().await {
        assert!(began.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
