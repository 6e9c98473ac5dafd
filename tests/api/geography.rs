//! Geography API and address resolution, over HTTP.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use motcua::domain::geography::normalize;
use motcua::services::reference::shipped_geography;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Resp, TestApp};

async fn post_en(app: &TestApp, path: &str, body: Value) -> Resp {
    app.send(
        app.client
            .post(app.url(path))
            .header("accept-language", "en")
            .json(&body),
    )
    .await
}

fn codes(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_string())
        .collect()
}

/// Drop Vietnamese marks, keep case and punctuation.
fn strip_marks(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            c => c,
        })
        .collect()
}

#[tokio::test]
async fn provinces_wards_and_legacy_counts() {
    let app = spawn_app().await;
    let body = app.get("/api/v1/provinces", None).await.assert_status(200);
    assert_eq!(body["total"], 34);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 34);
    let wards: u64 = items
        .iter()
        .map(|p| p["ward_count"].as_u64().unwrap())
        .sum();
    assert_eq!(wards, 3321);
    // Every pre-2025 province went into one or more 2025 provinces: 63 of them, with their
    // 696 districts and 10,051 wards.
    let mut legacy: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for p in items {
        for l in p["legacy_provinces"].as_array().unwrap() {
            legacy.insert(
                l["code"].as_str().unwrap().to_string(),
                (
                    l["districts"].as_u64().unwrap(),
                    l["wards"].as_u64().unwrap(),
                ),
            );
        }
    }
    assert_eq!(legacy.len(), 63);
    assert_eq!(legacy.values().map(|v| v.0).sum::<u64>(), 696);
    assert_eq!(legacy.values().map(|v| v.1).sum::<u64>(), 10_051);

    // One province, by "1" or "01"; the wards of each add up to 3,321.
    let hn = app
        .get("/api/v1/provinces/1", None)
        .await
        .assert_status(200);
    assert_eq!(hn["code"], "01");
    assert_eq!(hn["name"], "Thành phố Hà Nội");
    assert_eq!(hn["ward_count"], 126);
    assert_eq!(
        app.get("/api/v1/provinces/01", None)
            .await
            .assert_status(200),
        hn
    );
    let mut total = 0;
    for p in items {
        let code = p["code"].as_str().unwrap();
        let w = app
            .get(&format!("/api/v1/provinces/{code}/wards"), None)
            .await
            .assert_status(200);
        assert_eq!(w["total"], p["ward_count"]);
        assert!(w["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["province_code"] == code));
        total += w["total"].as_u64().unwrap();
    }
    assert_eq!(total, 3321);

    // Bad codes.
    app.get("/api/v1/provinces/99", None)
        .await
        .assert_problem(404, "province_not_found");
    app.get("/api/v1/provinces/abc", None)
        .await
        .assert_problem(422, "invalid_province_code");
    app.get("/api/v1/provinces/123/wards", None)
        .await
        .assert_problem(422, "invalid_province_code");
    app.get("/api/v1/provinces/0", None)
        .await
        .assert_problem(422, "invalid_province_code");
}

#[tokio::test]
async fn legacy_ward_endpoint_over_every_legacy_district() {
    let app = spawn_app().await;
    let data = shipped_geography().unwrap();
    // One old ward of each old district: its district and province as listed. Of the 696
    // districts, five island districts (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý Sơn, Côn Đảo) had
    // no wards.
    assert_eq!(data.legacy_districts.len(), 696);
    let mut first_of: BTreeMap<u32, &motcua::domain::geography::LegacyWardRow> = BTreeMap::new();
    for w in &data.legacy_wards {
        first_of.entry(w.district_code.value()).or_insert(w);
    }
    assert_eq!(first_of.len(), 691);
    let mut provinces = BTreeSet::new();
    for w in first_of.values() {
        let r = app
            .get(&format!("/api/v1/legacy-wards/{}", w.code.value()), None)
            .await;
        let body = r.assert_status(200);
        assert_eq!(body["code"], w.code.to_string());
        assert_eq!(body["name"], w.name);
        assert_eq!(body["district_code"], w.district_code.to_string());
        assert_eq!(body["province_code"], w.province_code.to_string());
        assert_eq!(body["in_legacy_list"], true);
        provinces.insert(body["province_code"].as_str().unwrap().to_string());
    }
    assert_eq!(provinces.len(), 63);
}

#[tokio::test]
async fn wards_search_and_detail() {
    let app = spawn_app().await;
    // Without diacritics, case or type prefix.
    for q in [
        "hong ha",
        "HỒNG HÀ",
        "p. hong ha",
        "Phường Hồng Hà",
        "phuong hong ha",
    ] {
        let url = format!("/api/v1/wards?q={}&province=1", urlencode(q));
        let body = app.get(&url, None).await.assert_status(200);
        let items = body["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{q}");
        assert_eq!(items[0]["code"], "00097", "{q}: {body}");
        assert_eq!(items[0]["name"], "Phường Hồng Hà");
        assert_eq!(items[0]["province_name"], "Thành phố Hà Nội");
    }
    // Nationwide, limited.
    let body = app
        .get("/api/v1/wards?q=phu&limit=5", None)
        .await
        .assert_status(200);
    assert_eq!(body["items"].as_array().unwrap().len(), 5);
    // Bad filters.
    app.get("/api/v1/wards?q=x&province=99", None)
        .await
        .assert_problem(422, "validation_failed");
    app.get("/api/v1/wards?q=x&limit=0", None)
        .await
        .assert_problem(422, "validation_failed");
    let long = "a".repeat(10_000);
    app.get(&format!("/api/v1/wards?q={long}"), None)
        .await
        .assert_problem(422, "validation_failed");

    // A ward with its predecessors: Phúc Xá went whole into Hồng Hà.
    let body = app.get("/api/v1/wards/97", None).await.assert_status(200);
    assert_eq!(body["code"], "00097");
    let preds = body["predecessors"].as_array().unwrap();
    let phuc_xa = preds.iter().find(|p| p["code"] == "00001").unwrap();
    assert_eq!(phuc_xa["name"], "Phường Phúc Xá");
    assert_eq!(phuc_xa["district_name"], "Quận Ba Đình");
    assert_eq!(phuc_xa["partly_merged"], false);
    // Ngọc Hà took part of Cống Vị.
    let body = app
        .get("/api/v1/wards/00008", None)
        .await
        .assert_status(200);
    let cong_vi = body["predecessors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "00007")
        .unwrap()
        .clone();
    assert_eq!(cong_vi["partly_merged"], true);

    app.get("/api/v1/wards/99999", None)
        .await
        .assert_problem(404, "ward_not_found");
    app.get("/api/v1/wards/abc", None)
        .await
        .assert_problem(422, "invalid_ward_code");
    app.get("/api/v1/wards/123456", None)
        .await
        .assert_problem(422, "invalid_ward_code");
}

#[tokio::test]
async fn legacy_wards_with_successors_and_quirks() {
    let app = spawn_app().await;
    let body = app
        .get("/api/v1/legacy-wards/1", None)
        .await
        .assert_status(200);
    assert_eq!(body["name"], "Phường Phúc Xá");
    assert_eq!(body["district_name"], "Quận Ba Đình");
    assert_eq!(body["province_name"], "Thành phố Hà Nội");
    assert_eq!(body["partly_merged"], false);
    assert_eq!(codes(&body["successors"]), ["00097"]);

    // Điện Biên was split across four new wards.
    let body = app
        .get("/api/v1/legacy-wards/00019", None)
        .await
        .assert_status(200);
    assert_eq!(body["partly_merged"], true);
    assert_eq!(
        codes(&body["successors"]),
        ["00004", "00070", "00190", "00226"]
    );
    assert!(body["successors"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["partly_merged"] == true && s["province_code"] == "01"));

    // The 10 old codes found only in the conversion table.
    for code in [
        "26929", "26953", "27076", "27226", "27232", "27367", "27373", "3980", "3983", "3984",
    ] {
        let body = app
            .get(&format!("/api/v1/legacy-wards/{code}"), None)
            .await
            .assert_status(200);
        assert_eq!(body["in_legacy_list"], false, "{code}");
        assert!(body["name"].is_null());
        assert!(body["district_code"].is_string(), "{code}: {body}");
        assert!(!body["successors"].as_array().unwrap().is_empty());
    }
    // The 28 old wards without a conversion row: no successors, and why.
    let data = shipped_geography().unwrap();
    let converted: BTreeSet<u32> = data
        .conversions
        .iter()
        .map(|c| c.old_ward_code.value())
        .collect();
    let orphans: Vec<_> = data
        .legacy_wards
        .iter()
        .filter(|w| !converted.contains(&w.code.value()))
        .collect();
    assert_eq!(orphans.len(), 28);
    for w in orphans {
        let r = app
            .send(
                app.client
                    .get(app.url(&format!("/api/v1/legacy-wards/{}", w.code)))
                    .header("accept-language", "en"),
            )
            .await;
        let body = r.assert_status(200);
        assert_eq!(body["in_legacy_list"], true);
        assert!(body["successors"].as_array().unwrap().is_empty());
        let why = body["explanation"][0].as_str().unwrap();
        assert!(why.contains("conversion table has no row"), "{why}");
    }

    app.get("/api/v1/legacy-wards/99999", None)
        .await
        .assert_problem(404, "legacy_ward_not_found");
    app.get("/api/v1/legacy-wards/-1", None)
        .await
        .assert_problem(422, "invalid_legacy_ward_code");
}

#[tokio::test]
async fn address_resolution_examples() {
    let app = spawn_app().await;
    let path = "/api/v1/addresses/resolve";
    for body in [
        json!({"text": "Phường Phúc Xá, Quận Ba Đình, Hà Nội"}),
        json!({"text": "phuong phuc xa, quan ba dinh, ha noi"}),
        json!({"text": "P. Phúc Xá, Q. Ba Đình, TP. Hà Nội"}),
        json!({"legacy_ward_code": "00001"}),
        json!({"legacy_ward_code": "1"}),
        json!({"province": "Hà Nội", "district": "Ba Đình", "ward": "Phúc Xá"}),
        json!({"province": "ha noi", "district": "ba dinh", "ward": "phuc xa"}),
    ] {
        let r = app.post(path, None, body.clone()).await.assert_status(200);
        assert_eq!(r["status"], "resolved", "{body}: {r}");
        assert_eq!(r["era"], "legacy", "{body}");
        assert_eq!(r["ward"]["code"], "00097");
        assert_eq!(r["ward"]["name"], "Phường Hồng Hà");
        assert_eq!(r["ward"]["province_code"], "01");
        assert_eq!(r["ward"]["province_name"], "Thành phố Hà Nội");
        assert_eq!(r["candidates"][0]["via"][0]["legacy_ward_code"], "00001");
        assert!(!r["explanation"].as_array().unwrap().is_empty());
    }
    // A 2025 address.
    let r = app
        .post(path, None, json!({"ward_code": "97"}))
        .await
        .assert_status(200);
    assert_eq!(
        (r["status"].as_str(), r["era"].as_str()),
        (Some("resolved"), Some("2025"))
    );
    let r = app
        .post(path, None, json!({"text": "Phường Hồng Hà, Hà Nội"}))
        .await
        .assert_status(200);
    assert_eq!(r["ward"]["code"], "00097");
    assert_eq!(r["era"], "2025");

    // A partly merged old ward: ambiguous, with every successor.
    let r = post_en(&app, path, json!({"legacy_ward_code": "00019"}))
        .await
        .assert_status(200);
    assert_eq!(r["status"], "ambiguous");
    assert!(r["ward"].is_null());
    assert_eq!(
        codes(&r["candidates"]),
        ["00004", "00070", "00190", "00226"]
    );
    assert!(r["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["via"][0]["partly_merged"] == true));
    let text = r["explanation"].to_string();
    assert!(text.contains("was split across 4 new wards"), "{text}");

    // Nothing found: not an error.
    let r = app
        .post(path, None, json!({"ward_code": "99999"}))
        .await
        .assert_status(200);
    assert_eq!(r["status"], "not_found");
    assert!(r["era"].is_null() && r["ward"].is_null());
    let r = app
        .post(path, None, json!({"text": "Phường Hồng Hàa, Hà Nội"}))
        .await
        .assert_status(200);
    assert_eq!(r["status"], "not_found");
}

#[tokio::test]
async fn address_resolution_bad_input() {
    let app = spawn_app().await;
    let path = "/api/v1/addresses/resolve";
    let long = "Phường ".repeat(1500);
    for (body, field) in [
        (json!({}), "body"),
        (json!({"text": ""}), "body"),
        (json!({"text": "   "}), "body"),
        (json!({"text": long}), "text"),
        (json!({"ward": long, "province": "Hà Nội"}), "ward"),
        (json!({"ward_code": "1", "text": "Phúc Xá"}), "body"),
        (json!({"legacy_ward_code": "1", "ward": "Phúc Xá"}), "body"),
        (json!({"ward_code": "abc"}), "ward_code"),
        (json!({"ward_code": "1234567"}), "ward_code"),
        (json!({"legacy_ward_code": "0"}), "legacy_ward_code"),
        (json!({"province": "Hà Nội"}), "ward"),
        (json!({"text": "!!!"}), "text"),
        (json!({"text": "a\u{0}b"}), "text"),
    ] {
        let r = app.post(path, None, body.clone()).await;
        let p = r.assert_problem(422, "validation_failed");
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
    }
    app.post(path, None, json!({"street": "1 Tràng Tiền"}))
        .await
        .assert_problem(422, "validation_failed");
    app.post(path, None, json!({"text": 5}))
        .await
        .assert_problem(422, "validation_failed");
    let r = app
        .send(
            app.client
                .post(app.url(path))
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    r.assert_problem(400, "malformed_json");
}

/// A deterministic sample of ~300 old wards of the conversion table: each resolves, by code and
/// by its names (with and without marks), to exactly its successors. The whole table is checked
/// in `src/domain/geography/tests.rs`; this checks the HTTP path cheaply.
#[tokio::test]
async fn conversion_table_sample() {
    let app = spawn_app().await;
    let path = "/api/v1/addresses/resolve";
    let data = shipped_geography().unwrap();
    let mut successors: BTreeMap<u32, Vec<(String, bool)>> = BTreeMap::new();
    for c in &data.conversions {
        successors
            .entry(c.old_ward_code.value())
            .or_default()
            .push((c.new_ward_code.to_string(), c.partly_merged));
    }
    let legacy: HashMap<u32, &motcua::domain::geography::LegacyWardRow> = data
        .legacy_wards
        .iter()
        .map(|w| (w.code.value(), w))
        .collect();
    let districts: HashMap<u32, &str> = data
        .legacy_districts
        .iter()
        .map(|d| (d.code.value(), d.name.as_str()))
        .collect();
    let provinces: HashMap<u32, &str> = data
        .legacy_provinces
        .iter()
        .map(|p| (p.code.value(), p.name.as_str()))
        .collect();
    // Old wards a spelling cannot tell apart (same district, same name).
    let mut exact: HashMap<(u32, String), Vec<u32>> = HashMap::new();
    let mut plain: HashMap<(u32, String), Vec<u32>> = HashMap::new();
    for w in &data.legacy_wards {
        let d = w.district_code.value();
        exact
            .entry((d, w.name.clone()))
            .or_default()
            .push(w.code.value());
        plain
            .entry((d, normalize(&w.name)))
            .or_default()
            .push(w.code.value());
    }
    let expect = |group: &[u32]| -> (&'static str, BTreeSet<String>) {
        let mut union = BTreeSet::new();
        let mut certain = true;
        for c in group {
            let s = successors.get(c).map(Vec::as_slice).unwrap_or(&[]);
            if s.len() != 1 || s.iter().any(|x| x.1) {
                certain = false;
            }
            union.extend(s.iter().map(|x| x.0.clone()));
        }
        let status = if union.is_empty() {
            "not_found"
        } else if certain && union.len() == 1 {
            "resolved"
        } else {
            "ambiguous"
        };
        (status, union)
    };
    let got = |r: &Value| -> (String, BTreeSet<String>) {
        (
            r["status"].as_str().unwrap().to_string(),
            codes(&r["candidates"]).into_iter().collect(),
        )
    };

    let mut checked = 0;
    for (&old, succ) in successors.iter().step_by(34) {
        // By code: exactly the successors.
        let r = app
            .post(path, None, json!({"legacy_ward_code": old.to_string()}))
            .await
            .assert_status(200);
        let want: BTreeSet<String> = succ.iter().map(|s| s.0.clone()).collect();
        let status = if want.len() == 1 && !succ.iter().any(|s| s.1) {
            "resolved"
        } else {
            "ambiguous"
        };
        assert_eq!(got(&r), (status.to_string(), want), "old ward {old}");
        assert_eq!(r["era"], "legacy");
        // By names, when the old ward is in the list.
        let Some(w) = legacy.get(&old) else { continue };
        let (d, p) = (
            districts[&w.district_code.value()],
            provinces[&w.province_code.value()],
        );
        let (status, want) = expect(&exact[&(w.district_code.value(), w.name.clone())]);
        let r = app
            .post(
                path,
                None,
                json!({"province": p, "district": d, "ward": w.name}),
            )
            .await
            .assert_status(200);
        assert_eq!(got(&r), (status.to_string(), want), "{old} {}", w.name);
        let (status, want) = expect(&plain[&(w.district_code.value(), normalize(&w.name))]);
        let text = format!(
            "{}, {}, {}",
            strip_marks(&w.name),
            strip_marks(d),
            strip_marks(p)
        )
        .to_lowercase();
        let r = app
            .post(path, None, json!({ "text": text }))
            .await
            .assert_status(200);
        assert_eq!(got(&r), (status.to_string(), want), "{old} {text}");
        checked += 1;
    }
    assert!(checked >= 290, "{checked}");
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
