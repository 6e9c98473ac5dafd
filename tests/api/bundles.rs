//! Bundled procedures (issue 20 §2): Decree 63/2024/NĐ-CP, as amended by Decree 301/2026/NĐ-CP
//! (codes as published by Hải Phòng, QĐ 3582/QĐ-UBND of 08/9/2026). One filing, a sub-dossier
//! at each competent unit with its share of the combined limit, one result set.

use serde_json::{json, Value};

use crate::helpers::*;

/// Birth registration + permanent residence + health-insurance card for a child under 6.
const BIRTH_BUNDLE: &str = "3.000722";
/// Death registration + removal of permanent residence + funeral allowance.
const DEATH_BUNDLE: &str = "2.002913";
const POLICE: &str = "01.00004.CA";
const SOCIAL_INSURANCE: &str = "01.BHXH";

/// Take a received dossier (or part) through its unit to a decision by that unit's head.
async fn decide(app: &TestApp, clerk: &str, head: &str, code: &str, outcome: &str) -> Value {
    for action in ["claim", "start_processing", "send_for_approval"] {
        app.act(clerk, code, action, json!({}))
            .await
            .assert_status(200);
    }
    let body = if outcome == "reject" {
        json!({"reason": "Không đủ điều kiện"})
    } else {
        json!({})
    };
    app.act(head, code, outcome, body).await.assert_status(200)
}

async fn bundle(app: &TestApp, token: &str, code: &str) -> Value {
    app.get(&format!("/api/v1/cases/{code}"), Some(token))
        .await
        .assert_status(200)
}

