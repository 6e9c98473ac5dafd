//! The web app over real HTTP, through a client that behaves as a browser does (gzip,
//! cookies, redirects): sign-in, the anti-forgery check, expiry, error pages, the page
//! policy, assets and page weight. The same scenarios in a real browser are in
//! tests/browser (run by `.ci/browser`).

use reqwest::header;
use serde_json::json;

use crate::helpers::*;

/// The anti-forgery token a page carries in its forms.
fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf_token\" value=\"")
        .expect("a csrf field");
    let rest = &html[at + "name=\"csrf_token\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// A browser-like client of its own (its own cookie jar).
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .gzip(true)
        .cookie_store(true)
        .build()
        .unwrap()
}

pub(crate) async fn sign_in(
    app: &TestApp,
    c: &reqwest::Client,
    username: &str,
    password: &str,
    next: &str,
) -> reqwest::Response {
    let login = c
        .get(app.url(&format!("/login?next={next}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    c.post(app.url("/login"))
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf_token", &csrf_of(&login)),
            ("next", next),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_home_page_is_html_in_vietnamese_under_a_strict_policy() {
    let app = spawn_app().await;
    let res = browser().get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(res.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let cookies: Vec<_> = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("motcua_anon=")
            && c.contains("HttpOnly")
            && c.contains("SameSite=Lax")),
        "{cookies:?}"
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("<html lang=\"vi\">"));
    assert!(html.contains("Tra cứu hồ sơ"));
    // No script or style inline, nothing from elsewhere.
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "inline code"
    );
    assert!(!html.contains("http://") && !html.contains("https://"));
}

#[tokio::test]
async fn a_clerk_signs_in_lands_on_the_queue_and_signs_out() {
    let app = spawn_app().await;
    let pw = app
        .create_user("letan", "clerk", Some(BA_DINH_CENTRE), None)
        .await;
    let c = browser();
    // A page that needs a session sends the browser to sign in, and back afterwards.
    let res = c.get(app.url("/queue?sla=overdue")).send().await.unwrap();
    assert!(res.url().path().starts_with("/login"), "{}", res.url());
    let res = sign_in(&app, &c, "letan", &pw, "/queue?sla=overdue").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.url().path(), "/queue");
    assert_eq!(res.url().query(), Some("sla=overdue"));
    let html = res.text().await.unwrap();
    assert!(html.contains(BA_DINH_CENTRE), "the clerk's own unit");
    // Sign out: the form with its token; the session no longer opens the queue.
    let res = c
        .post(app.url("/logout"))
        .form(&[("csrf_token", csrf_of(&html))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.url().path(), "/login");
    let res = c.get(app.url("/queue")).send().await.unwrap();
    assert_eq!(res.url().path(), "/login");
}

#[tokio::test]
async fn a_wrong_password_is_a_readable_page_and_a_redirect_never_leaves_the_site() {
    let app = spawn_app().await;
    let pw = app
        .create_user("letan", "clerk", Some(BA_DINH_CENTRE), None)
        .await;
    let c = browser();
    let res = sign_in(&app, &c, "letan", "not-the-password", "/queue").await;
    assert_eq!(res.status(), 401);
    let html = res.text().await.unwrap();
    assert!(html.contains("Tên đăng nhập hoặc mật khẩu không đúng."));
    for evil in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let res = sign_in(&app, &c, "letan", &pw, evil).await;
        assert_eq!(res.url().host_str(), Some("127.0.0.1"), "{evil}");
    }
}

#[tokio::test]
async fn a_post_without_its_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let case = app
        .submit_online(&cast.citizen, intake_body(BIRTH, BA_DINH))
        .await;
    let code = case["code"].as_str().unwrap().to_string();
    let pw = app
        .create_user("letan2", "clerk", Some(BA_DINH_CENTRE), None)
        .await;
    let c = browser();
    sign_in(&app, &c, "letan2", &pw, "/queue").await;
    let page = c
        .get(app.url(&format!("/cases/{code}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_of(&page);
    for form in [
        vec![("version", "1")],
        vec![("version", "1"), ("csrf_token", "00")],
    ] {
        let res = c
            .post(app.url(&format!("/cases/{code}/actions/receive")))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        assert!(res.text().await.unwrap().contains("chống giả mạo"));
    }
    let now = app
        .get(&format!("/api/v1/cases/{code}"), Some(&cast.reception))
        .await
        .assert_status(200);
    assert_eq!(now["status"], "submitted");
    assert_eq!(now["version"], 1);
    // The same form with the page's token is received.
    let res = c
        .post(app.url(&format!("/cases/{code}/actions/receive")))
        .form(&[("version", "1"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.url().query().unwrap_or("").contains("done=receive"));
    let now = app
        .get(&format!("/api/v1/cases/{code}"), Some(&cast.reception))
        .await
        .assert_status(200);
    assert_eq!(now["status"], "received");
}

#[tokio::test]
async fn revoking_an_accounts_tokens_ends_its_browser_sessions() {
    let app = spawn_app().await;
    let pw = app
        .create_user("letan", "clerk", Some(BA_DINH_CENTRE), None)
        .await;
    let c = browser();
    sign_in(&app, &c, "letan", &pw, "/queue").await;
    assert_eq!(
        c.get(app.url("/queue")).send().await.unwrap().url().path(),
        "/queue"
    );
    let (access, refresh) = app.login("letan", &pw).await;
    app.post(
        "/api/v1/auth/logout",
        Some(&access),
        json!({"refresh_token": refresh, "everywhere": true}),
    )
    .await
    .assert_status(204);
    let res = c.get(app.url("/queue")).send().await.unwrap();
    assert_eq!(res.url().path(), "/login");
    assert!(res.url().query().unwrap().contains("expired=1"));
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Phiên làm việc đã hết hạn"));
}

#[tokio::test]
async fn errors_are_pages_for_browsers_and_problem_documents_for_the_api() {
    let app = spawn_app().await;
    let c = browser();
    let res = c
        .get(app.url("/no/such/page"))
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(res.text().await.unwrap().contains("id=\"error-title\""));
    let res = c
        .get(app.url("/no/such/page"))
        .header(header::ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    // An API path stays a problem document even for a browser.
    let res = c
        .get(app.url("/api/v1/cases"))
        .header(header::ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
}

#[tokio::test]
async fn a_clerk_of_another_commune_gets_a_403_page_and_a_citizen_a_404() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let case = app
        .submit_online(&cast.citizen, intake_body(BIRTH, BA_DINH))
        .await;
    let code = case["code"].as_str().unwrap();
    let pw = app
        .create_user("ngocha", "clerk", Some(NGOC_HA_PC), None)
        .await;
    let c = browser();
    sign_in(&app, &c, "ngocha", &pw, "/queue").await;
    let res = c
        .get(app.url(&format!("/cases/{code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("không thuộc phạm vi"));
    // Another citizen learns nothing: 404, as the API answers.
    let pw = app.create_user("nguoikhac", "citizen", None, None).await;
    let c = browser();
    sign_in(&app, &c, "nguoikhac", &pw, "/").await;
    let res = c
        .get(app.url(&format!("/cases/{code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // A dossier that does not exist is a 404 page.
    let res = c
        .get(app.url("/cases/01.00004.TTPVHCC-260101-9999"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn the_language_switch_is_remembered() {
    let app = spawn_app().await;
    let c = browser();
    let html = c
        .get(app.url("/?lang=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<html lang=\"en\">"));
    let html = c
        .get(app.url("/track"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("Track a dossier"));
    let html = c
        .get(app.url("/track?lang=vi"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Tra cứu hồ sơ"));
}

#[tokio::test]
async fn assets_are_embedded_cached_and_revalidated() {
    let app = spawn_app().await;
    let c = browser();
    let res = c
        .get(app.url("/static/vendor/htmx.min.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let etag = res.headers()[header::ETAG].clone();
    assert!(res.text().await.unwrap().contains("htmx"));
    let res = c
        .get(app.url("/static/vendor/htmx.min.js"))
        .header(header::IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    let res = c.get(app.url("/static/nope.js")).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

/// First load of each page, all its assets included, as a browser receives them (gzip):
/// under 200 KB. `/docs` has its own budget (its reference UI alone is larger).
#[tokio::test]
async fn every_page_weighs_less_than_200_kb_compressed() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let case = app
        .submit_online(&cast.citizen, intake_body(BIRTH, BA_DINH))
        .await;
    let code = case["code"].as_str().unwrap();
    let supervisor = app
        .create_user("giamsat", "supervisor", None, Some(HN))
        .await;
    let clerk = app
        .create_user("letan", "clerk", Some(BA_DINH_CENTRE), None)
        .await;
    let citizen = app.create_user("congdan", "citizen", None, None).await;
    let admin = app.create_user("quantri", "admin", None, None).await;
    let case_page = format!("/cases/{code}");
    for (user, password, pages) in [
        (
            "giamsat",
            supervisor,
            vec!["/dashboard", "/dashboard?province=01", "/track", "/"],
        ),
        (
            "letan",
            clerk,
            vec!["/queue", "/intake", case_page.as_str()],
        ),
        (
            "congdan",
            citizen,
            vec![
                "/procedures",
                "/procedures/1.001193/file",
                "/me/cases",
                "/register",
            ],
        ),
        (
            "quantri",
            admin,
            vec!["/admin", "/admin/units", "/admin/audit", "/admin/users"],
        ),
    ] {
        // Compressed sizes: a client that asks for gzip but does not decode it.
        let c = reqwest::Client::builder()
            .gzip(false)
            .cookie_store(true)
            .build()
            .unwrap();
        sign_in(&app, &c, user, &password, "/").await;
        for path in pages {
            let res = c.get(app.url(path)).send().await.unwrap();
            assert_eq!(res.status(), 200, "{path}");
            let html = res.text().await.unwrap();
            let gz = |url: String| {
                let c = c.clone();
                async move {
                    let res = c
                        .get(url)
                        .header(header::ACCEPT_ENCODING, "gzip")
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(res.status(), 200);
                    res.bytes().await.unwrap().len()
                }
            };
            let mut total = gz(app.url(path)).await;
            for asset in html.split("\"/static/").skip(1) {
                let name = &asset[..asset.find('"').unwrap()];
                total += gz(app.url(&format!("/static/{name}"))).await;
            }
            assert!(total < 200 * 1024, "{path}: {total} bytes");
        }
    }
}

#[tokio::test]
async fn a_citizen_registers_files_once_with_one_key_and_sees_it_as_theirs() {
    let app = spawn_app().await;
    let c = browser();
    let page = c
        .get(app.url("/register"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_of(&page);
    // The API's rules: a short password is refused, and what was typed comes back.
    let res = c
        .post(app.url("/register"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "dan_web"),
            ("password", "short"),
            ("full_name", "Nguyễn Văn An"),
            ("phone", "0912345678"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("value=\"dan_web\"") && html.contains("value=\"Nguyễn Văn An\""));
    let res = c
        .post(app.url("/register"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "dan_web"),
            ("password", "mot-mat-khau-du-dai-2025"),
            ("full_name", "Nguyễn Văn An"),
            ("phone", "0912345678"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.url().path(), "/procedures");
    let form = c
        .get(app.url("/procedures/1.001193/file"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let key_at = form.find("name=\"idempotency_key\" value=\"").unwrap() + 30;
    let key = &form[key_at..key_at + 36];
    let csrf = csrf_of(&form);
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("idempotency_key", key),
        ("mode", "ward"),
        ("province", "01"),
        ("ward", BA_DINH),
        ("full_name", "Nguyễn Văn An"),
        ("id_number", "001203004567"),
        ("phone", "0912345678"),
    ];
    // The same form sent twice (a double click, a refresh): one dossier.
    let (a, b) = tokio::join!(
        c.post(app.url("/procedures/1.001193/file"))
            .form(&fields)
            .send(),
        c.post(app.url("/procedures/1.001193/file"))
            .form(&fields)
            .send()
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.status(), 200);
    assert_eq!(b.status(), 200);
    assert_eq!(a.url().path(), b.url().path());
    assert!(a.url().path().starts_with("/cases/01.00004.TTPVHCC-"));
    let mine = c
        .get(app.url("/me/cases"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(mine.matches("class=\"code\"").count(), 1, "{mine}");
}

#[tokio::test]
async fn the_administrators_pages_are_for_administrators_only() {
    let app = spawn_app().await;
    let pw = app
        .create_user("letan", "clerk", Some(BA_DINH_CENTRE), None)
        .await;
    let c = browser();
    sign_in(&app, &c, "letan", &pw, "/").await;
    for path in ["/admin", "/admin/units", "/admin/audit", "/admin/users"] {
        let res = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 403, "{path}");
    }
    let pw = app.create_user("quantri", "admin", None, None).await;
    let c = browser();
    sign_in(&app, &c, "quantri", &pw, "/").await;
    let res = c
        .get(app.url(&format!("/admin/units/{BA_DINH_PC}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let res = c
        .post(app.url(&format!("/admin/units/{BA_DINH_PC}")))
        .form(&[
            ("csrf_token", csrf_of(&html).as_str()),
            ("name", "Ủy ban nhân dân Phường Ba Đình"),
            ("name_en", "Ba Dinh Ward People's Committee"),
            ("working_hours", "08:00-12:00,13:30-17:30"),
            ("active", "1"),
            ("receives_dossiers", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.url().query().unwrap().contains("saved=1"));
    let admin = app.login("quantri", &pw).await.0;
    let audit = app
        .get("/api/v1/audit?action=unit.update", Some(&admin))
        .await
        .assert_status(200);
    assert_eq!(audit["total"], 1, "{audit}");
}

#[tokio::test]
async fn an_administrator_announces_a_day_off_from_the_calendar_page() {
    let app = spawn_app().await;
    let pw = app.create_user("quantri", "admin", None, None).await;
    let c = browser();
    sign_in(&app, &c, "quantri", &pw, "/").await;
    let html = c
        .get(app.url("/admin/calendar?year=2027"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html);
    let bad = "year = 2027\n[[day_off]]\ndate = \"2027-13-40\"\n";
    let res = c
        .post(app.url("/admin/calendar"))
        .form(&[("csrf_token", csrf.as_str()), ("text", bad)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"form-errors\"") && html.contains("2027-13-40"));
    let good = "year = 2027\n[[day_off]]\ndate = \"2027-06-15\"\nname_vi = \"Nghỉ bù bầu cử\"\nname_en = \"Election day off\"\nsource = \"Thông báo 1/TB-BNV\"\n";
    let res = c
        .post(app.url("/admin/calendar"))
        .form(&[("csrf_token", csrf.as_str()), ("text", good)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"posted\""), "{html}");
    assert!(html.contains("15/06/2027") && html.contains("Nghỉ bù bầu cử"));
    let admin = app.login("quantri", &pw).await.0;
    let year = app
        .get("/api/v1/calendar/2027", Some(&admin))
        .await
        .assert_status(200);
    assert!(year.to_string().contains("2027-06-15"), "{year}");
}

#[tokio::test]
async fn an_administrator_saves_a_new_version_of_a_procedure() {
    let app = spawn_app().await;
    let pw = app.create_user("quantri", "admin", None, None).await;
    let c = browser();
    sign_in(&app, &c, "quantri", &pw, "/").await;
    let html = c
        .get(app.url(&format!("/admin/procedures/{MARITAL}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html);
    let name = |h: &str| {
        let key = "id=\"name_vi\" name=\"name_vi\" value=\"";
        let at = h.find(key).unwrap() + key.len();
        h[at..at + h[at..].find('"').unwrap()].to_string()
    };
    let name_vi = name(&html);
    let form = |fee: &'static str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("name_vi", name_vi.clone()),
            ("name_en", "Certificate of marital status".to_string()),
            ("time_limit_hours", "24".to_string()),
            ("fee_vnd", fee.to_string()),
            ("active", "1".to_string()),
        ]
    };
    let res = c
        .post(app.url(&format!("/admin/procedures/{MARITAL}")))
        .form(&form("-5"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let res = c
        .post(app.url(&format!("/admin/procedures/{MARITAL}")))
        .form(&form("15.000"))
        .send()
        .await
        .unwrap();
    let status = res.status();
    let html = res.text().await.unwrap();
    let errors = html
        .find("form-errors")
        .map(|i| &html[i..i + 600])
        .unwrap_or("");
    assert_eq!(status, 200, "{errors}");
    assert!(html.contains("id=\"saved\""));
    let p = app
        .get(&format!("/api/v1/procedures/{MARITAL}"), None)
        .await
        .assert_status(200);
    assert_eq!(p["fee_vnd"], 15000, "{p}");
}

#[tokio::test]
async fn disabling_an_account_from_its_page_ends_its_browser_sessions() {
    let app = spawn_app().await;
    let admin_pw = app.create_user("quantri", "admin", None, None).await;
    let clerk_pw = app
        .create_user("letan", "clerk", Some(BA_DINH_CENTRE), None)
        .await;
    let clerk = browser();
    sign_in(&app, &clerk, "letan", &clerk_pw, "/queue").await;
    let admin = browser();
    sign_in(&app, &admin, "quantri", &admin_pw, "/").await;
    let list = admin
        .get(app.url("/admin/users?q=letan"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = list.find("href=\"/admin/users/").unwrap() + "href=\"/admin/users/".len();
    let id = &list[at..at + 36];
    let page = admin
        .get(app.url(&format!("/admin/users/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    // A unit that does not exist is refused; the form comes back as typed.
    let res = admin
        .post(app.url(&format!("/admin/users/{id}")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("full_name", "Lễ Tân"),
            ("role", "clerk"),
            ("unit", "01.99999.UBND"),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("value=\"01.99999.UBND\""));
    assert_eq!(
        clerk
            .get(app.url("/queue"))
            .send()
            .await
            .unwrap()
            .url()
            .path(),
        "/queue"
    );
    let res = admin
        .post(app.url(&format!("/admin/users/{id}")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("full_name", "Lễ Tân"),
            ("role", "clerk"),
            ("unit", BA_DINH_CENTRE),
            ("disabled", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.url().query().unwrap().contains("saved=1"));
    assert_eq!(
        clerk
            .get(app.url("/queue"))
            .send()
            .await
            .unwrap()
            .url()
            .path(),
        "/login"
    );
}

#[tokio::test]
async fn an_administrator_creates_an_override_and_an_account_and_reads_a_dossier_once() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let case = app
        .submit_online(&cast.citizen, intake_body(BIRTH, BA_DINH))
        .await;
    let code = case["code"].as_str().unwrap();
    let pw = app.create_user("quantri", "admin", None, None).await;
    let c = browser();
    sign_in(&app, &c, "quantri", &pw, "/").await;
    let html = c
        .get(app.url("/admin/overrides"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html);
    let override_form = |to: &'static str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("province_code", "01".to_string()),
            ("procedure_code", BIRTH.to_string()),
            ("from_unit_code", BA_DINH_PC.to_string()),
            ("to_unit_code", to.to_string()),
            ("priority", "5".to_string()),
            ("reason", "Ba Đình quá tải".to_string()),
        ]
    };
    let res = c
        .post(app.url("/admin/overrides"))
        .form(&override_form("01.99999.UBND"))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error());
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("value=\"01.99999.UBND\""),
        "kept as typed"
    );
    let res = c
        .post(app.url("/admin/overrides"))
        .form(&override_form(NGOC_HA_PC))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.url().path().starts_with("/admin/overrides/"));
    let res = c
        .post(app.url("/admin/users"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("username", "canbo_moi"),
            ("password", "mot-mat-khau-du-dai-2025"),
            ("full_name", "Cán bộ mới"),
            ("new_role", "clerk"),
            ("unit", NGOC_HA_PC),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.url().query().unwrap().contains("saved=1"));
    app.login("canbo_moi", "mot-mat-khau-du-dai-2025").await;
    // An administrator's look at a dossier is one audit entry per page.
    let res = c
        .get(app.url(&format!("/cases/{code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let admin = app.login("quantri", &pw).await.0;
    let audit = app
        .get(
            &format!("/api/v1/audit?action=read_case&subject={code}"),
            Some(&admin),
        )
        .await
        .assert_status(200);
    assert_eq!(audit["total"], 1, "{audit}");
    let audit = app
        .get("/api/v1/audit?action=override.create", Some(&admin))
        .await
        .assert_status(200);
    assert_eq!(audit["total"], 1, "{audit}");
}

/// Issue 21 §2 at the counter: a walk-in pays the fee with its filing through the intake
/// form, and the dossier page lists the receipt (Decree 61/2018/NĐ-CP art. 6: fees collected
/// at receipt).
#[tokio::test]
async fn the_counter_takes_the_fee_with_a_walk_in_and_shows_the_receipt() {
    let app = spawn_app().await;
    let pw = app
        .create_user("quay", "clerk", Some(BA_DINH_CENTRE), None)
        .await;
    let c = browser();
    sign_in(&app, &c, "quay", &pw, "/intake").await;
    let form = c
        .get(app.url("/intake"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("name=\"payment_channel\""));
    let res = c
        .post(app.url("/intake"))
        .form(&[
            ("csrf_token", csrf_of(&form).as_str()),
            ("procedure_code", "2.000635"),
            ("full_name", "Lê Văn Cường"),
            ("id_number", "001203004567"),
            ("phone", "0912345678"),
            ("address", "Phường Ba Đình, Hà Nội"),
            ("channel", "in_person"),
            ("payment_channel", "bank_transfer"),
            ("payment_reference", "FT26338999"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let url = res.url().path().to_string();
    let page = res.text().await.unwrap();
    assert!(url.starts_with("/cases/"), "{url}");
    assert!(page.contains("id=\"receipts\""), "{page}");
    assert!(page.contains("FT26338999") && page.contains("8.000"));
    let code = url.trim_start_matches("/cases/");
    let row = app.case_row(code).await;
    assert!(row.paid_at.is_some());
    assert!(!row.paid_online);
}
