//! Routing throughput: address resolution (`Gazetteer::resolve`) followed by the routing
//! decision (`domain::routing::route`), from a 2025 ward code, a legacy ward code and free text.
//! No database: the unit directory is the standard set of units built in memory.
//!
//! Targets (one core): ≥ 1,000,000 code-based routing decisions/s, ≥ 100,000 free-text ones.
//! Run: `cargo bench --bench routing` (or `-- --quick` for a shorter run).

use std::hint::black_box;

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use motcua::domain::geography::{AddressInput, Gazetteer};
use motcua::domain::procedure::{parse_catalog, ProcedureSpec, CATALOG_TOML};
use motcua::domain::routing::{route, OverrideRule, Request, UnitDirectory, UnitInfo};
use motcua::domain::unit::DEFAULT_WORKING_HOURS;
use motcua::services::reference::{shipped_geography, standard_units};

struct Fixture {
    gazetteer: Gazetteer,
    directory: UnitDirectory,
    procedures: Vec<ProcedureSpec>,
}

fn fixture() -> Fixture {
    let data = shipped_geography().expect("shipped geography");
    let (gazetteer, _) = Gazetteer::from_data(&data);
    let directory = UnitDirectory::build(standard_units(&data).into_iter().map(|u| UnitInfo {
        code: u.code.to_string(),
        name: u.name,
        name_en: u.name_en,
        kind: u.kind,
        province_code: u.province_code,
        ward_code: u.ward_code,
        receives_dossiers: u.kind.receives_dossiers(),
        active: true,
        working_hours: DEFAULT_WORKING_HOURS.to_string(),
    }));
    let procedures = parse_catalog(CATALOG_TOML).expect("catalog");
    Fixture {
        gazetteer,
        directory,
        procedures,
    }
}

/// Strip Vietnamese marks the simple way (for realistic unaccented input).
fn strip(s: &str) -> String {
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

/// The same sampling as `benches/geography.rs`, so the two sets of figures compare.
fn inputs(g: &Gazetteer) -> (Vec<AddressInput>, Vec<AddressInput>, Vec<AddressInput>) {
    let ward_codes = g
        .wards()
        .iter()
        .step_by(7)
        .map(|w| AddressInput::WardCode(w.code.to_string()))
        .collect();
    let legacy_codes = g
        .legacy_wards()
        .iter()
        .step_by(7)
        .map(|l| AddressInput::LegacyWardCode(l.code.to_string()))
        .collect();
    let mut text = Vec::new();
    for (i, l) in g.legacy_wards().iter().step_by(29).enumerate() {
        let d = g.legacy_district(l.district_code).unwrap();
        let p = g.legacy_province(l.province_code).unwrap();
        let s = format!("{}, {}, {}", l.name, d.name, p.name);
        text.push(AddressInput::Text(if i % 2 == 0 {
            s
        } else {
            strip(&s).to_lowercase()
        }));
    }
    for (i, w) in g.wards().iter().step_by(11).enumerate() {
        let p = g.province(w.province_code).unwrap();
        let s = format!("{}, {}", w.name, p.name);
        text.push(AddressInput::Text(if i % 2 == 0 { s } else { strip(&s) }));
    }
    (ward_codes, legacy_codes, text)
}

fn bench(c: &mut Criterion) {
    let f = fixture();
    let (ward_codes, legacy_codes, text) = inputs(&f.gazetteer);
    // Two overrides in Hà Nội that never match the sampled procedure/unit pairs: the
    // decision still has to look at them, as it does in production.
    let at = Utc::now();
    let overrides = vec![OverrideRule {
        id: 1,
        province_code: "01".into(),
        procedure_code: Some("9.999999".into()),
        from_unit_code: None,
        to_unit_code: "01.STP".into(),
        priority: 1,
        valid_from: at - chrono::Duration::days(1),
        valid_until: None,
        reason: "bench".into(),
    }];
    for (name, set) in [
        ("route/ward_code", &ward_codes),
        ("route/legacy_ward_code", &legacy_codes),
        ("route/text", &text),
    ] {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(set.len() as u64));
        group.bench_function("batch", |b| {
            b.iter(|| {
                for (i, input) in set.iter().enumerate() {
                    let resolution = f.gazetteer.resolve(black_box(input)).unwrap();
                    let procedure = &f.procedures[i % f.procedures.len()];
                    let decision = route(
                        &f.directory,
                        &Request {
                            procedure,
                            resolution: &resolution,
                            received_at: None,
                            result_point: None,
                            boundary_independent: procedure.boundary_independent,
                            overrides: &overrides,
                            at,
                        },
                    );
                    black_box(decision);
                }
            })
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