fn parts(b: &Value) -> Vec<(String, String, String)> {
    b["parts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| {
            (
                p["procedure_code"].as_str().unwrap().to_string(),
                p["handling_unit"].as_str().unwrap().to_string(),
                p["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Decree 63/2024/NĐ-CP (amended by Decree 301/2026/NĐ-CP): the birth bundle takes at most
/// 3 working days; birth registration comes first (same day), then residence registration
/// by the commune police and the health-insurance card by social insurance, side by side
/// (2 working days each); the applicant gets one set of results.
#[tokio::test]
async fn a_birth_bundle_is_filed_once_and_each_part_is_worked_at_its_competent_unit() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let police = app.token_for("police", "clerk", Some(POLICE), None).await;
    let police_head = app
        .token_for("police.head", "unit_head", Some(POLICE), None)
        .await;
    let insurer = app
        .token_for("bhxh", "clerk", Some(SOCIAL_INSURANCE), None)
        .await;
    let insurer_head = app
        .token_for("bhxh.head", "unit_head", Some(SOCIAL_INSURANCE), None)
        .await;
    let other_citizen = app.token_for("other.citizen", "citizen", None, None).await;

    let filed = app
        .submit_online(&cast.citizen, intake_body(BIRTH_BUNDLE, BA_DINH))
        .await;
    let code = filed["code"].as_str().unwrap().to_string();
    assert_eq!(filed["handling_unit"], BA_DINH_PC, "the commune leads");
    assert!(filed.get("parts").is_none(), "no part before receipt");

    let received = app
        .act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_status(200);
    let row = app.case_row(&code).await;
    let cal = app.state.calendars.current().default_calendar();
    assert_eq!(
        row.due_at.unwrap(),
        cal.add_working_secs(row.received_at.unwrap(), 3 * cal.secs_per_day())
            .unwrap(),
        "one combined limit of 3 working days"
    );
    assert_eq!(received["status"], "received");
    // Receipt opens the part that waits for nothing: birth registration, at the commune.
    let b = bundle(&app, &cast.citizen, &code).await;
    let first = parts(&b);
    assert_eq!(first.len(), 1);
    assert_eq!(
        (first[0].0.as_str(), first[0].1.as_str()),
        ("1.001193", BA_DINH_PC)
    );
    let birth = first[0].2.clone();
    let part = bundle(&app, &cast.clerk, &birth).await;
    assert_eq!(part["bundle_code"], code.as_str());
    assert_eq!(part["status"], "received");
    // Its files are the bundle's (copies of the rows, same content).
    let docs = app
        .get(
            &format!("/api/v1/cases/{birth}/documents"),
            Some(&cast.clerk),
        )
        .await
        .assert_status(200);
    assert_eq!(docs.as_array().unwrap().len(), 2, "{docs}");
    // The applicant's list shows what they filed: the bundle, not its parts.
    let mine = app
        .get("/api/v1/cases?mine=true", Some(&cast.citizen))
        .await
        .assert_status(200);
    let listed: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [code.as_str()]);
    // Who sees a part: its units and the applicant; not another citizen.
    app.get(&format!("/api/v1/cases/{birth}"), Some(&other_citizen))
        .await
        .assert_problem(404, "case_not_found");
    app.get(&format!("/api/v1/cases/{code}"), Some(&police))
        .await
        .assert_problem(404, "case_not_found");

    // The commune registers the birth, with the electronic extract as its result: residence
    // and the card open side by side, each holding the extract.
    for action in ["claim", "start_processing"] {
        app.act(&cast.clerk, &birth, action, json!({}))
            .await
            .assert_status(200);
    }
    app.attach(
        &cast.clerk,
        &birth,
        &[("kind", "result")],
        "trich-luc-khai-sinh.pdf",
        pdf("trich luc"),
    )
    .await
    .assert_status(201);
    app.act(&cast.clerk, &birth, "send_for_approval", json!({}))
        .await
        .assert_status(200);
    app.act(&cast.head, &birth, "approve", json!({}))
        .await
        .assert_status(200);
    let b = bundle(&app, &cast.citizen, &code).await;
    let all = parts(&b);
    let units: Vec<(&str, &str)> = all.iter().map(|p| (p.0.as_str(), p.1.as_str())).collect();
    assert_eq!(
        units,
        [
            ("1.001193", BA_DINH_PC),
            ("1.004222", POLICE),
            ("3.000722.03", SOCIAL_INSURANCE)
        ]
    );
    let (residence, card) = (all[1].2.clone(), all[2].2.clone());
    let docs = app
        .get(
            &format!("/api/v1/cases/{residence}/documents"),
            Some(&police),
        )
        .await
        .assert_status(200);
    assert!(
        docs.as_array()
            .unwrap()
            .iter()
            .any(|d| d["file_name"] == "trich-luc-khai-sinh.pdf"),
        "{docs}"
    );
    let row = app.case_row(&residence).await;
    assert_eq!(
        row.due_at.unwrap(),
        cal.add_working_secs(row.received_at.unwrap(), 2 * cal.secs_per_day())
            .unwrap(),
        "the police's share: 2 working days"
    );
    let q = app
        .get(&format!("/api/v1/units/{POLICE}/queue"), Some(&police))
        .await
        .assert_status(200);
    assert!(q["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["code"] == residence.as_str()));

    // The bundle is decided only after every part, and a part returns nothing itself.
    for action in ["claim", "start_processing", "send_for_approval"] {
        app.act(&cast.clerk, &code, action, json!({}))
            .await
            .assert_status(200);
    }
    let version = app.case_version(&code).await;
    let p = app
        .act(&cast.head, &code, "approve", json!({}))
        .await
        .assert_problem(409, "parts_pending");
    assert_eq!(p["pending"], json!(["1.004222", "3.000722.03"]));
    assert_eq!(app.case_version(&code).await, version, "nothing changed");
    decide(&app, &police, &police_head, &residence, "approve").await;
    app.act(&police, &residence, "return_result", json!({}))
        .await
        .assert_problem(409, "bundle_part");
    app.act(
        &cast.citizen,
        &card,
        "request_withdrawal",
        json!({"reason": "x"}),
    )
    .await
    .assert_problem(409, "bundle_part");
    // Social insurance issues the card as an electronic result: it joins the bundle's files.
    for action in ["claim", "start_processing"] {
        app.act(&insurer, &card, action, json!({}))
            .await
            .assert_status(200);
    }
    app.attach(
        &insurer,
        &card,
        &[("kind", "result")],
        "the-bhyt.pdf",
        pdf("the bhyt"),
    )
    .await
    .assert_status(201);
    app.act(&insurer, &card, "send_for_approval", json!({}))
        .await
        .assert_status(200);
    app.act(&insurer_head, &card, "approve", json!({}))
        .await
        .assert_status(200);

    let decided = app
        .act(&cast.head, &code, "approve", json!({}))
        .await
        .assert_status(200);
    assert_eq!(decided["status"], "decided");
    let returned = app
        .act(
            &cast.reception,
            &code,
            "return_result",
            json!({"result_delivery": "electronic"}),
        )
        .await
        .assert_status(200);
    assert_eq!(returned["status"], "returned");
    let b = bundle(&app, &cast.citizen, &code).await;
    assert!(b["parts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["status"] == "returned"));
    let docs = app
        .get(
            &format!("/api/v1/cases/{code}/documents"),
            Some(&cast.citizen),
        )
        .await
        .assert_status(200);
    assert!(docs
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["kind"] == "result" && d["file_name"] == "the-bhyt.pdf"));
    let events = app
        .get(&format!("/api/v1/cases/{code}/events"), Some(&cast.citizen))
        .await
        .assert_status(200);
    let decided_parts = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "part_decided")
        .count();
    assert_eq!(decided_parts, 3, "the applicant follows each part");
}

/// Decree 63/2024/NĐ-CP: death registration comes first; when it is refused, removal of
/// residence and the funeral allowance never open, and the bundle can be decided. A walk-in
/// bundle waits for the counter's `receive`, which opens its parts.
#[tokio::test]
async fn a_refused_first_part_opens_nothing_after_it() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let filed = app
        .file(&cast.reception, intake_body(DEATH_BUNDLE, BA_DINH))
        .await
        .assert_status(201);
    let code = filed["code"].as_str().unwrap().to_string();
    assert_eq!(
        filed["status"], "submitted",
        "received by the action, not at filing"
    );
    app.act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_status(200);
    let row = app.case_row(&code).await;
    let cal = app.state.calendars.current().default_calendar();
    assert_eq!(
        row.due_at.unwrap(),
        cal.add_working_secs(row.received_at.unwrap(), 6 * cal.secs_per_day())
            .unwrap(),
        "6 working days with the funeral allowance of social assistance"
    );
    let b = bundle(&app, &cast.reception, &code).await;
    let first = parts(&b);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].0, "1.000656");
    decide(&app, &cast.clerk, &cast.head, &first[0].2, "reject").await;
    let b = bundle(&app, &cast.reception, &code).await;
    assert_eq!(
        parts(&b).len(),
        1,
        "nothing waits for a refused registration"
    );
    assert_eq!(b["parts"][0]["outcome"], "rejected");
    let r = decide(&app, &cast.clerk, &cast.head, &code, "reject").await;
    assert_eq!(r["outcome"], "rejected");
    app.act(&cast.reception, &code, "return_result", json!({}))
        .await
        .assert_status(200);
    let part = bundle(&app, &cast.reception, &first[0].2).await;
    assert_eq!(part["status"], "returned", "closed with its bundle");

    // The pages: the bundle lists its parts, a part links back to its bundle.
    let pw = app
        .create_user("counter", "clerk", Some(BA_DINH_CENTRE), None)
        .await;
    let c = crate::web::browser();
    crate::web::sign_in(&app, &c, "counter", &pw, "/queue").await;
    let page = |path: String| {
        let c = c.clone();
        let url = app.url(&path);
        async move {
            let res = c.get(url).send().await.unwrap();
            assert_eq!(res.status(), 200);
            res.text().await.unwrap()
        }
    };
    let html = page(format!("/cases/{code}")).await;
    assert!(
        html.contains(r#"id="parts""#) && html.contains(&first[0].2),
        "{html}"
    );
    let html = page(format!("/cases/{}", first[0].2)).await;
    assert!(html.contains(&format!(r#"href="/cases/{code}" id="bundle-link""#)));
}

/// A part its own unit stops (Form 05) is settled without a decision: the bundle records it,
/// nothing waiting for it opens, and the bundle can be decided.
#[tokio::test]
async fn a_part_stopped_by_its_unit_is_recorded_on_the_bundle() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let code = app
        .submit_online(&cast.citizen, intake_body(BIRTH_BUNDLE, BA_DINH))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_status(200);
    let birth = parts(&bundle(&app, &cast.citizen, &code).await)[0]
        .2
        .clone();
    app.act(
        &cast.head,
        &birth,
        "stop",
        json!({"reason": "Người yêu cầu không bổ sung giấy tờ"}),
    )
    .await
    .assert_status(200);
    let events = app
        .get(&format!("/api/v1/cases/{code}/events"), Some(&cast.citizen))
        .await
        .assert_status(200);
    let last = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "part_decided");
    assert_eq!(last["data"]["part"], birth.as_str());
    assert!(last["data"]["outcome"].is_null());
    let b = bundle(&app, &cast.citizen, &code).await;
    assert_eq!(parts(&b).len(), 1, "nothing waits for a stopped part");
    let r = decide(&app, &cast.clerk, &cast.head, &code, "reject").await;
    assert_eq!(r["status"], "decided");
}
