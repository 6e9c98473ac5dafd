//! Supervisor monitoring: hand-checked indicator fixtures, backlog totals, the bottleneck
//! ranking, rebalancing, scope rules, CSV.

use chrono::{DateTime, Duration, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::json;

use crate::helpers::*;

/// A local (UTC+7) wall-clock instant.
fn vn(m: u32, d: u32, h: u32) -> DateTime<Utc> {
    motcua::domain::calendar::vn_offset()
        .with_ymd_and_hms(2026, m, d, h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// What a fixture dossier looks like.
#[derive(Clone)]
struct Fx {
    unit: &'static str,
    procedure: &'static str,
    channel: &'static str,
    status: &'static str,
    received: Option<DateTime<Utc>>,
    due: Option<DateTime<Utc>>,
    appointment: Option<DateTime<Utc>>,
    decided: Option<DateTime<Utc>>,
    closed: Option<DateTime<Utc>>,
    supplements: i32,
    processing_hours: Option<i64>,
    sla: &'static str,
    assigned: bool,
    /// How the result was handed over, once returned.
    delivery: Option<&'static str>,
    /// The clock stopped then (waiting for the applicant), and has not resumed.
    paused: Option<DateTime<Utc>>,
    /// Paid then, through the online gateway or not.
    paid: Option<(DateTime<Utc>, bool)>,
}

impl Default for Fx {
    fn default() -> Self {
        Fx {
            unit: BA_DINH_PC,
            procedure: MARITAL,
            channel: "in_person",
            status: "processing",
            received: None,
            due: None,
            appointment: None,
            decided: None,
            closed: None,
            supplements: 0,
            processing_hours: None,
            sla: "on_track",
            assigned: true,
            delivery: None,
            paused: None,
            paid: None,
        }
    }
}

async fn insert(app: &TestApp, n: usize, fx: &Fx) -> String {
    let now = Utc::now();
    let code = format!("{BA_DINH_CENTRE}-260101-{:05}", n);
    let province = &fx.unit[..2];
    entity::cases::ActiveModel {
        code: Set(code.clone()),
        procedure_code: Set(fx.procedure.into()),
        procedure_version: Set(1),
        channel: Set(fx.channel.into()),
        status: Set(fx.status.into()),
        national_status: Set(4),
        version: Set(1),
        applicant_account_id: Set(None),
        applicant_name: Set("Fixture".into()),
        applicant_id_number: Set(Some("001203004567".into())),
        applicant_tax_code: Set(None),
        applicant_phone: Set(Some("0912345678".into())),
        applicant_email: Set(None),
        address: Set(json!({})),
        ward_code: Set(Some(fx.unit[3..8].to_string())),
        province_code: Set(province.into()),
        receiving_unit: Set(BA_DINH_CENTRE.into()),
        handling_unit: Set(Some(fx.unit.into())),
        assigned_to: Set(fx.assigned.then(uuid::Uuid::now_v7)),
        form: Set(json!({})),
        documents: Set(json!([])),
        routing: Set(json!({})),
        submitted_at: Set(fx.received.unwrap_or(now)),
        received_at: Set(fx.received),
        due_at: Set(fx.due),
        original_due_at: Set(fx.due),
        appointment_at: Set(fx.appointment.or(fx.due)),
        at_risk_at: Set(fx.due.map(|d| d - Duration::hours(4))),
        sla_state: Set(fx.sla.into()),
        next_check_at: Set(None),
        paused_at: Set(fx.paused),
        paused_working_secs: Set(0),
        resume_status: Set(None),
        withdrawn_from: Set(None),
        consulted_unit: Set(None),
        consult_due_at: Set(None),
        limit_variant: Set(None),
        supplement_count: Set(fx.supplements),
        step_key: Set(Some("processing".into())),
        step_started_at: Set(fx.received),
        step_due_at: Set(fx.received.map(|r| r + Duration::hours(4))),
        outcome: Set(fx.decided.map(|_| "approved".into())),
        decided_at: Set(fx.decided),
        closed_at: Set(fx.closed),
        processing_working_secs: Set(fx.processing_hours.map(|h| h * 3600)),
        on_time: Set(None),
        result_delivery: Set(fx.delivery.map(Into::into)),
        paid_at: Set(fx.paid.map(|(t, _)| t)),
        paid_online: Set(fx.paid.is_some_and(|(_, online)| online)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    code
}

#[tokio::test]
async fn indicators_match_a_hand_checked_fixture() {
    let app = spawn_app().await;
    let sup = app.token_for("sup", "supervisor", None, Some(HN)).await;
    let decided = |r: DateTime<Utc>, due: DateTime<Utc>, d: DateTime<Utc>, hours: i64| Fx {
        status: "returned",
        received: Some(r),
        due: Some(due),
        decided: Some(d),
        closed: Some(d),
        processing_hours: Some(hours),
        ..Default::default()
    };
    let fixtures = vec![
        // A: on time, online, electronic result.
        Fx {
            channel: "online",
            delivery: Some("electronic"),
            ..decided(vn(3, 2, 9), vn(3, 5, 17), vn(3, 4, 10), 16)
        },
        // B: late. Filed at the counter, electronic result: not an online filing.
        Fx {
            delivery: Some("electronic"),
            ..decided(vn(3, 2, 9), vn(3, 5, 17), vn(3, 6, 10), 32)
        },
        // C: before the deadline but two supplement requests: late. Online, result
        // collected at the counter.
        Fx {
            channel: "online",
            supplements: 2,
            delivery: Some("in_person"),
            ..decided(vn(3, 10, 9), vn(3, 13, 17), vn(3, 12, 10), 8)
        },
        // D: late, although an apology set a new appointment that it met.
        Fx {
            appointment: Some(vn(3, 20, 17)),
            ..decided(vn(3, 10, 9), vn(3, 13, 17), vn(3, 18, 10), 40)
        },
        // E: open, due after the period ends: on time. Online.
        Fx {
            channel: "online",
            received: Some(vn(3, 25, 9)),
            due: Some(vn(4, 3, 17)),
            ..Default::default()
        },
        // F: open and past its deadline: late. Postal.
        Fx {
            channel: "postal",
            received: Some(vn(3, 20, 9)),
            due: Some(vn(3, 25, 17)),
            sla: "overdue",
            ..Default::default()
        },
        // G: finished before the period: not counted.
        decided(vn(2, 20, 9), vn(2, 25, 17), vn(2, 25, 10), 8),
        // H: received before, decided in the period on time: counted (not as received).
        decided(vn(2, 25, 9), vn(3, 3, 17), vn(3, 2, 10), 8),
        // I: received online, then withdrawn and stopped: received, but neither finished nor open.
        Fx {
            channel: "online",
            status: "stopped",
            received: Some(vn(3, 15, 9)),
            due: Some(vn(3, 18, 17)),
            closed: Some(vn(3, 16, 9)),
            ..Default::default()
        },
        // J: received after the period: not counted.
        Fx {
            received: Some(vn(4, 5, 9)),
            due: Some(vn(4, 8, 17)),
            ..Default::default()
        },
        // K: on time, online, electronic result.
        Fx {
            channel: "online",
            delivery: Some("electronic"),
            ..decided(vn(3, 5, 9), vn(3, 8, 17), vn(3, 7, 10), 16)
        },
    ];
    for (i, fx) in fixtures.iter().enumerate() {
        insert(&app, i + 1, fx).await;
    }
    let r = app
        .get("/api/v1/stats/indicators?from=2026-03-01T00:00:00%2B07:00&to=2026-04-01T00:00:00%2B07:00", Some(&sup))
        .await
        .assert_status(200);
    let c = &r["counts"];
    // Received in March: A B C D E F I K.
    assert_eq!(c["received"], 8);
    assert_eq!(c["received_online"], 5); // A C E I K
    assert_eq!(c["finished"], 6); // A B C D H K
    assert_eq!(c["finished_on_time"], 3); // A H K
    assert_eq!(c["finished_late"], 3); // B C D
    assert_eq!(c["open_on_time"], 1); // E
    assert_eq!(c["open_late"], 1); // F
    assert_eq!(c["late_by_second_supplement"], 1); // C
    assert_eq!(c["late_with_apology"], 1); // D
    assert_eq!(c["judged"], 8);
    assert_eq!(r["on_time_rate"], 0.5); // (3 + 1) / 8
    assert_eq!(r["online_filing_rate"], 0.625); // 5 / 8
                                                // Online with an electronic result: A K (C's went out at the counter, E is still open,
                                                // I was stopped, B was not filed online).
    assert_eq!(c["received_online_electronic_result"], 2);
    assert_eq!(r["online_with_electronic_result_rate"], 0.25); // 2 / 8
    assert_eq!(r["online_full_score"], false);
    assert_eq!(r["average_processing_working_hours"], 20.0); // (16+32+8+40+8+16) / 6
    assert_eq!(r["by_procedure"][0]["procedure_code"], MARITAL);
    assert_eq!(r["by_procedure"][0]["average_working_days"], 2.5);

    let csv = app
        .send(
            app.client
                .get(app.url("/api/v1/stats/indicators?from=2026-03-01T00:00:00%2B07:00&to=2026-04-01T00:00:00%2B07:00"))
                .bearer_auth(&sup)
                .header("accept", "text/csv"),
        )
        .await;
    assert!(csv.content_type().starts_with("text/csv"));
    assert!(csv.text.contains("on_time_rate,0.5"), "{}", csv.text);
    assert!(
        csv.text.contains("online_with_electronic_result_rate,0.25"),
        "{}",
        csv.text
    );

    app.get(
        "/api/v1/stats/indicators?from=2026-04-01T00:00:00%2B07:00&to=2026-03-01T00:00:00%2B07:00",
        Some(&sup),
    )
    .await
    .assert_problem(422, "validation_failed");
}

/// Decree 118/2025/NĐ-CP: the time a dossier waits for the applicant (a supplement, a
/// payment where it pauses the clock) is not counted, so a dossier whose clock stopped before
/// its deadline is not late while it waits, even when the deadline it had has passed; one
/// that stopped after its deadline was late already.
#[tokio::test]
async fn a_dossier_waiting_for_the_applicant_is_not_late() {
    let app = spawn_app().await;
    let sup = app.token_for("sup", "supervisor", None, Some(HN)).await;
    let waiting = |paused: DateTime<Utc>| Fx {
        status: "supplement_requested",
        received: Some(vn(3, 10, 9)),
        due: Some(vn(3, 13, 17)),
        paused: Some(paused),
        ..Default::default()
    };
    insert(&app, 1, &waiting(vn(3, 12, 9))).await; // paused with a day left
    insert(&app, 2, &waiting(vn(3, 16, 9))).await; // paused three days late
    let r = app
        .get("/api/v1/stats/indicators?from=2026-03-01T00:00:00%2B07:00&to=2026-04-01T00:00:00%2B07:00", Some(&sup))
        .await
        .assert_status(200);
    let c = &r["counts"];
    assert_eq!(
        (c["open_on_time"].as_i64(), c["open_late"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(r["on_time_rate"], 0.5);
}

#[tokio::test]
async fn backlog_groups_add_up_and_respect_scope() {
    let app = spawn_app().await;
    let now = Utc::now();
    let cal = app.state.calendars.current().default_calendar();
    let ago = |days: i64| cal.add_working_secs(now, -days * 8 * 3600).unwrap();
    let fx = [
        Fx {
            received: Some(ago(0)),
            due: Some(now + Duration::days(3)),
            sla: "on_track",
            ..Default::default()
        },
        Fx {
            received: Some(ago(2)),
            due: Some(now + Duration::hours(2)),
            sla: "at_risk",
            ..Default::default()
        },
        Fx {
            received: Some(ago(4)),
            due: Some(now - Duration::days(1)),
            sla: "overdue",
            status: "supplement_requested",
            ..Default::default()
        },
        Fx {
            received: Some(ago(7)),
            due: Some(now - Duration::days(3)),
            sla: "overdue",
            unit: NGOC_HA_PC,
            ..Default::default()
        },
        Fx {
            received: Some(ago(12)),
            due: Some(now - Duration::days(5)),
            sla: "overdue",
            unit: NGOC_HA_PC,
            ..Default::default()
        },
        Fx {
            received: Some(ago(3)),
            due: Some(now + Duration::days(1)),
            unit: "79.26734.UBND",
            ..Default::default()
        },
        // Closed: not in the backlog.
        Fx {
            received: Some(ago(3)),
            due: Some(now),
            status: "returned",
            decided: Some(now),
            closed: Some(now),
            ..Default::default()
        },
    ];
    for (i, f) in fx.iter().enumerate() {
        insert(&app, i + 1, f).await;
    }
    let national = app.token_for("nat", "supervisor", None, None).await;
    let hn = app.token_for("sup.hn", "supervisor", None, Some(HN)).await;
    let head = app
        .token_for("head", "unit_head", Some(BA_DINH_PC), None)
        .await;
    let clerk = app
        .token_for("clerk", "clerk", Some(BA_DINH_PC), None)
        .await;

    let all = app
        .get("/api/v1/stats/backlog?group_by=unit", Some(&national))
        .await
        .assert_status(200);
    assert_eq!(all["totals"]["open"], 6);
    let groups = all["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 3);
    for field in [
        "open",
        "received_today",
        "on_track",
        "at_risk",
        "overdue",
        "awaiting_supplement",
    ] {
        let sum: i64 = groups.iter().map(|g| g[field].as_i64().unwrap()).sum();
        assert_eq!(sum, all["totals"][field].as_i64().unwrap(), "{field}");
    }
    for bucket in ["0_1", "1_3", "3_5", "5_10", "over_10"] {
        let sum: i64 = groups
            .iter()
            .map(|g| g["ageing"][bucket].as_i64().unwrap())
            .sum();
        assert_eq!(
            sum,
            all["totals"]["ageing"][bucket].as_i64().unwrap(),
            "{bucket}"
        );
    }
    let ba_dinh = groups.iter().find(|g| g["key"] == BA_DINH_PC).unwrap();
    assert_eq!(ba_dinh["open"], 3);
    assert_eq!(
        (
            ba_dinh["on_track"].as_i64(),
            ba_dinh["at_risk"].as_i64(),
            ba_dinh["overdue"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(ba_dinh["awaiting_supplement"], 1);
    assert_eq!(
        ba_dinh["ageing"],
        json!({"0_1": 1, "1_3": 1, "3_5": 1, "5_10": 0, "over_10": 0})
    );
    let ngoc_ha = groups.iter().find(|g| g["key"] == NGOC_HA_PC).unwrap();
    assert_eq!(
        ngoc_ha["ageing"],
        json!({"0_1": 0, "1_3": 0, "3_5": 0, "5_10": 1, "over_10": 1})
    );
    assert!(ngoc_ha["oldest_open_age_working_hours"].as_f64().unwrap() >= 95.9);

    let by_province = app
        .get("/api/v1/stats/backlog?group_by=province", Some(&national))
        .await
        .json();
    assert_eq!(by_province["groups"].as_array().unwrap().len(), 2);
    // A provincial supervisor sees their province only, and cannot ask for another.
    let mine = app
        .get("/api/v1/stats/backlog", Some(&hn))
        .await
        .assert_status(200);
    assert_eq!(mine["totals"]["open"], 5);
    app.get("/api/v1/stats/backlog?province=79", Some(&hn))
        .await
        .assert_problem(403, "forbidden");
    // A unit head sees their unit.
    let unit = app
        .get("/api/v1/stats/backlog?group_by=step", Some(&head))
        .await
        .assert_status(200);
    assert_eq!(unit["totals"]["open"], 3);
    app.get(
        &format!("/api/v1/stats/backlog?unit={NGOC_HA_PC}"),
        Some(&head),
    )
    .await
    .assert_problem(403, "forbidden");
    app.get("/api/v1/stats/backlog", Some(&clerk))
        .await
        .assert_problem(403, "forbidden");
    app.get("/api/v1/stats/backlog?group_by=color", Some(&national))
        .await
        .assert_problem(422, "validation_failed");

    let csv = app
        .send(
            app.client
                .get(app.url("/api/v1/stats/backlog"))
                .bearer_auth(&national)
                .header("accept", "text/csv"),
        )
        .await;
    assert!(csv.text.starts_with("group,name,open"));
    assert_eq!(
        csv.text.lines().count(),
        1 + 3 + 1,
        "header, 3 groups, total"
    );
}

#[tokio::test]
async fn the_overloaded_commune_ranks_first_and_rebalancing_relieves_it() {
    let app = spawn_app().await;
    let now = Utc::now();
    let sup = app.token_for("sup.hn", "supervisor", None, Some(HN)).await;
    let mut n = 0;
    // Ba Đình: 40 unclaimed birth registrations due within six working days, 2 decided in
    // the week: it cannot keep up.
    let cal = app.state.calendars.current().default_calendar();
    for i in 0..40 {
        n += 1;
        let due = cal.add_working_secs(now, 3 * 3600 * (1 + i % 16)).unwrap();
        insert(
            &app,
            n,
            &Fx {
                procedure: BIRTH,
                status: "received",
                assigned: false,
                received: Some(now - Duration::hours(2)),
                due: Some(due),
                ..Default::default()
            },
        )
        .await;
    }
    for _ in 0..2 {
        n += 1;
        insert(
            &app,
            n,
            &Fx {
                status: "returned",
                received: Some(now - Duration::days(3)),
                due: Some(now),
                decided: Some(now - Duration::days(1)),
                closed: Some(now - Duration::days(1)),
                processing_hours: Some(8),
                ..Default::default()
            },
        )
        .await;
    }
    // Ngọc Hà: 2 open, 30 decided in the week: spare capacity.
    for _ in 0..2 {
        n += 1;
        insert(
            &app,
            n,
            &Fx {
                unit: NGOC_HA_PC,
                received: Some(now - Duration::hours(2)),
                due: Some(now + Duration::days(5)),
                ..Default::default()
            },
        )
        .await;
    }
    for _ in 0..30 {
        n += 1;
        insert(
            &app,
            n,
            &Fx {
                unit: NGOC_HA_PC,
                status: "returned",
                received: Some(now - Duration::days(4)),
                due: Some(now),
                decided: Some(now - Duration::days(2)),
                closed: Some(now - Duration::days(2)),
                processing_hours: Some(8),
                ..Default::default()
            },
        )
        .await;
    }
    let r = app
        .get("/api/v1/stats/bottlenecks?window_days=7", Some(&sup))
        .await
        .assert_status(200);
    let units = r["units"].as_array().unwrap();
    assert_eq!(units[0]["unit"], BA_DINH_PC, "{r}");
    let top = &units[0];
    assert_eq!(top["open"], 40);
    assert!(top["projected_breaches"].as_i64().unwrap() > 20, "{top}");
    assert!(top["why"].as_str().unwrap().contains("40"));
    let ngoc_ha = units.iter().find(|u| u["unit"] == NGOC_HA_PC).unwrap();
    assert_eq!(ngoc_ha["projected_breaches"], 0);
    assert!(ngoc_ha["score"].as_f64().unwrap() < top["score"].as_f64().unwrap());

    let r = app
        .get("/api/v1/stats/rebalancing", Some(&sup))
        .await
        .assert_status(200);
    // Lawful proposals only (Decree 118/2025/NĐ-CP: receipt and return are
    // boundary-independent, competence is not): officers lent by Ngọc Hà, which has capacity
    // to spare, and Ba Đình's boundary-independent dossiers received and returned at Ngọc
    // Hà's centre; none hands Ba Đình's decisions to another commune.
    let proposals = r["proposals"].as_array().unwrap();
    assert!(r.get("moves").is_none());
    let lend = proposals
        .iter()
        .find(|p| p["kind"] == "lend_staff")
        .unwrap_or_else(|| panic!("{r}"));
    assert_eq!(
        (lend["unit"].as_str(), lend["partner_unit"].as_str()),
        (Some(BA_DINH_PC), Some(NGOC_HA_PC))
    );
    assert!(lend["breaches_after"].as_i64().unwrap() < lend["breaches_before"].as_i64().unwrap());
    assert!(lend["extra_per_day"].as_f64().unwrap() > 0.0);
    assert!(lend["legal_basis"]
        .as_str()
        .unwrap()
        .contains("Luật Cán bộ, công chức"));
    let points = proposals
        .iter()
        .find(|p| p["kind"] == "reception_points")
        .unwrap_or_else(|| panic!("{r}"));
    assert_eq!(points["unit"], BA_DINH_PC);
    assert_eq!(points["partner_unit"], NGOC_HA_CENTRE);
    assert_eq!(points["dossiers"], 40);
    assert_eq!(points["procedures"], json!([BIRTH]));
    assert_eq!(
        points["breaches_after"], points["breaches_before"],
        "handling stays"
    );
    assert!(points["legal_basis"].as_str().unwrap().contains("118/2025"));
    for p in proposals {
        assert!(
            p["legal_basis"].as_str().is_some_and(|b| !b.is_empty()),
            "{p}"
        );
        assert_ne!(
            p["kind"], "delegated_competence",
            "communes cannot delegate to each other"
        );
    }

    // Scope.
    let other = app
        .token_for("sup.hcm", "supervisor", None, Some("79"))
        .await;
    app.get("/api/v1/stats/bottlenecks?province=01", Some(&other))
        .await
        .assert_problem(403, "forbidden");
    let head = app
        .token_for("head", "unit_head", Some(BA_DINH_PC), None)
        .await;
    app.get("/api/v1/stats/rebalancing", Some(&head))
        .await
        .assert_problem(403, "forbidden");
    let national = app.token_for("nat", "supervisor", None, None).await;
    app.get("/api/v1/stats/rebalancing", Some(&national))
        .await
        .assert_problem(422, "validation_failed");
}

#[tokio::test]
async fn synthetic_histories_are_consistent_and_show_the_overload() {
    let app = spawn_app().await;
    let options = motcua::services::synthetic::Options {
        cases: 1500,
        days: 30,
        seed: 7,
        overloaded: 3,
        force_overloaded: vec![BA_DINH_PC.to_string()],
        now: Utc::now(),
        open: None,
    };
    let mut quiet = motcua::progress::Quiet;
    let r = motcua::services::synthetic::generate(&app.state.dossiers(), &options, &mut quiet)
        .await
        .unwrap();
    assert_eq!(r.cases, 1500);
    assert!(r.open > 0 && r.events > 1500 * 3, "{r:?}");
    assert!(r.overloaded.contains(&BA_DINH_PC.to_string()));
    // A second run continues the numbering.
    let r2 = motcua::services::synthetic::generate(
        &app.state.dossiers(),
        &motcua::services::synthetic::Options { seed: 8, ..options },
        &mut quiet,
    )
    .await
    .unwrap();
    assert_eq!(r2.cases, 1500);

    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        entity::cases::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        3000
    );
    let rows = entity::cases::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap();
    for c in &rows {
        let status = motcua::domain::lifecycle::Status::parse(&c.status).expect("a known status");
        assert_eq!(
            c.national_status as u8,
            status.national(c.received_at.is_some())
        );
        if let (Some(received), Some(due)) = (c.received_at, c.due_at) {
            assert!(due > received, "{}", c.code);
        }
        assert!(
            motcua::domain::dossier::DossierCode::parse(&c.code).is_ok(),
            "{}",
            c.code
        );
    }
    // The deliberately overloaded communes of Hà Nội lead its ranking: the forced one,
    // and any of the randomly drawn ones that landed in Hà Nội too (which of them is
    // first in a given week depends on the dates drawn, so only the set is fixed).
    let overloaded_hn: std::collections::BTreeSet<&str> = r
        .overloaded
        .iter()
        .chain(&r2.overloaded)
        .map(String::as_str)
        .filter(|u| u.starts_with("01."))
        .collect();
    let sup = app.token_for("sup.hn", "supervisor", None, Some(HN)).await;
    let b = app
        .get("/api/v1/stats/bottlenecks", Some(&sup))
        .await
        .assert_status(200);
    let leaders: Vec<&str> = b["units"]
        .as_array()
        .unwrap()
        .iter()
        .take(overloaded_hn.len())
        .map(|u| u["unit"].as_str().unwrap())
        .collect();
    assert!(leaders.contains(&BA_DINH_PC), "{leaders:?}");
    assert!(
        overloaded_hn.contains(leaders[0]),
        "{leaders:?} led by a unit not overloaded ({overloaded_hn:?})"
    );
    let backlog = app
        .get("/api/v1/stats/backlog?group_by=procedure", Some(&sup))
        .await
        .assert_status(200);
    let sum: i64 = backlog["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["open"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, backlog["totals"]["open"].as_i64().unwrap());
    // Its clerk has a queue to work.
    let clerk = app
        .token_for("clerk", "clerk", Some(BA_DINH_PC), None)
        .await;
    let q = app
        .get(&format!("/api/v1/units/{BA_DINH_PC}/queue"), Some(&clerk))
        .await
        .assert_status(200);
    assert!(q["total"].as_i64().unwrap() > 5, "{}", q["total"]);
}

/// An empty database, an empty window, a scope with nothing in it: every statistics
/// endpoint answers zeros, never an error (an empty `SUM` is NULL in SQL).
#[tokio::test]
async fn every_statistic_of_nothing_is_zero() {
    let app = spawn_app().await;
    let national = app.token_for("sup.vn", "supervisor", None, None).await;
    let province = app.token_for("sup.hn", "supervisor", None, Some(HN)).await;
    let windows = [
        "from=2025-07-01T00:00:00%2B07:00&to=2025-08-01T00:00:00%2B07:00",
        "from=2030-01-01T00:00:00%2B07:00&to=2030-01-02T00:00:00%2B07:00",
    ];
    for token in [&national, &province] {
        for w in windows {
            for scope in ["", "&province=01", "&unit=01.00004.UBND"] {
                let r = app
                    .get(&format!("/api/v1/stats/indicators?{w}{scope}"), Some(token))
                    .await;
                let body = r.assert_status(200);
                assert_eq!(body["counts"]["received"], 0, "{w}{scope}: {body}");
            }
        }
        for path in [
            "/api/v1/stats/backlog",
            "/api/v1/stats/backlog?group_by=unit",
            "/api/v1/stats/backlog?province=01&group_by=procedure",
            "/api/v1/stats/bottlenecks",
            "/api/v1/stats/bottlenecks?province=01&window_days=1",
            "/api/v1/stats/rebalancing?province=01",
            "/api/v1/stats/rebalancing?province=01&window_days=90",
        ] {
            let r = app.get(path, Some(token)).await;
            assert_eq!(r.status.as_u16(), 200, "{path}: {}", r.text);
        }
    }
}

/// Decision 766/QĐ-TTg's scorecard, hand-computed (docs/INDICATORS.md, "Scorecard"): five
/// groups, 100 points; rates scored linearly or fully at their target.
#[tokio::test]
async fn the_decision_766_scorecard_matches_a_hand_computed_fixture() {
    let app = spawn_app().await;
    let sup = app.token_for("sup", "supervisor", None, Some(HN)).await;
    let d = |m, day, h| Some(vn(m, day, h));
    let fixtures = [
        // A: early (decided two days ahead), online, electronic result.
        Fx {
            channel: "online",
            status: "returned",
            received: d(3, 2, 8),
            due: d(3, 5, 17),
            decided: d(3, 3, 10),
            closed: d(3, 3, 10),
            delivery: Some("electronic"),
            ..Default::default()
        },
        // B: on time (decided the morning of the deadline).
        Fx {
            status: "returned",
            received: d(3, 2, 8),
            due: d(3, 5, 17),
            decided: d(3, 5, 9),
            closed: d(3, 5, 9),
            ..Default::default()
        },
        // C: late, online.
        Fx {
            channel: "online",
            status: "returned",
            received: d(3, 2, 8),
            due: d(3, 5, 17),
            decided: d(3, 6, 9),
            closed: d(3, 6, 9),
            ..Default::default()
        },
        // D: open, not yet due, filed online and paid online.
        Fx {
            procedure: "2.000635",
            channel: "online",
            received: d(3, 10, 8),
            due: d(4, 20, 17),
            paid: Some((vn(3, 10, 8), true)),
            ..Default::default()
        },
        // E: open and past its deadline, paid at the counter.
        Fx {
            procedure: "2.000635",
            received: d(3, 10, 8),
            due: d(3, 12, 17),
            paid: Some((vn(3, 10, 9), false)),
            ..Default::default()
        },
    ];
    let mut ids = Vec::new();
    for (i, fx) in fixtures.iter().enumerate() {
        let code = insert(&app, i + 1, fx).await;
        ids.push(app.case_row(&code).await.id);
    }
    // Ratings 5, 5, 4, 2 given in March: 3 satisfied of 4.
    for (id, rating) in ids.iter().zip([5i16, 5, 4, 2]) {
        entity::case_feedback::ActiveModel {
            case_id: Set(*id),
            account_id: Set(None),
            unit: Set(BA_DINH_PC.into()),
            province_code: Set(HN.into()),
            rating: Set(rating),
            comment: Set(None),
            created_at: Set(vn(3, 20, 10)),
        }
        .insert(&app.state.db)
        .await
        .unwrap();
    }
    // Disclosure 1.1, entered: Hà Nội 0.9 from January (a May figure does not apply to
    // March), Hồ Chí Minh City 0.5.
    let sup_hcm = app
        .token_for("sup.hcm", "supervisor", None, Some("79"))
        .await;
    let entry = |p: &str, v: f64, start: &str| json!({"province": p, "indicator": "procedures_published_on_time", "period_start": start, "value": v, "note": "Báo cáo quý"});
    let put = |token: String, body: serde_json::Value| {
        let app = &app;
        async move {
            app.send(
                app.client
                    .put(app.url("/api/v1/stats/scorecard/entries"))
                    .bearer_auth(token)
                    .json(&body),
            )
            .await
        }
    };
    assert_eq!(
        put(sup.clone(), entry(HN, 0.9, "2026-01-01"))
            .await
            .status
            .as_u16(),
        204
    );
    assert_eq!(
        put(sup.clone(), entry(HN, 0.1, "2026-05-01"))
            .await
            .status
            .as_u16(),
        204
    );
    assert_eq!(
        put(sup_hcm.clone(), entry("79", 0.5, "2026-01-01"))
            .await
            .status
            .as_u16(),
        204
    );
    // Bad entries change nothing.
    put(sup_hcm.clone(), entry(HN, 0.2, "2026-01-01"))
        .await
        .assert_problem(403, "forbidden");
    let citizen = app.token_for("citizen", "citizen", None, None).await;
    put(citizen.clone(), entry(HN, 0.2, "2026-01-01"))
        .await
        .assert_problem(403, "forbidden");
    for (body, code) in [
        (entry(HN, 1.5, "2026-01-01"), "value_out_of_range"),
        (entry(HN, -0.1, "2026-01-01"), "value_out_of_range"),
        (
            json!({"province": HN, "indicator": "on_time", "period_start": "2026-01-01", "value": 0.5}),
            "computed_indicator",
        ),
        (
            json!({"province": HN, "indicator": "nope", "period_start": "2026-01-01", "value": 0.5}),
            "unknown_indicator",
        ),
    ] {
        let p = put(sup.clone(), body)
            .await
            .assert_problem(422, "validation_failed");
        assert_eq!(p["errors"][0]["code"], code, "{p}");
    }

    let url = "/api/v1/stats/scorecard?from=2026-03-01&to=2026-03-31";
    let s = app.get(url, Some(&sup)).await.assert_status(200);
    assert_eq!(s["province"], HN);
    assert_eq!(s["max_points"], 100.0);
    let groups = s["groups"].as_array().unwrap();
    let keys: Vec<&str> = groups.iter().map(|g| g["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "disclosure",
            "progress",
            "online_service",
            "digitisation",
            "satisfaction"
        ]
    );
    let max: Vec<f64> = groups
        .iter()
        .map(|g| g["max_points"].as_f64().unwrap())
        .collect();
    assert_eq!(max, [18.0, 20.0, 22.0, 22.0, 18.0]);
    let ind = |code: &str| {
        groups
            .iter()
            .flat_map(|g| g["indicators"].as_array().unwrap().iter())
            .find(|i| i["code"] == code)
            .unwrap_or_else(|| panic!("{code} in {s}"))
            .clone()
    };
    // 2.1: A, B and D of A–E are early or on time: 3 / 5 × 20 = 12.
    let on_time = ind("on_time");
    assert_eq!(on_time["key"], "2.1");
    assert_eq!(
        (
            on_time["numerator"].as_i64(),
            on_time["denominator"].as_i64()
        ),
        (Some(3), Some(5))
    );
    assert_eq!(on_time["value"], 0.6);
    assert_eq!(on_time["points"], 12.0);
    assert_eq!(
        on_time["split"],
        json!({"early": 1, "on_time": 2, "late": 2})
    );
    // 3.3: only A filed online with an electronic result, of 5 received: 0.2, full at 0.5:
    // 0.2 / 0.5 × 6 = 2.4.
    let online = ind("online_dossiers");
    assert_eq!(online["value"], 0.2);
    assert_eq!(online["full_at"], 0.5);
    assert_eq!(online["points"], 2.4);
    // 3.6: D paid online, E at the counter: 1 / 2 × 6 = 3.
    assert_eq!(ind("online_payment")["value"], 0.5);
    assert_eq!(ind("online_payment")["points"], 3.0);
    // 3.1, 3.2, 3.4, 3.5 count the catalog's procedures.
    let catalog = app.state.catalog();
    let specs = catalog.procedures_in_force(Utc::now());
    let offered = specs
        .iter()
        .filter(|p| p.online_level != motcua::domain::procedure::OnlineLevel::None)
        .count() as f64;
    let with_fee = specs.iter().filter(|p| p.fee_vnd > 0).count() as f64;
    let fee_offered = specs
        .iter()
        .filter(|p| p.fee_vnd > 0 && p.online_level != motcua::domain::procedure::OnlineLevel::None)
        .count() as f64;
    let round2 = |x: f64| (x * 100.0).round() / 100.0;
    let thresholded = |r: f64, max: f64| round2((r / 0.8).min(1.0) * max);
    assert_eq!(
        ind("procedures_online")["points"],
        thresholded(offered / specs.len() as f64, 2.0)
    );
    // Two online services had online dossiers (1.004873: A, C; 2.000635: D).
    assert_eq!(ind("online_services_used")["numerator"], 2);
    assert_eq!(
        ind("online_services_used")["points"],
        round2(2.0 / offered * 4.0)
    );
    assert_eq!(
        ind("procedures_with_online_payment")["points"],
        thresholded(fee_offered / with_fee, 2.0)
    );
    assert_eq!(ind("procedures_paid_online")["numerator"], 1);
    assert_eq!(
        ind("procedures_paid_online")["points"],
        thresholded(1.0 / fee_offered, 2.0)
    );
    // Digitisation: no files in the fixture, nothing reused.
    assert_eq!(ind("electronic_results")["value"], 0.0);
    assert_eq!(ind("digitised_reuse")["value"], serde_json::Value::Null);
    // 5.4: 3 of 4 satisfied, full at 0.9: 0.75 / 0.9 × 6 = 5.
    assert_eq!(ind("applicants_satisfied")["points"], 5.0);
    // 1.1 entered for Hà Nội: 0.9 × 6 = 5.4; nothing entered for 1.2.
    let published = ind("procedures_published_on_time");
    assert_eq!(published["source"], "entered");
    assert_eq!(published["points"], 5.4);
    assert_eq!(
        ind("disclosure_updated_on_time")["value"],
        serde_json::Value::Null
    );
    // Each group adds its indicators, the whole adds the groups.
    let mut total = 0.0;
    for g in groups {
        let sum: f64 = g["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["points"].as_f64().unwrap())
            .sum();
        assert_eq!(g["points"].as_f64().unwrap(), round2(sum), "{}", g["key"]);
        total += g["points"].as_f64().unwrap();
    }
    assert_eq!(s["points"].as_f64().unwrap(), round2(total));
    assert_eq!(groups[1]["points"], 12.0);

    // A national supervisor sees the provinces' mean for entered values: (0.9 + 0.5) / 2.
    let national = app.token_for("sup.vn", "supervisor", None, None).await;
    let n = app.get(url, Some(&national)).await.assert_status(200);
    let published = n["groups"][0]["indicators"][0].clone();
    assert_eq!(published["value"], 0.7);
    assert_eq!(published["entered_provinces"], 2);
    // Instants work too; CSV on request; outsiders are refused.
    let r = app
        .get(
            "/api/v1/stats/scorecard?from=2026-03-01T00:00:00%2B07:00&to=2026-04-01T00:00:00%2B07:00",
            Some(&sup),
        )
        .await
        .assert_status(200);
    assert_eq!(r["points"], s["points"]);
    let csv = app
        .send(
            app.client
                .get(app.url(url))
                .bearer_auth(&sup)
                .header("accept", "text/csv"),
        )
        .await;
    assert!(csv.text.contains("progress,2.1,on_time,"), "{}", csv.text);
    app.get(url, Some(&citizen))
        .await
        .assert_problem(403, "forbidden");
    app.get(&format!("{url}&province=01"), Some(&sup_hcm))
        .await
        .assert_problem(403, "forbidden");
    app.get(
        "/api/v1/stats/scorecard?from=2026-03-31&to=2026-03-01",
        Some(&sup),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.get("/api/v1/stats/scorecard?from=yesterday", Some(&sup))
        .await
        .assert_problem(422, "validation_failed");
    let p = app
        .get("/api/v1/stats/scorecard?from=1900-01-01", Some(&sup))
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["code"], "out_of_range");
}

#[tokio::test]
async fn synthetic_histories_leave_open_as_many_as_asked() {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let app = spawn_app().await;
    let options = motcua::services::synthetic::Options {
        cases: 600,
        days: 365,
        seed: 11,
        overloaded: 0,
        force_overloaded: Vec::new(),
        now: Utc::now(),
        open: Some(250),
    };
    let r = motcua::services::synthetic::generate(
        &app.state.dossiers(),
        &options,
        &mut motcua::progress::Quiet,
    )
    .await
    .unwrap();
    assert_eq!((r.cases, r.open), (600, 250), "{r:?}");
    let open = entity::cases::Entity::find()
        .filter(entity::cases::Column::ClosedAt.is_null())
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(open, 250);
    let total = entity::cases::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(total, 600);
    // The open ones were submitted within the window; the closed ones spread over the year.
    let oldest_open = entity::cases::Entity::find()
        .filter(entity::cases::Column::ClosedAt.is_null())
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.submitted_at)
        .min()
        .unwrap();
    let window = chrono::Duration::days(motcua::services::synthetic::OPEN_WINDOW_DAYS + 1);
    assert!(Utc::now() - oldest_open < window, "{oldest_open}");
}

/// The backlog by unit and province is read from a rollup that triggers keep in the same
/// transaction as each change (migration 20). Through a working day's changes (walk-in and
/// online intakes at once, reception, a whole handling, a supplement request, the sweeper
/// marking them at risk then overdue) it must equal a recount of the open dossiers, and the
/// backlog by unit (rollup) must total what the backlog by procedure (the dossiers
/// themselves) totals. `motcua stats check` finds a wrong count; `motcua stats rebuild`
/// repairs it.
#[tokio::test]
async fn the_backlog_rollup_equals_a_recount_through_a_day_of_changes() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let mut bodies = Vec::new();
    for _ in 0..12 {
        bodies.push(
            app.with_documents(&cast.reception, intake_body(MARITAL, BA_DINH))
                .await,
        );
    }
    let walk_ins = bodies.iter().map(|b| app.file(&cast.reception, b.clone()));
    let mut codes: Vec<String> = futures::future::join_all(walk_ins)
        .await
        .into_iter()
        .map(|r| r.assert_status(201)["code"].as_str().unwrap().to_string())
        .collect();
    let mut online = Vec::new();
    for _ in 0..4 {
        let body = app
            .with_documents(&cast.citizen, intake_body(MARITAL, BA_DINH))
            .await;
        online.push(
            app.submit_online(&cast.citizen, body).await["code"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let supervisor = app.token_for("nat", "supervisor", None, None).await;
    let check = |when: &'static str| {
        let app = &app;
        let supervisor = supervisor.clone();
        async move {
            let differed = motcua::services::stats::rollup_differences(&app.state.db)
                .await
                .unwrap();
            assert!(differed.is_empty(), "{when}: {differed:?}");
            let by_unit = app
                .get("/api/v1/stats/backlog?group_by=unit", Some(&supervisor))
                .await
                .assert_status(200);
            let by_procedure = app
                .get(
                    "/api/v1/stats/backlog?group_by=procedure",
                    Some(&supervisor),
                )
                .await
                .assert_status(200);
            assert_eq!(by_unit["totals"], by_procedure["totals"], "{when}");
            by_unit
        }
    };
    let b = check("after intake").await;
    assert_eq!(b["totals"]["open"], 16);
    assert_eq!(b["totals"]["received_today"], 12);

    for code in &online[..2] {
        app.act(&cast.reception, code, "receive", json!({}))
            .await
            .assert_status(200);
    }
    codes.extend(online[..2].iter().cloned());
    let decided = codes.pop().unwrap();
    for (who, action) in [
        (&cast.clerk, "claim"),
        (&cast.clerk, "start_processing"),
        (&cast.clerk, "send_for_approval"),
        (&cast.head, "approve"),
    ] {
        app.act(who, &decided, action, json!({}))
            .await
            .assert_status(200);
    }
    app.act(
        &cast.clerk,
        &codes[0],
        "request_supplement",
        json!({"reason": "Thiếu tờ khai có chữ ký", "components": ["to_khai"]}),
    )
    .await
    .assert_status(200);
    let b = check("after handling").await;
    assert_eq!(b["totals"]["awaiting_supplement"], 1);
    app.act(
        &cast.reception,
        &decided,
        "return_result",
        json!({"result_delivery": "in_person"}),
    )
    .await
    .assert_status(200);
    let b = check("after a return").await;
    assert_eq!(b["totals"]["open"], 15);

    let far = Utc::now() + Duration::days(60);
    motcua::services::sla::sweep(&app.state.db, &app.state.data_keys, far, 5)
        .await
        .unwrap();
    let b = check("after the sweep").await;
    assert_eq!(b["totals"]["overdue"], 12, "{b}");
    // Folding the deltas (PostgreSQL's job) changes nothing a reader sees.
    motcua::services::stats::fold_rollup(&app.state.db)
        .await
        .unwrap();
    assert_eq!(check("after folding").await["groups"], b["groups"]);

    // A count gone wrong is found by the check and repaired by the rebuild.
    use sea_orm::ConnectionTrait;
    app.state
        .db
        .execute_unprepared("UPDATE backlog_counts SET n = n + 3 WHERE sla_state = 'overdue'")
        .await
        .unwrap();
    let url = app.database_url.clone();
    let env = [("MOTCUA__SECURITY__DATA_KEY", TEST_DATA_KEY)];
    let (ok, out) = run_motcua(&["stats", "check", "--database-url", &url], &env);
    assert!(!ok && out.contains("differs from a recount"), "{out}");
    let (ok, out) = run_motcua(&["stats", "rebuild", "--database-url", &url], &env);
    assert!(
        ok && out.contains("were wrong)") && !out.contains("(0 were wrong)"),
        "{out}"
    );
    let (ok, out) = run_motcua(&["stats", "check", "--database-url", &url], &env);
    assert!(ok && out.contains("equals a recount"), "{out}");
    assert_eq!(check("after the rebuild").await["groups"], b["groups"]);
}

/// The country's bottleneck report is computed in advance (`stats.bottlenecks_refresh_secs`)
/// and answered from its latest result while that is recent; a province's report, another
/// window, or a result too old are computed on the request. The figures served are those a
/// computation on the request gives for the same instant.
#[tokio::test]
async fn the_country_bottleneck_report_is_served_from_its_computation_in_advance() {
    use chrono::DurationRound;
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app_with(
        TestConfig::default().with("MOTCUA__STATS__BOTTLENECKS_REFRESH_SECS", "300"),
    )
    .await;
    // The job computes the (empty) report when the app starts; wait for it, so that it
    // cannot land after the one below.
    let computed = || async {
        app.state
            .db
            .query_one_raw(Statement::from_string(
                app.state.db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM report_snapshots WHERE computed_at IS NOT NULL",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap()
    };
    for _ in 0..100 {
        if computed().await > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(computed().await, 1, "the job computed the report at start");

    let options = motcua::services::synthetic::Options {
        cases: 400,
        days: 20,
        seed: 11,
        overloaded: 2,
        force_overloaded: vec![BA_DINH_PC.to_string()],
        now: Utc::now(),
        open: None,
    };
    motcua::services::synthetic::generate(
        &app.state.dossiers(),
        &options,
        &mut motcua::progress::Quiet,
    )
    .await
    .unwrap();

    // Not due yet: the job's result holds the lease for the interval.
    let deps = app.state.stats();
    let now = Utc::now();
    assert_eq!(
        motcua::services::stats::refresh_country_bottlenecks(&deps, now)
            .await
            .unwrap(),
        None
    );
    // Due an interval later: computed as of then.
    let at = (now + Duration::seconds(301))
        .duration_trunc(Duration::seconds(1))
        .unwrap();
    let units = motcua::services::stats::refresh_country_bottlenecks(&deps, at)
        .await
        .unwrap()
        .expect("due");
    assert!(units > 0);

    let national = app.token_for("nat", "supervisor", None, None).await;
    let served = app
        .get("/api/v1/stats/bottlenecks", Some(&national))
        .await
        .assert_status(200);
    let as_of = |v: &serde_json::Value| {
        DateTime::parse_from_rfc3339(v["as_of"].as_str().unwrap())
            .unwrap()
            .to_utc()
    };
    assert_eq!(as_of(&served), at, "served from the computation in advance");
    assert_eq!(served["units"].as_array().unwrap().len(), units);
    // The same figures as computed on a request for that instant.
    let mut live = app.state.stats();
    live.bottlenecks_refresh_secs = 0;
    let on_request = motcua::services::stats::bottlenecks(
        &live,
        &Default::default(),
        7,
        at,
        motcua::domain::lang::Lang::Vi,
    )
    .await
    .unwrap();
    assert_eq!(
        served["units"],
        serde_json::to_value(&on_request.units).unwrap()
    );
    assert!(served["units"][0]["why"]
        .as_str()
        .unwrap()
        .contains("hồ sơ"));
    // In English, from the same result.
    let english = app
        .send(
            app.client
                .get(app.url("/api/v1/stats/bottlenecks"))
                .header("accept-language", "en")
                .bearer_auth(&national),
        )
        .await
        .assert_status(200);
    assert_eq!(as_of(&english), at);
    assert!(english["units"][0]["why"]
        .as_str()
        .unwrap()
        .contains(" open;"));

    // Computed on the request: a province, another window, a result too old.
    for path in [
        "/api/v1/stats/bottlenecks?province=01",
        "/api/v1/stats/bottlenecks?window_days=6",
    ] {
        let r = app.get(path, Some(&national)).await.assert_status(200);
        assert_ne!(as_of(&r), at, "{path}");
    }
    let later = at + Duration::seconds(601);
    let old = motcua::services::stats::bottlenecks(
        &deps,
        &Default::default(),
        7,
        later,
        motcua::domain::lang::Lang::Vi,
    )
    .await
    .unwrap();
    assert_eq!(
        old.as_of.to_utc(),
        later,
        "a result older than twice the interval is not served"
    );
}
