//! The Open311 GeoReport v2 facade over HTTP: keys, services, filing by form, public reads,
//! and errors in the spec's format (never problem documents).

use serde_json::{json, Value};

use crate::helpers::*;

async fn form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> Resp {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter().copied())
        .finish();
    app.send(
        app.client
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body),
    )
    .await
}

fn spec_error(r: &Resp, status: u16) -> String {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    if r.content_type().starts_with("text/xml") {
        assert!(
            r.text.contains(&format!(
                "<errors><error><code>{status}</code><description>"
            )),
            "{}",
            r.text
        );
        return r.text.clone();
    }
    assert!(
        r.content_type().starts_with("application/json"),
        "{}",
        r.content_type()
    );
    let v = r.json();
    assert_eq!(v[0]["code"], status, "{v}");
    v[0]["description"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn client_systems_file_by_form_with_their_key_and_read_requests_in_json_and_xml() {
    let app =
        spawn_app_with(TestConfig::default().with("MOTCUA__OPEN311__REQUESTS_PER_MINUTE", "8"))
            .await;
    let admin = app.token_for("admin", "admin", None, None).await;
    let clerk = app
        .token_for("clerk", "clerk", Some(BA_DINH_PC), None)
        .await;
    app.post(
        "/api/v1/admin/open311-keys",
        Some(&clerk),
        json!({"name": "City app"}),
    )
    .await
    .assert_problem(403, "forbidden");
    let made = app
        .post(
            "/api/v1/admin/open311-keys",
            Some(&admin),
            json!({"name": "Ứng dụng phản ánh Hà Nội"}),
        )
        .await
        .assert_status(201);
    let key = made["key"].as_str().unwrap().to_string();
    let key_id = made["id"].as_str().unwrap().to_string();
    let listed = app
        .get("/api/v1/admin/open311-keys", Some(&admin))
        .await
        .assert_status(200);
    assert!(listed[0].get("key").is_none(), "the key is shown once");

    // Discovery and services, in both formats.
    let d = app
        .get("/open311/v2/discovery.json", None)
        .await
        .assert_status(200);
    assert_eq!(
        d["endpoints"][0]["specification"],
        "http://wiki.open311.org/GeoReport_v2"
    );
    let x = app.get("/open311/v2/discovery.xml", None).await;
    assert!(
        x.text.starts_with("<?xml") && x.text.contains("<discovery>"),
        "{}",
        x.text
    );
    let services = app
        .get("/open311/v2/services.json", None)
        .await
        .assert_status(200);
    let marital = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_code"] == MARITAL)
        .unwrap();
    assert_eq!(marital["metadata"], true);
    let def = app
        .get(&format!("/open311/v2/services/{MARITAL}.json"), None)
        .await
        .assert_status(200);
    let attrs: Vec<&str> = def["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert!(
        attrs.contains(&"id_number") && attrs.contains(&"to_khai"),
        "{attrs:?}"
    );
    let xml = app
        .get(&format!("/open311/v2/services/{MARITAL}.xml"), None)
        .await;
    assert!(
        xml.text.contains(
            "<service_definition><service_code>1.004873</service_code><attributes><attribute>"
        ),
        "{}",
        xml.text
    );
    spec_error(
        &app.get("/open311/v2/services/9.999999.json", None).await,
        404,
    );
    spec_error(
        &app.get("/open311/v2/services/9.999999.xml", None).await,
        404,
    );
    spec_error(&app.get("/open311/v2/nothing.json", None).await, 404);

    // Filing: a key is needed, an unknown one or none is 403; lat/long alone is 400.
    let fields = |k: &'static str| -> Vec<(&'static str, String)> {
        vec![
            ("api_key", k.to_string()),
            ("service_code", MARITAL.to_string()),
            (
                "address_string",
                "Phường Phúc Xá, Quận Ba Đình, Hà Nội".to_string(),
            ),
            ("first_name", "An".to_string()),
            ("last_name", "Nguyễn Văn".to_string()),
            ("phone", "0912345678".to_string()),
            ("attribute[id_number]", "001203004567".to_string()),
            ("description", "Xin cấp giấy xác nhận".to_string()),
        ]
    };
    let as_refs = |v: &Vec<(&'static str, String)>| -> Vec<(&'static str, String)> { v.clone() };
    let mut no_key = fields("");
    no_key.retain(|(k, _)| *k != "api_key");
    let pairs =
        |v: &[(&'static str, String)]| v.iter().map(|(k, s)| (*k, s.clone())).collect::<Vec<_>>();
    let send = |v: Vec<(&'static str, String)>, path: &'static str| {
        let app = &app;
        async move {
            let refs: Vec<(&str, &str)> = v.iter().map(|(k, s)| (*k, s.as_str())).collect();
            form(app, path, &refs).await
        }
    };
    assert!(spec_error(
        &send(pairs(&no_key), "/open311/v2/requests.json").await,
        403
    )
    .contains("api_key"));
    spec_error(
        &send(pairs(&fields("o311_not-a-key")), "/open311/v2/requests.xml").await,
        403,
    );
    let mut geo: Vec<(&'static str, String)> = as_refs(&no_key);
    geo.retain(|(k, _)| *k != "address_string");
    geo.push(("api_key", key.clone()));
    geo.push(("lat", "21.0409".into()));
    geo.push(("long", "105.8410".into()));
    assert!(spec_error(&send(geo, "/open311/v2/requests.json").await, 400).contains("geocode"));
    let mut unknown = fields("");
    unknown.retain(|(k, _)| *k != "api_key" && *k != "service_code");
    unknown.push(("api_key", key.clone()));
    unknown.push(("service_code", "9.999999".into()));
    spec_error(&send(unknown, "/open311/v2/requests.json").await, 404);

    // A ward name found in several provinces: the spec's error, naming the problem.
    let mut two = fields("");
    two.retain(|(k, _)| *k != "api_key" && *k != "address_string");
    two.push(("api_key", key.clone()));
    two.push(("address_string", "Phường 1".into()));
    let d = spec_error(&send(two, "/open311/v2/requests.json").await, 400);
    assert!(d.contains("several provinces"), "{d}");

    // Filed, with a pre-2025 address; the same form again files once.
    let mut good = fields("");
    good.retain(|(k, _)| *k != "api_key");
    good.push(("api_key", key.clone()));
    let r = send(good.clone(), "/open311/v2/requests.json").await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let code = r.json()[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    let again = send(good.clone(), "/open311/v2/requests.json").await;
    assert_eq!(
        again.json()[0]["service_request_id"],
        code.as_str(),
        "{}",
        again.text
    );
    let row = app.case_row(&code).await;
    // Phúc Xá (Ba Đình district, before 2025) is in Phường Hồng Hà (00097) since.
    assert_eq!(
        (
            row.channel.as_str(),
            row.status.as_str(),
            row.ward_code.as_deref()
        ),
        ("online", "submitted", Some("00097"))
    );
    assert!(code.starts_with("01."), "{code}");

    // Public reads: its status and agency, no personal data.
    let list = app
        .get("/open311/v2/requests.json", None)
        .await
        .assert_status(200);
    let mine: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["service_request_id"] == code.as_str())
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        (&mine[0]["status"], &mine[0]["service_code"]),
        (&json!("open"), &json!(MARITAL))
    );
    let one = app
        .get(&format!("/open311/v2/requests/{code}.json"), None)
        .await;
    for personal in ["Nguyễn Văn", "0912345678", "001203004567", "Xin cấp"] {
        assert!(
            !one.text.contains(personal) && !list.to_string().contains(personal),
            "{personal}"
        );
    }
    let xml = app
        .get(&format!("/open311/v2/requests/{code}.xml"), None)
        .await;
    assert!(
        xml.text.starts_with("<?xml") && xml.text.contains("<service_requests><request>"),
        "{}",
        xml.text
    );
    assert!(
        xml.text
            .contains(&format!("<service_request_id>{code}</service_request_id>"))
            && xml.text.contains("<status>open</status>")
    );
    let t = app
        .get(&format!("/open311/v2/tokens/{code}.json"), None)
        .await
        .assert_status(200);
    assert_eq!(t[0]["service_request_id"], code.as_str());
    let closed = app
        .get("/open311/v2/requests.json?status=closed", None)
        .await
        .assert_status(200);
    assert!(closed.as_array().unwrap().is_empty());
    // Filters: by request and by service.
    let by_id = app
        .get(
            &format!("/open311/v2/requests.json?service_request_id={code}"),
            None,
        )
        .await
        .assert_status(200);
    assert_eq!(by_id.as_array().unwrap().len(), 1, "{by_id}");
    let births = app
        .get(
            &format!("/open311/v2/requests.json?service_code={BIRTH}"),
            None,
        )
        .await
        .assert_status(200);
    assert!(!births.to_string().contains(&code), "{births}");

    // Filed by a 2025 ward code.
    let mut by_ward = good.clone();
    by_ward.retain(|(k, _)| *k != "address_string");
    by_ward.push(("address_id", "00097".into()));
    let r = send(by_ward, "/open311/v2/requests.xml").await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let second = r
        .text
        .split("<service_request_id>")
        .nth(1)
        .and_then(|t| t.split('<').next())
        .unwrap()
        .to_string();
    assert_ne!(second, code);
    assert_eq!(
        app.case_row(&second).await.ward_code.as_deref(),
        Some("00097")
    );

    // Received: the deadline is the expected time and the handling unit the agency. Refused
    // at the counter: closed, with the reason in the notes.
    let unit = app.case_row(&code).await.receiving_unit;
    let reception = app
        .token_for("o311_reception", "clerk", Some(&unit), None)
        .await;
    // The form carried no file: the counter scans the declaration, then receives.
    app.attach(
        &reception,
        &code,
        &[("kind", "to_khai")],
        "to-khai.pdf",
        pdf("to khai"),
    )
    .await
    .assert_status(201);
    app.act(&reception, &code, "receive", json!({}))
        .await
        .assert_status(200);
    let one = app
        .get(&format!("/open311/v2/requests/{code}.json"), None)
        .await
        .assert_status(200);
    let expected = one[0]["expected_datetime"]
        .as_str()
        .unwrap_or_else(|| panic!("{one}"));
    let expected = chrono::DateTime::parse_from_rfc3339(expected).unwrap();
    assert!(expected > chrono::Utc::now(), "{one}");
    assert_eq!(one[0]["status"], "open");
    assert!(
        !one[0]["agency_responsible"].as_str().unwrap().is_empty(),
        "{one}"
    );
    app.act(
        &reception,
        &second,
        "refuse",
        json!({"reason": "Hồ sơ không thuộc thẩm quyền"}),
    )
    .await
    .assert_status(200);
    let gone = app
        .get(&format!("/open311/v2/requests/{second}.json"), None)
        .await
        .assert_status(200);
    assert_eq!(gone[0]["status"], "closed", "{gone}");
    assert!(
        gone[0]["status_notes"]
            .as_str()
            .unwrap()
            .contains("refused"),
        "{gone}"
    );
    let closed = app
        .get("/open311/v2/requests.json?status=closed", None)
        .await
        .assert_status(200);
    assert_eq!(closed[0]["service_request_id"], second.as_str(), "{closed}");

    // A method the facade has not, answered by the router: still the spec's format.
    let wrong = app
        .send(app.client.delete(app.url("/open311/v2/requests.xml")))
        .await;
    assert!(
        wrong.content_type().starts_with("text/xml"),
        "{}",
        wrong.text
    );
    spec_error(&wrong, 405);
    spec_error(
        &app.get("/open311/v2/requests.json?status=pending", None)
            .await,
        400,
    );
    spec_error(
        &app.get("/open311/v2/requests.json?start_date=yesterday", None)
            .await,
        400,
    );
    spec_error(
        &app.get("/open311/v2/requests/01.X-250101-0001.json", None)
            .await,
        404,
    );

    // Throttled per key (8 a minute here), in the spec's format.
    let mut last = None;
    for _ in 0..8 {
        last = Some(send(good.clone(), "/open311/v2/requests.json").await);
    }
    spec_error(last.as_ref().unwrap(), 429);

    // Revoked: refused.
    app.post(
        &format!("/api/v1/admin/open311-keys/{key_id}/revoke"),
        Some(&admin),
        json!({}),
    )
    .await
    .assert_status(200);
    assert!(spec_error(&send(good, "/open311/v2/requests.json").await, 403).contains("revoked"));
}
