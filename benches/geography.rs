//! Address resolution throughput: 2025 code, legacy code, free text.
//!
//! Targets (one core): ≥ 1,000,000 code resolutions/s, ≥ 100,000 free-text resolutions/s.
//! Run: `cargo bench --bench geography`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use motcua::domain::geography::{AddressInput, Gazetteer, GazetteerData};

fn gazetteer() -> Gazetteer {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/vn-admin-2025");
    let data = GazetteerData::read_dir(dir).expect("read data/vn-admin-2025");
    Gazetteer::from_data(&data).0
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

fn inputs(g: &Gazetteer) -> (Vec<AddressInput>, Vec<AddressInput>, Vec<AddressInput>) {
    let ward_codes: Vec<AddressInput> = g
        .wards()
        .iter()
        .step_by(7)
        .map(|w| AddressInput::WardCode(w.code.to_string()))
        .collect();
    let legacy_codes: Vec<AddressInput> = g
        .legacy_wards()
        .iter()
        .step_by(7)
        .map(|l| AddressInput::LegacyWardCode(l.code.to_string()))
        .collect();
    // Free text: old addresses with and without marks, and 2025 "ward, province" addresses.
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
    let g = gazetteer();
    let (ward_codes, legacy_codes, text) = inputs(&g);
    for (name, set) in [
        ("resolve/ward_code", &ward_codes),
        ("resolve/legacy_ward_code", &legacy_codes),
        ("resolve/text", &text),
    ] {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(set.len() as u64));
        group.bench_function("batch", |b| {
            b.iter(|| {
                for input in set.iter() {
                    black_box(g.resolve(black_box(input)).unwrap());
                }
            })
        });
        group.finish();
    }
    c.bench_function("build/gazetteer", |b| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/vn-admin-2025");
        let data = GazetteerData::read_dir(dir).unwrap();
        b.iter_batched(
            || (),
            |_| black_box(Gazetteer::from_data(&data)),
            BatchSize::PerIteration,
        )
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
