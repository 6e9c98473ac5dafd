//! Deadline throughput of the working-time index.
//!
//! `cargo bench --bench calendar` (criterion prints time per batch of 1024
//! computations and the throughput in computations per second).

use std::hint::black_box;

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use motcua::domain::calendar::{load_dir, Holidays, TimeLimit, WorkCalendar, WorkingHours};

const BATCH: usize = 1024;

fn calendar() -> WorkCalendar {
    let anns = load_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/config/calendar"))
        .expect("config/calendar loads");
    let holidays = Holidays::build(2000..=2100, &anns).expect("holidays build");
    WorkCalendar::new(&holidays, WorkingHours::default(), 2000..=2100).expect("index builds")
}

/// Deterministic receipts spread over 2000–2099 (any time of day, weekends
/// included) with a mix of limits.
fn inputs() -> Vec<(DateTime<Utc>, TimeLimit)> {
    let mut s: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let start = DateTime::parse_from_rfc3339("2000-01-03T00:00:00+07:00")
        .unwrap()
        .timestamp();
    let span = 99 * 365 * 86_400u64;
    (0..BATCH)
        .map(|_| {
            let t = DateTime::from_timestamp(start + (next() % span) as i64, 0).unwrap();
            let limit = match next() % 4 {
                0 => TimeLimit::WorkingHours((next() % 40) as u32 + 1),
                1 => TimeLimit::SameDay,
                _ => TimeLimit::WorkingDays((next() % 20) as u32 + 1),
            };
            (t, limit)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let cal = calendar();
    let inputs = inputs();

    let mut g = c.benchmark_group("deadline");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("due_at", |b| {
        b.iter(|| {
            for &(t, limit) in &inputs {
                black_box(cal.due_at(black_box(t), limit).unwrap());
            }
        })
    });
    g.bench_function("working_secs_between", |b| {
        b.iter(|| {
            for w in inputs.windows(2) {
                black_box(cal.working_secs_between(black_box(w[0].0), black_box(w[1].0)));
            }
        })
    });
    g.bench_function("deadline_with_explanation", |b| {
        b.iter(|| {
            for &(t, limit) in &inputs {
                black_box(cal.deadline(black_box(t), limit).unwrap());
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("build");
    g.sample_size(10);
    g.bench_function("holidays_and_index_2000_2100", |b| {
        b.iter_batched(|| (), |_| black_box(calendar()), BatchSize::SmallInput)
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
