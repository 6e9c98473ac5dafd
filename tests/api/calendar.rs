//! The working calendar over HTTP: official years, deadline arithmetic, announcements that
//! move open deadlines, and a dossier's deadline explained.

use serde_json::json;

use crate::helpers::*;

fn days_off(body: &serde_json::Value) -> Vec<String> {
    body["days_off"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["date"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_official_2025_and_2026_calendars() {
    let app = spawn_app().await;
    let y2025 = app
        .get("/api/v1/calendar/2025", None)
        .await
        .assert_status(200);
    let off = days_off(&y2025);
    // Tết Ất Tỵ: Mon 27 – Fri 31 Jan; Hùng Kings Mon 7 Apr; 30/4, 1/5 and the swapped 2/5;
    // 1–2 Sep.
    for d in [
        "2025-01-01",
        "2025-01-27",
        "2025-01-31",
        "2025-04-07",
        "2025-04-30",
        "2025-05-01",
        "2025-05-02",
        "2025-09-01",
        "2025-09-02",
    ] {
        assert!(off.contains(&d.to_string()), "{d} missing from {off:?}");
    }
    assert_eq!(y2025["working_saturdays"], json!(["2025-04-26"]));

    let y2026 = app
        .get("/api/v1/calendar/2026", None)
        .await
        .assert_status(200);
    let off = days_off(&y2026);
    // 1–2 Jan (2 Jan swapped with Sat 10 Jan), Tết 16–20 Feb, Hùng Kings on Sunday 26 Apr
    // gives Monday 27 Apr, 30/4, 1/5, 31 Aug (swapped with Sat 22 Aug), 1–2 Sep.
    for d in [
        "2026-01-01",
        "2026-01-02",
        "2026-02-16",
        "2026-02-20",
        "2026-04-27",
        "2026-04-30",
        "2026-05-01",
        "2026-08-31",
        "2026-09-01",
        "2026-09-02",
    ] {
        assert!(off.contains(&d.to_string()), "{d} missing from {off:?}");
    }
    assert_eq!(
        y2026["working_saturdays"],
        json!(["2026-01-10", "2026-08-22"])
    );
    let kinds: Vec<&str> = y2026["days_off"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"holiday")
            && kinds.contains(&"compensatory")
            && kinds.contains(&"announced")
    );
    let en = app
        .send(
            app.client
                .get(app.url("/api/v1/calendar/2026"))
                .header("accept-language", "en"),
        )
        .await
        .json();
    assert!(en["days_off"].as_array().unwrap().iter().any(|d| d["name"]
        .as_str()
        .unwrap()
        .contains("Tet")
        || d["name"].as_str().unwrap().contains("Lunar")));
    app.get("/api/v1/calendar/1850", None)
        .await
        .assert_problem(422, "validation_failed");
    app.get("/api/v1/calendar/abc", None)
        .await
        .assert_problem(400, "invalid_path");
}

#[tokio::test]
async fn deadline_arithmetic_edge_cases() {
    let app = spawn_app().await;
    let due = |q: &str| {
        let app = &app;
        let q = q.to_string();
        async move {
            app.get(&format!("/api/v1/calendar/deadline?{q}"), None)
                .await
                .assert_status(200)
        }
    };
    // Friday 16:00 before Tết 2026, 8 working hours: 1 h on Friday, then Tết (16–20 Feb) and
    // two weekends, 7 h on Monday 23 Feb: 07:30–11:30 and 13:00–16:00.
    let r = due("start=2026-02-13T16:00:00%2B07:00&working_hours=8").await;
    assert_eq!(r["due_at"], "2026-02-23T16:00:00+07:00");
    assert!(r["explanation"].as_array().unwrap().len() >= 2);
    // Across the make-up Saturday 10 Jan 2026: Friday 16:00 + 4 h = Saturday 10:30.
    let r = due("start=2026-01-09T16:00:00%2B07:00&working_hours=4").await;
    assert_eq!(r["due_at"], "2026-01-10T10:30:00+07:00");
    // Same day: before 15:00 → 17:00 that day; at 15:30 → end of the next working day.
    let r = due("start=2026-03-02T14:59:00%2B07:00&same_day=true").await;
    assert_eq!(r["due_at"], "2026-03-02T17:00:00+07:00");
    let r = due("start=2026-03-02T15:30:00%2B07:00&same_day=true").await;
    assert_eq!(r["due_at"], "2026-03-03T17:00:00+07:00");
    // Received on Saturday (an ordinary one): the clock starts Monday 07:30.
    let r = due("start=2026-03-07T10:00:00%2B07:00&working_days=1").await;
    assert_eq!(r["clock_start"], "2026-03-09T07:30:00+07:00");
    assert_eq!(r["due_at"], "2026-03-09T17:00:00+07:00");
    // A unit's own hours apply.
    let r = due(&format!(
        "start=2026-03-02T07:30:00%2B07:00&working_hours=8&unit={BA_DINH_PC}"
    ))
    .await;
    assert_eq!(r["due_at"], "2026-03-02T17:00:00+07:00");

    app.get(
        "/api/v1/calendar/deadline?start=2026-03-02T07:30:00%2B07:00",
        None,
    )
    .await
    .assert_problem(422, "validation_failed");
    app.get(
        "/api/v1/calendar/deadline?start=2026-03-02T07:30:00%2B07:00&working_hours=8&same_day=true",
        None,
    )
    .await
    .assert_problem(422, "validation_failed");
    app.get(
        "/api/v1/calendar/deadline?start=yesterday&working_hours=8",
        None,
    )
    .await
    .assert_problem(422, "validation_failed");
    app.get("/api/v1/calendar/deadline?start=2026-03-02T07:30:00%2B07:00&working_hours=8&unit=01.99999.UBND", None)
        .await
        .assert_problem(404, "unit_not_found");
}

#[tokio::test]
async fn an_announcement_moves_open_deadlines() {
    let app = spawn_app().await;
    let admin = app.token_for("root", "admin", None, None).await;
    let cast = app.cast().await;
    let code = app
        .file(&cast.reception, intake_body(MARITAL, BA_DINH))
        .await
        .assert_status(201)["code"]
        .as_str()
        .unwrap()
        .to_string();
    let before = app.case_row(&code).await;
    let cal = app.state.calendars.current().default_calendar();
    // Announce the first working day after the clock start (and before the due date) off.
    let clock = cal.clock_start(before.received_at.unwrap()).unwrap();
    let mut day = clock
        .with_timezone(&motcua::domain::calendar::vn_offset())
        .date_naive()
        .succ_opt()
        .unwrap();
    while !cal.is_working_day(day) {
        day = day.succ_opt().unwrap();
    }
    let year = chrono::Datelike::year(&day);
    let body = json!({"year": year, "days_off": [{"date": day, "name_vi": "Nghỉ đột xuất", "name_en": "Extra day off", "source": "Thông báo thử nghiệm"}]});
    app.post(
        "/api/v1/calendar/announcements",
        Some(&cast.clerk),
        body.clone(),
    )
    .await
    .assert_problem(403, "forbidden");
    let r = app
        .post("/api/v1/calendar/announcements", Some(&admin), body)
        .await
        .assert_status(201);
    assert_eq!(r["recomputed_deadlines"], 1);

    let after = app.case_row(&code).await;
    let new_cal = app.state.calendars.current().default_calendar();
    assert!(!new_cal.is_working_day(day));
    assert!(after.due_at.unwrap() > before.due_at.unwrap());
    assert_eq!(
        new_cal.working_secs_between(before.received_at.unwrap(), after.due_at.unwrap()),
        cal.working_secs_between(before.received_at.unwrap(), before.due_at.unwrap()),
        "the same working time, now skipping the new day off"
    );
    assert_eq!(after.appointment_at, after.due_at);
    let events = app
        .get(
            &format!("/api/v1/cases/{code}/events"),
            Some(&cast.reception),
        )
        .await
        .json();
    assert_eq!(
        events.as_array().unwrap().last().unwrap()["action"],
        "deadline_recomputed"
    );
    let listed = app
        .get(&format!("/api/v1/calendar/{year}"), None)
        .await
        .json();
    assert!(days_off(&listed).contains(&day.to_string()));

    // A malformed announcement is refused, and nothing is stored.
    app.post(
        "/api/v1/calendar/announcements",
        Some(&admin),
        json!({"year": year, "swaps": [{"off": day, "work": day, "source": "x"}]}),
    )
    .await
    .assert_problem(422, "invalid_announcement");
}

#[tokio::test]
async fn a_dossier_deadline_is_explained() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let code = app
        .file(&cast.reception, intake_body(MARITAL, BA_DINH))
        .await
        .assert_status(201)["code"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(&cast.clerk, &code, "start_processing", json!({}))
        .await
        .assert_status(200);
    app.act(
        &cast.clerk,
        &code,
        "request_supplement",
        json!({"reason": "thiếu", "components": ["to_khai"]}),
    )
    .await
    .assert_status(200);
    let r = app
        .get(&format!("/api/v1/cases/{code}/deadline"), Some(&cast.clerk))
        .await
        .assert_status(200);
    assert_eq!(r["pauses"].as_array().unwrap().len(), 1);
    assert!(r["pauses"][0]["ended_at"].is_null());
    let lines = r["explanation"].as_array().unwrap();
    assert!(lines.len() >= 3, "{lines:?}");
    assert!(lines
        .iter()
        .any(|l| l.as_str().unwrap().contains("tạm dừng")
            || l.as_str().unwrap().contains("Tạm dừng")));
    let en = app
        .send(
            app.client
                .get(app.url(&format!("/api/v1/cases/{code}/deadline")))
                .bearer_auth(&cast.clerk)
                .header("accept-language", "en"),
        )
        .await
        .json();
    assert!(en["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l.as_str().unwrap().contains("Paused")));
    let stranger = app.token_for("stranger", "citizen", None, None).await;
    app.get(&format!("/api/v1/cases/{code}/deadline"), Some(&stranger))
        .await
        .assert_problem(404, "case_not_found");
}
