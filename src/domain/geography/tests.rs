//! Data-driven tests over the real CSV files (`data/vn-admin-2025/`).

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

use super::*;

const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/vn-admin-2025");

struct Fixture {
    data: GazetteerData,
    g: Gazetteer,
    quirks: Vec<DataQuirk>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let data = GazetteerData::read_dir(DATA_DIR).expect("read CSVs");
        let (g, quirks) = Gazetteer::from_data(&data);
        Fixture { data, g, quirks }
    })
}

fn g() -> &'static Gazetteer {
    &fixture().g
}

/// Drop Vietnamese marks, keep case and punctuation: "Phường Phúc Xá" → "Phuong Phuc Xa".
fn strip_marks(s: &str) -> String {
    s.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            c => c,
        })
        .collect()
}

fn text(s: &str) -> Resolution {
    g().resolve(&AddressInput::Text(s.to_string())).unwrap()
}

fn names(p: Option<&str>, d: Option<&str>, w: &str) -> Resolution {
    g().resolve(&AddressInput::Names {
        province: p.map(str::to_string),
        district: d.map(str::to_string),
        ward: w.to_string(),
    })
    .unwrap()
}

fn wc(s: &str) -> WardCode {
    WardCode::parse(s).unwrap()
}

fn lwc(s: &str) -> LegacyWardCode {
    LegacyWardCode::parse(s).unwrap()
}

fn codes(r: &Resolution) -> BTreeSet<WardCode> {
    r.candidates.iter().map(|c| c.ward.code).collect()
}

fn has(r: &Resolution, pred: impl Fn(&Explanation) -> bool) -> bool {
    r.explanation.iter().any(pred)
}

// ---- data and quirks ---------------------------------------------------------------------------

#[test]
fn table_sizes() {
    let f = fixture();
    assert_eq!(f.data.provinces.len(), 34);
    assert_eq!(f.data.wards.len(), 3_321);
    assert_eq!(f.data.legacy_provinces.len(), 63);
    assert_eq!(f.data.legacy_districts.len(), 696);
    assert_eq!(f.data.legacy_wards.len(), 10_051);
    assert_eq!(f.data.conversions.len(), 10_565);
    assert_eq!(g().provinces().len(), 34);
    assert_eq!(g().wards().len(), 3_321);
    assert_eq!(g().legacy_wards().len(), 10_051);
    let partly: BTreeSet<_> = f
        .data
        .conversions
        .iter()
        .filter(|r| r.partly_merged)
        .map(|r| r.old_ward_code)
        .collect();
    assert_eq!(
        partly.len(),
        573,
        "old wards flagged partly merged (domain.md §1)"
    );
}

#[test]
fn quirk_counts_match_the_data() {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for q in &fixture().quirks {
        *counts.entry(q.kind()).or_default() += 1;
    }
    let mut expected: HashMap<&str, usize> = HashMap::new();
    // 10 distinct old codes (11 rows) absent from the legacy list.
    expected.insert("conversion_old_ward_not_in_legacy_list", 10);
    expected.insert("legacy_ward_without_conversion", 28);
    expected.insert("partly_merged_single_successor", 132);
    // District 380 (Thành phố Thanh Hóa): two "Xã Đông Khê".
    expected.insert("duplicate_legacy_ward_name", 1);
    // 27691 and 30781: the conversion rows name another old province than the legacy list.
    expected.insert("conversion_location_mismatch", 2);
    // Island districts: 5 legacy districts without wards, 5 special zones without predecessor.
    expected.insert("legacy_district_without_wards", 5);
    expected.insert("ward_without_predecessor", 5);
    assert_eq!(counts, expected);

    let rows: usize = fixture()
        .quirks
        .iter()
        .filter_map(|q| match q {
            DataQuirk::ConversionOldWardNotInLegacyList { rows, .. } => Some(*rows),
            _ => None,
        })
        .sum();
    assert_eq!(rows, 11);
    assert!(fixture().quirks.iter().any(|q| matches!(
        q,
        DataQuirk::DuplicateLegacyWardName { district, name, wards }
            if district.value() == 380 && name == "Xã Đông Khê" && wards.len() == 2
    )));
    for q in &fixture().quirks {
        assert!(!q.to_string().is_empty());
    }
}

#[test]
fn build_never_panics_on_inconsistent_rows() {
    let f = fixture();
    let mut wards = f.data.wards.clone();
    wards.push(wards[0].clone()); // duplicate code
    let mut bad = wards[1].clone();
    bad.code = wc("99999");
    bad.province_code = ProvinceCode::parse("99").unwrap(); // unknown province
    wards.push(bad);
    let mut conv = f.data.conversions.clone();
    conv.push(conv[0].clone()); // duplicate row
    let mut unknown = conv[0].clone();
    unknown.new_ward_code = wc("99998");
    conv.push(unknown);
    let mut lw = f.data.legacy_wards.clone();
    lw[0].division_type = "làng".to_string();
    let (g2, quirks) = Gazetteer::build(
        &f.data.provinces,
        &wards,
        &f.data.legacy_provinces,
        &f.data.legacy_districts,
        &lw,
        &conv,
    );
    let kinds: BTreeSet<&str> = quirks.iter().map(DataQuirk::kind).collect();
    for k in [
        "duplicate_code",
        "dangling_reference",
        "conversion_duplicate_row",
        "conversion_unknown_new_ward",
        "unknown_division_type",
    ] {
        assert!(kinds.contains(k), "{k}");
    }
    assert_eq!(g2.wards().len(), 3_321);
    // Empty input builds an empty gazetteer that resolves nothing.
    let (empty, q) = Gazetteer::build(&[], &[], &[], &[], &[], &[]);
    assert!(q.is_empty());
    assert_eq!(
        empty
            .resolve(&AddressInput::WardCode("4".into()))
            .unwrap()
            .status,
        Status::NotFound
    );
    assert_eq!(
        empty
            .resolve(&AddressInput::Text("Phúc Xá, Hà Nội".into()))
            .unwrap()
            .status,
        Status::NotFound
    );
}

#[test]
fn gazetteer_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Gazetteer>();
    assert_send_sync::<Resolution>();
    assert_send_sync::<DataQuirk>();
}

// ---- the whole conversion table ----------------------------------------------------------------

/// Expected outcome for a set of old wards that the input cannot tell apart.
fn expect_union(group: &[LegacyWardCode]) -> (Status, BTreeSet<WardCode>) {
    let mut union = BTreeSet::new();
    let mut certain = true;
    for &c in group {
        let s = g().successors(c);
        if s.is_empty() || s.len() > 1 || s.iter().any(|x| x.partly_merged) {
            certain = false;
        }
        union.extend(s.iter().map(|x| x.ward));
    }
    let status = if union.is_empty() {
        Status::NotFound
    } else if certain && union.len() == 1 {
        Status::Resolved
    } else {
        Status::Ambiguous
    };
    (status, union)
}

#[test]
fn every_old_ward_resolves_by_code_to_exactly_its_successors() {
    let f = fixture();
    let mut by_old: HashMap<LegacyWardCode, Vec<&ConversionRow>> = HashMap::new();
    for r in &f.data.conversions {
        by_old.entry(r.old_ward_code).or_default().push(r);
    }
    let mut absent = 0;
    for (&old, rows) in &by_old {
        let r = g()
            .resolve(&AddressInput::LegacyWardCode(old.to_string()))
            .unwrap();
        let want: BTreeSet<WardCode> = rows.iter().map(|r| r.new_ward_code).collect();
        assert_eq!(codes(&r), want, "old ward {old}");
        let split = rows.iter().any(|r| r.partly_merged);
        let expected = if want.len() == 1 && !split {
            Status::Resolved
        } else {
            Status::Ambiguous
        };
        assert_eq!(r.status, expected, "old ward {old}");
        assert_eq!(r.era, Some(Era::Legacy));
        if expected == Status::Resolved {
            assert_eq!(r.ward.as_ref().unwrap().code, rows[0].new_ward_code);
        } else {
            assert!(r.ward.is_none());
        }
        for c in &r.candidates {
            assert_eq!(c.via.len(), 1);
            assert_eq!(c.via[0].legacy.code, old);
        }
        if g().legacy_ward(old).is_none() {
            absent += 1;
            assert!(
                has(&r, |e| matches!(e, Explanation::LegacyCodeNotInList { .. })),
                "old ward {old} absent from the list must say so"
            );
            // Its district and province come from the conversion row.
            assert!(g().legacy_ward_district(old).is_some());
            assert!(g().legacy_ward_province(old).is_some());
        }
        // Unpadded and padded codes agree.
        let padded = g()
            .resolve(&AddressInput::LegacyWardCode(format!("{old}")))
            .unwrap();
        assert_eq!(padded, r);
    }
    assert_eq!(by_old.len(), 10_051 - 28 + 10);
    assert_eq!(absent, 10);
}

#[test]
fn old_wards_without_a_conversion_row_are_not_found_with_a_reason() {
    let mut n = 0;
    for lw in g().legacy_wards() {
        if !g().successors(lw.code).is_empty() {
            continue;
        }
        n += 1;
        let r = g().resolve_legacy_ward_code(lw.code);
        assert_eq!(r.status, Status::NotFound, "{}", lw.code);
        assert!(r.candidates.is_empty());
        assert!(matches!(
            r.explanation.as_slice(),
            [Explanation::NoConversionRow { old }] if old.code == lw.code
        ));
        let en = r.render(Lang::En)[0].clone();
        assert!(en.contains("conversion table has no row"), "{en}");
    }
    assert_eq!(n, 28);
}

#[test]
fn every_old_ward_resolves_by_its_names_in_every_form() {
    let g = g();
    // Groups of old wards that a given spelling cannot tell apart.
    let mut exact: HashMap<(LegacyDistrictCode, &str), Vec<LegacyWardCode>> = HashMap::new();
    let mut plain: HashMap<(LegacyDistrictCode, String), Vec<LegacyWardCode>> = HashMap::new();
    for lw in g.legacy_wards() {
        exact
            .entry((lw.district_code, &lw.name))
            .or_default()
            .push(lw.code);
        plain
            .entry((lw.district_code, normalize(&lw.name)))
            .or_default()
            .push(lw.code);
    }
    let mut checked = 0;
    let mut unions = 0;
    for lw in g.legacy_wards() {
        let d = g.legacy_district(lw.district_code).unwrap();
        let p = g.legacy_province(lw.province_code).unwrap();
        let (status, want) = expect_union(&exact[&(lw.district_code, &*lw.name)]);
        let forms = [
            names(Some(&p.name), Some(&d.name), &lw.name),
            text(&format!("{}, {}, {}", lw.name, d.name, p.name)),
        ];
        for r in &forms {
            assert_eq!(
                (r.status, codes(r)),
                (status, want.clone()),
                "{} {}",
                lw.code,
                lw.name
            );
            if status != Status::NotFound {
                assert_eq!(r.era, Some(Era::Legacy));
            }
        }
        let group = &plain[&(lw.district_code, normalize(&lw.name))];
        if group.len() > 1 {
            unions += 1;
        }
        let (status, want) = expect_union(group);
        let (pn, dn, wn) = (
            strip_marks(&p.name),
            strip_marks(&d.name),
            strip_marks(&lw.name),
        );
        let forms = [
            names(Some(&pn), Some(&dn), &wn),
            text(&format!("{wn}, {dn}, {pn}")),
            text(&format!(
                "{}, {}, {}",
                wn.to_lowercase(),
                dn.to_lowercase(),
                pn.to_lowercase()
            )),
        ];
        for r in &forms {
            assert_eq!(
                (r.status, codes(r)),
                (status, want.clone()),
                "{} {} without marks",
                lw.code,
                wn
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 10_051);
    // Names that only differ by their marks ("Sa Pa" / "Sa Pả") give the union without marks.
    assert!(unions > 0);
}

#[test]
fn duplicate_old_names_give_the_union_of_successors() {
    // District 380 has two "Xã Đông Khê": 16387 (no conversion row) and 16408 (→ 16378).
    let r = names(
        Some("Thanh Hóa"),
        Some("Thành phố Thanh Hóa"),
        "Xã Đông Khê",
    );
    assert_eq!(r.status, Status::Ambiguous);
    assert_eq!(codes(&r), BTreeSet::from([wc("16378")]));
    assert!(has(&r, |e| matches!(
        e,
        Explanation::DuplicateLegacyName { count: 2, .. }
    )));
    assert!(has(
        &r,
        |e| matches!(e, Explanation::NoConversionRow { old } if old.code == lwc("16387"))
    ));
    assert!(has(
        &r,
        |e| matches!(e, Explanation::LegacyConverted { old, .. } if old.code == lwc("16408"))
    ));
    // By code, each is what the table says.
    assert_eq!(
        g().resolve_legacy_ward_code(lwc("16408")).status,
        Status::Resolved
    );
    assert_eq!(
        g().resolve_legacy_ward_code(lwc("16387")).status,
        Status::NotFound
    );
}

// ---- the whole 2025 structure ------------------------------------------------------------------

#[test]
fn every_2025_ward_resolves_by_code_and_by_name() {
    let g = g();
    let mut plain: HashMap<(ProvinceCode, String), BTreeSet<WardCode>> = HashMap::new();
    for w in g.wards() {
        plain
            .entry((w.province_code, normalize(&w.name)))
            .or_default()
            .insert(w.code);
    }
    let mut n = 0;
    for w in g.wards() {
        let p = g.province(w.province_code).unwrap();
        let r = g
            .resolve(&AddressInput::WardCode(w.code.to_string()))
            .unwrap();
        assert_eq!(r.status, Status::Resolved);
        assert_eq!(r.era, Some(Era::Y2025));
        assert_eq!(r.ward.as_ref().unwrap().code, w.code);
        assert_eq!(r.ward.as_ref().unwrap().province_name, p.name);
        let unpadded = g
            .resolve(&AddressInput::WardCode(w.code.value().to_string()))
            .unwrap();
        assert_eq!(unpadded, r);

        for r in [
            names(Some(&p.name), None, &w.name),
            text(&format!("{}, {}", w.name, p.name)),
        ] {
            assert_eq!(r.status, Status::Resolved, "{} {}", w.code, w.name);
            assert_eq!(r.era, Some(Era::Y2025));
            assert_eq!(r.ward.as_ref().unwrap().code, w.code, "{}", w.name);
        }

        let want = &plain[&(w.province_code, normalize(&w.name))];
        let r = names(Some(&strip_marks(&p.name)), None, &strip_marks(&w.name));
        assert_eq!(&codes(&r), want, "{} {} without marks", w.code, w.name);
        let status = if want.len() == 1 {
            Status::Resolved
        } else {
            Status::Ambiguous
        };
        assert_eq!(r.status, status, "{}", w.name);
        assert_eq!(r.era, Some(Era::Y2025));
        n += 1;
    }
    assert_eq!(n, 3_321);
}

#[test]
fn every_province_is_found_by_name() {
    let g = g();
    for p in g.provinces() {
        let key = name_key(&p.name);
        for form in [
            p.name.to_string(),
            strip_marks(&p.name),
            p.name.to_uppercase(),
            key.clone(),
        ] {
            let m = g.find_provinces(&form);
            assert_eq!(m.current.len(), 1, "{form}");
            assert_eq!(m.current[0].code, p.code, "{form}");
        }
    }
    for lp in g.legacy_provinces() {
        for form in [lp.name.to_string(), strip_marks(&lp.name)] {
            let m = g.find_provinces(&form);
            assert_eq!(m.legacy.len(), 1, "{form}");
            assert_eq!(m.legacy[0].code, lp.code, "{form}");
        }
        assert!(g.legacy_province_successors(lp.code).count() >= 1);
    }
    // Aliases.
    for alias in [
        "tp hcm",
        "TP.HCM",
        "tphcm",
        "HCM",
        "Sài Gòn",
        "sai gon",
        "Hồ Chí Minh",
    ] {
        assert_eq!(
            g.find_provinces(alias).current[0].name,
            "Thành phố Hồ Chí Minh",
            "{alias}"
        );
    }
    for alias in ["hn", "HN", "Hà Nội", "ha noi", "TP Hà Nội", "Hanoi"] {
        assert_eq!(
            g.find_provinces(alias).current[0].name,
            "Thành phố Hà Nội",
            "{alias}"
        );
    }
    // "Hà Giang" is pre-2025 only; merged into Tuyên Quang.
    let m = g.find_provinces("Hà Giang");
    assert!(m.current.is_empty());
    assert_eq!(m.legacy[0].name, "Tỉnh Hà Giang");
    let succ: Vec<_> = g.legacy_province_successors(m.legacy[0].code).collect();
    assert_eq!(succ.len(), 1);
    assert_eq!(succ[0].name, "Tỉnh Tuyên Quang");
    // Same name in both eras with different codes.
    let m = g.find_provinces("An Giang");
    assert_eq!(
        (m.current[0].code.value(), m.legacy[0].code.value()),
        (91, 89)
    );
    assert!(g.find_provinces("Atlantis").is_empty());
}

// ---- the examples -------------------------------------------------------------------------------

#[test]
fn phuc_xa_examples() {
    // The data: Phường Phúc Xá (00001, Quận Ba Đình) → Phường Hồng Hà (00097), whole.
    for s in [
        "Phường Phúc Xá, Quận Ba Đình, Hà Nội",
        "phuc xa, ba dinh, ha noi",
        "P. Phúc Xá, Q. Ba Đình, TP. Hà Nội",
        "Phường Phúc Xá - Quận Ba Đình - Thành phố Hà Nội",
        "Phuong Phuc Xa, Quan Ba Dinh, Thanh pho Ha Noi, Viet Nam",
    ] {
        let r = text(s);
        assert_eq!(r.status, Status::Resolved, "{s}");
        assert_eq!(r.era, Some(Era::Legacy), "{s}");
        let w = r.ward.as_ref().unwrap();
        assert_eq!((w.code, &*w.name), (wc("00097"), "Phường Hồng Hà"), "{s}");
        assert_eq!(r.candidates[0].via[0].legacy.code, lwc("1"));
    }
    let r = text("Phường Phúc Xá, Quận Ba Đình, Hà Nội");
    let en = r.render(Lang::En);
    assert!(
        en.contains(
            &"Old ward Phường Phúc Xá (Quận Ba Đình, Thành phố Hà Nội) became Phường Hồng Hà (Thành phố Hà Nội) on 1 July 2025."
                .to_string()
        ),
        "{en:?}"
    );
    let vi = r.render(Lang::Vi);
    assert!(vi.iter().any(|s| s.contains("từ ngày 01/7/2025")), "{vi:?}");
    assert!(matches!(r.explanation[0], Explanation::ReadAs { .. }));

    // No province: Phúc Xá exists only as a pre-2025 name, once nationwide.
    let r = text("P. Phúc Xá");
    assert_eq!(r.status, Status::Resolved);
    assert_eq!(r.era, Some(Era::Legacy));
    assert_eq!(r.ward.as_ref().unwrap().code, wc("97"));
    assert!(has(&r, |e| matches!(
        e,
        Explanation::NoWard2025MatchedLegacy { province: None, .. }
    )));
    let en = r.render(Lang::En).join(" ");
    assert!(en.contains("No 2025 ward is named “P. Phúc Xá”"), "{en}");

    // Two-part forms: old ward + province (no district) and old ward + district.
    let r = text("Phúc Xá, Hà Nội");
    assert_eq!((r.status, r.era), (Status::Resolved, Some(Era::Legacy)));
    assert!(has(&r, |e| matches!(
        e,
        Explanation::NoWard2025MatchedLegacy {
            province: Some(_),
            ..
        }
    )));
    let r = text("Phúc Xá, Quận Ba Đình");
    assert_eq!(r.ward.as_ref().unwrap().code, wc("97"));
}

#[test]
fn numbered_wards() {
    // Quận 3 (HCM): Phường 1 → Phường Bàn Cờ (27154), whole; Phường 4 split into Xuân Hòa and Bàn Cờ.
    for s in [
        "Phường 1, Quận 3, TP HCM",
        "P.1, Q.3, TP.HCM",
        "p 01, q 3, tphcm",
        "phuong 01, quan 3, ho chi minh",
        "P1, Q3, Sài Gòn",
        "Phường 1, Quận 3, Thành phố Hồ Chí Minh",
    ] {
        let r = text(s);
        assert_eq!(r.status, Status::Resolved, "{s}: {:?}", r.render(Lang::En));
        assert_eq!(r.ward.as_ref().unwrap().code, wc("27154"), "{s}");
        assert_eq!(r.ward.as_ref().unwrap().name, "Phường Bàn Cờ");
    }
    let r = names(Some("TP HCM"), Some("Quận 3"), "Phường 4");
    assert_eq!(r.status, Status::Ambiguous);
    assert_eq!(codes(&r), BTreeSet::from([wc("27139"), wc("27154")]));
    assert!(r.candidates.iter().all(|c| c.via[0].partly_merged));
    let en = r.render(Lang::En).join(" ");
    assert!(
        en.contains("was split across 2 new wards; give a street or village to choose"),
        "{en}"
    );
    // "Phường 1" alone: 33 old wards nationwide, none in 2025 → ambiguous, capped, counted.
    let r = text("Phường 1");
    assert_eq!(r.status, Status::Ambiguous);
    assert_eq!(r.candidates.len(), MAX_CANDIDATES);
    assert!(has(&r, |e| matches!(
        e,
        Explanation::NationwideMatches {
            current: 0,
            legacy: 33,
            ..
        }
    )));
    assert!(has(&r, |e| matches!(
        e,
        Explanation::Truncated {
            shown: MAX_CANDIDATES,
            ..
        }
    )));
}

#[test]
fn partly_merged_wards_are_ambiguous_with_every_successor() {
    let g = g();
    let mut seen = 0;
    for lw in g.legacy_wards() {
        let succ = g.successors(lw.code);
        if !succ.iter().any(|s| s.partly_merged) {
            continue;
        }
        seen += 1;
        let r = g.resolve_legacy_ward_code(lw.code);
        assert_eq!(r.status, Status::Ambiguous);
        assert_eq!(r.candidates.len(), succ.len());
        if succ.len() == 1 {
            assert!(has(&r, |e| matches!(
                e,
                Explanation::LegacySplitOneListed { .. }
            )));
        } else {
            assert!(has(
                &r,
                |e| matches!(e, Explanation::LegacySplit { successors, .. } if *successors == succ.len())
            ));
        }
    }
    assert_eq!(seen, 573 - 1); // 27076 is split but absent from the legacy list
                               // Xã Đặng Xá (Gia Lâm, Hà Nội): flagged split, one successor listed.
    let r = names(Some("Hà Nội"), Some("Huyện Gia Lâm"), "Xã Đặng Xá");
    assert_eq!((r.status, r.candidates.len()), (Status::Ambiguous, 1));
    let en = r.render(Lang::En).join(" ");
    assert!(en.contains("lists only one successor"), "{en}");
}

#[test]
fn old_codes_absent_from_the_legacy_list_resolve_by_code() {
    let r = g()
        .resolve(&AddressInput::LegacyWardCode("03980".into()))
        .unwrap();
    assert_eq!(r.status, Status::Resolved);
    assert_eq!(r.ward.as_ref().unwrap().name, "Phường Mộc Châu");
    assert!(matches!(
        r.explanation[0],
        Explanation::LegacyCodeNotInList { .. }
    ));
    let via = &r.candidates[0].via[0].legacy;
    assert!(via.name.is_none());
    assert_eq!(via.district_code.unwrap().value(), 123);
    let en = r.render(Lang::En);
    assert!(en[0].contains("not in the pre-2025 ward list"), "{en:?}");
    assert!(
        en[1].starts_with(
            "Old ward with code 03980 (Huyện Mộc Châu, Tỉnh Sơn La) became Phường Mộc Châu"
        ),
        "{en:?}"
    );
    let r = g().resolve_legacy_ward_code(lwc("27076"));
    assert_eq!(r.status, Status::Ambiguous);
    assert_eq!(codes(&r), BTreeSet::from([wc("27058"), wc("27073")]));
}

#[test]
fn era_decisions() {
    let g = g();
    // Legacy-only province: "Hà Giang" (merged into Tuyên Quang). Phường Quang Trung (688) was split.
    let r = names(Some("Hà Giang"), None, "Phường Trần Phú");
    assert_eq!(r.era, Some(Era::Legacy));
    assert_eq!(codes(&r), BTreeSet::from([wc("691")]));
    assert!(has(
        &r,
        |e| matches!(e, Explanation::LegacyProvince { now_in, .. } if now_in[0] == "Tỉnh Tuyên Quang")
    ));
    // A 2025 ward name with a legacy-only province still resolves (era 2025).
    let r = names(Some("Hà Giang"), None, "Phường Hà Giang 1");
    assert_eq!((r.status, r.era), (Status::Resolved, Some(Era::Y2025)));
    assert_eq!(r.ward.as_ref().unwrap().province_name, "Tỉnh Tuyên Quang");

    // A name that is both a 2025 ward and a pre-2025 ward of the province, no district:
    // the 2025 ward, saying that an old ward had the same name.
    let mut found = false;
    for w in g.wards() {
        let p = g.province(w.province_code).unwrap();
        let lp = g.find_provinces(&p.name).legacy;
        let same: Vec<_> = lp
            .iter()
            .flat_map(|lp| g.legacy_wards_named_in_province(lp.code, &w.name))
            .filter(|l| l.name == w.name && g.successors(l.code).iter().all(|s| s.ward != w.code))
            .collect();
        if same.is_empty() {
            continue;
        }
        let r = names(Some(&p.name), None, &w.name);
        assert_eq!((r.status, r.era), (Status::Resolved, Some(Era::Y2025)));
        assert_eq!(r.ward.as_ref().unwrap().code, w.code);
        assert!(
            has(&r, |e| matches!(e, Explanation::Preferred2025 { .. })),
            "{}",
            w.name
        );
        // With the district, the old ward.
        let d = g.legacy_district(same[0].district_code).unwrap();
        let r = names(Some(&p.name), Some(&d.name), &w.name);
        assert_eq!(r.era, Some(Era::Legacy));
        assert!(r
            .candidates
            .iter()
            .all(|c| c.via[0].legacy.code == same[0].code));
        found = true;
        break;
    }
    assert!(
        found,
        "the data has a 2025 ward sharing a pre-2025 name in its province"
    );

    // "Thị trấn …" exists only before 2025: the type decides for the old ward even when a 2025
    // ward of the province has the same name.
    let (tt, current) = g
        .legacy_wards()
        .iter()
        .filter(|l| l.division_type == DivisionType::ThiTran && !g.successors(l.code).is_empty())
        .find_map(|l| {
            let p = g.legacy_province(l.province_code).unwrap();
            let cur = g.find_provinces(&p.name).current;
            let w = cur
                .first()
                .and_then(|c| g.wards_named(c.code, &name_key(&l.name)).first().copied())?;
            Some((l, w))
        })
        .expect("a thị trấn sharing its name with a 2025 ward of its province");
    let p = g.legacy_province(tt.province_code).unwrap();
    let r = names(Some(&p.name), None, &tt.name);
    assert_eq!(r.era, Some(Era::Legacy), "{}", tt.name);
    assert!(r
        .candidates
        .iter()
        .all(|c| c.via.iter().any(|v| v.legacy.code == tt.code)));
    assert!(has(
        &r,
        |e| matches!(e, Explanation::PreferredLegacy { ward, legacy_type: true, .. } if ward.code == current.code)
    ));
    // Without the type, the 2025 ward.
    let r = names(Some(&p.name), None, &name_key(&tt.name));
    assert_eq!(r.era, Some(Era::Y2025));
}

#[test]
fn across_the_merger() {
    // Vũng Tàu was in Bà Rịa - Vũng Tàu, now part of Hồ Chí Minh City: Phường 1 → Phường Vũng Tàu.
    for s in [
        "Phường 1, Thành phố Vũng Tàu, Bà Rịa - Vũng Tàu",
        "Phường 1, Thành phố Vũng Tàu, Tỉnh Bà Rịa - Vũng Tàu",
        "phuong 1, tp vung tau, brvt",
        "Phường 1, Thành phố Vũng Tàu, TP HCM",
    ] {
        let r = text(s);
        assert_eq!(r.status, Status::Resolved, "{s}: {:?}", r.render(Lang::En));
        assert_eq!(r.ward.as_ref().unwrap().code, wc("26506"), "{s}");
    }
    let r = text("Phường 1, Thành phố Vũng Tàu, TP HCM");
    assert!(has(&r, |e| matches!(e, Explanation::AcrossMerger { .. })));
    // Old ward of old Yên Bái given with the new province Lào Cai.
    let yb = g()
        .legacy_wards()
        .iter()
        .find(|l| {
            g().legacy_province(l.province_code).unwrap().name == "Tỉnh Yên Bái"
                && g().successors(l.code).len() == 1
                && !g().is_partly_merged(l.code)
                && g()
                    .wards_named(ProvinceCode::parse("15").unwrap(), &l.name)
                    .is_empty()
                && g()
                    .legacy_wards_named_in_province(
                        LegacyProvinceCode::parse("10").unwrap(),
                        &l.name,
                    )
                    .is_empty()
                && g()
                    .legacy_wards()
                    .iter()
                    .filter(|x| x.province_code == l.province_code && x.name == l.name)
                    .count()
                    == 1
        })
        .unwrap();
    let r = names(Some("Lào Cai"), None, &yb.name);
    assert_eq!(
        r.status,
        Status::Resolved,
        "{}: {:?}",
        yb.name,
        r.render(Lang::En)
    );
    assert_eq!(
        r.ward.as_ref().unwrap().code,
        g().successors(yb.code)[0].ward
    );
    assert!(has(&r, |e| matches!(e, Explanation::AcrossMerger { .. })));
}

#[test]
fn hyphenated_official_names_and_street_parts() {
    let r = text("Phường Văn Miếu - Quốc Tử Giám, Hà Nội");
    assert_eq!((r.status, r.era), (Status::Resolved, Some(Era::Y2025)));
    assert_eq!(
        r.ward.as_ref().unwrap().name,
        "Phường Văn Miếu - Quốc Tử Giám"
    );
    // Without a province the name is both a 2025 ward and a pre-2025 ward (Quận Đống Đa,
    // split): ambiguous, the 2025 ward listed first.
    let r = text("Phường Văn Miếu - Quốc Tử Giám");
    assert_eq!(
        (r.status, r.era),
        (Status::Ambiguous, None),
        "{:?}",
        r.render(Lang::En)
    );
    assert_eq!(r.candidates[0].ward.name, "Phường Văn Miếu - Quốc Tử Giám");
    assert!(r.candidates[0]
        .via
        .iter()
        .all(|v| v.legacy.name.as_deref() == Some("Phường Văn Miếu - Quốc Tử Giám")));
    assert!(has(&r, |e| matches!(
        e,
        Explanation::NationwideMatches {
            current: 1,
            legacy: 1,
            ..
        }
    )));
    let r = text("Phúc Xá - Ba Đình - Hà Nội");
    assert_eq!(r.ward.as_ref().unwrap().code, wc("97"));
    // Street, 2025 ward, province.
    let r = text("12 Lê Lợi, Phường Bến Thành, TP HCM");
    assert_eq!((r.status, r.era), (Status::Resolved, Some(Era::Y2025)));
    assert_eq!(r.ward.as_ref().unwrap().code, wc("26743"));
    assert!(has(
        &r,
        |e| matches!(e, Explanation::ReadAs { ignored, .. } if ignored == &["12 Lê Lợi".to_string()])
    ));
    // Street, old ward, district, province.
    let r = text("Số 5 Hàng Bún, Phường Phúc Xá, Quận Ba Đình, Hà Nội, Việt Nam");
    assert_eq!(r.ward.as_ref().unwrap().code, wc("97"));
    // Island districts had no wards; the special zone resolves by name.
    let r = text("Bạch Long Vĩ, Hải Phòng");
    assert_eq!((r.status, r.era), (Status::Resolved, Some(Era::Y2025)));
    assert_eq!(r.ward.as_ref().unwrap().code, wc("11948"));
    let r = names(
        Some("Hải Phòng"),
        Some("Huyện Bạch Long Vĩ"),
        "Bạch Long Vĩ",
    );
    assert_eq!(r.status, Status::NotFound);
    assert!(has(&r, |e| matches!(
        e,
        Explanation::Ward2025WithDistrict { .. }
    )));
    assert_eq!(r.suggestions[0].code, wc("11948"));
    // Côn Đảo was a ward-less island district of Bà Rịa - Vũng Tàu; now a special zone of HCM.
    let r = text("Côn Đảo, Bà Rịa - Vũng Tàu");
    assert_eq!((r.status, r.era), (Status::Resolved, Some(Era::Y2025)));
    assert_eq!(r.ward.as_ref().unwrap().name, "Đặc khu Côn Đảo");
    assert!(has(&r, |e| matches!(e, Explanation::LegacyProvince { .. })));
    // A 2025 ward given with a district: says so first, then the old namesake elsewhere.
    let r = text("Phường Hồng Hà, Quận Ba Đình, Hà Nội");
    assert_eq!(r.status, Status::NotFound);
    assert!(
        matches!(r.explanation[1], Explanation::Ward2025WithDistrict { .. }),
        "{:?}",
        r.explanation
    );
    assert!(matches!(
        r.explanation[2],
        Explanation::WardNotInDistrict { .. }
    ));
    assert_eq!(r.suggestions[0].code, wc("97"));
}

#[test]
fn contradictions_are_not_found_with_the_reason() {
    let r = text("Phường Phúc Xá, Quận Hoàn Kiếm, Hà Nội");
    assert_eq!(r.status, Status::NotFound);
    assert!(has(
        &r,
        |e| matches!(e, Explanation::WardNotInDistrict { found_in, .. }
        if found_in[0] == "Quận Ba Đình (Thành phố Hà Nội)")
    ));
    assert_eq!(r.suggestions[0].code, wc("97"));
    let en = r.render(Lang::En).join(" ");
    assert!(en.contains("contradicts itself"), "{en}");

    let r = names(Some("Hà Nội"), Some("Quận 3"), "Phường 1");
    assert_eq!(r.status, Status::NotFound);
    assert!(has(
        &r,
        |e| matches!(e, Explanation::DistrictNotInProvince { found_in, .. }
        if found_in.iter().any(|n| n == "Thành phố Hồ Chí Minh"))
    ));

    let r = names(Some("Đà Nẵng"), None, "Phường Phúc Xá");
    assert_eq!(r.status, Status::NotFound);
    assert!(has(
        &r,
        |e| matches!(e, Explanation::WardNotInProvince { found_in, .. }
        if found_in[0] == "Thành phố Hà Nội")
    ));

    let r = names(Some("Atlantis"), None, "Phúc Xá");
    assert!(matches!(
        r.explanation.as_slice(),
        [Explanation::UnknownProvince { .. }]
    ));
    let r = names(Some("Hà Nội"), Some("Quận Không Có"), "Phúc Xá");
    assert!(matches!(
        r.explanation.as_slice(),
        [Explanation::UnknownDistrict { .. }]
    ));
    let r = names(Some("Hà Nội"), None, "Zzyzx");
    assert!(matches!(
        r.explanation.as_slice(),
        [Explanation::NoWardNamed { scope: Some(_), .. }]
    ));
    assert!(r.candidates.is_empty());
}

#[test]
fn not_found_offers_prefix_suggestions() {
    let r = names(Some("Hà Nội"), None, "Phường Hồng H");
    assert_eq!(r.status, Status::NotFound);
    assert!(
        r.suggestions.iter().any(|w| w.name == "Phường Hồng Hà"),
        "{:?}",
        r.suggestions
    );
    assert!(r.suggestions.len() <= MAX_SUGGESTIONS);
    assert!(r
        .suggestions
        .iter()
        .all(|w| w.province_name == "Thành phố Hà Nội"));
    let r = text("Ba Đìn, Hà Nội");
    assert_eq!(r.status, Status::NotFound);
    assert_eq!(r.suggestions[0].name, "Phường Ba Đình");
}

#[test]
fn codes_and_validation() {
    let g = g();
    let r = g.resolve(&AddressInput::WardCode("00004".into())).unwrap();
    assert_eq!(r.ward.as_ref().unwrap().name, "Phường Ba Đình");
    assert_eq!(r.render(Lang::En).len(), 1);
    let r = g.resolve(&AddressInput::WardCode("99999".into())).unwrap();
    assert_eq!(r.status, Status::NotFound);
    assert!(matches!(
        r.explanation.as_slice(),
        [Explanation::UnknownWardCode { .. }]
    ));
    assert_eq!(
        r.render(Lang::En),
        vec!["No 2025 ward has code 99999.".to_string()]
    );
    let r = g
        .resolve(&AddressInput::LegacyWardCode("99999".into()))
        .unwrap();
    assert!(matches!(
        r.explanation.as_slice(),
        [Explanation::UnknownLegacyWardCode { .. }]
    ));

    let err = |i: AddressInput| g.resolve(&i).unwrap_err();
    for (input, field, code) in [
        (
            AddressInput::WardCode("".into()),
            "ward_code",
            "invalid_ward_code",
        ),
        (
            AddressInput::WardCode("12a".into()),
            "ward_code",
            "invalid_ward_code",
        ),
        (
            AddressInput::WardCode("000004".into()),
            "ward_code",
            "invalid_ward_code",
        ),
        (
            AddressInput::WardCode("0".into()),
            "ward_code",
            "invalid_ward_code",
        ),
        (
            AddressInput::LegacyWardCode("x".into()),
            "legacy_ward_code",
            "invalid_legacy_ward_code",
        ),
        (AddressInput::Text("".into()), "text", "required"),
        (AddressInput::Text("   ".into()), "text", "required"),
        (
            AddressInput::Text("..., -".into()),
            "text",
            "no_letters_or_digits",
        ),
        (AddressInput::Text("a".repeat(201)), "text", "too_long"),
        (
            AddressInput::Text("Phúc Xá\u{0}".into()),
            "text",
            "control_characters",
        ),
        (
            AddressInput::Text("Phúc Xá\nHà Nội".into()),
            "text",
            "control_characters",
        ),
        (
            AddressInput::Names {
                province: None,
                district: None,
                ward: " ".into(),
            },
            "ward",
            "required",
        ),
        (
            AddressInput::Names {
                province: Some("x".repeat(201)),
                district: None,
                ward: "a".into(),
            },
            "province",
            "too_long",
        ),
        (
            AddressInput::Names {
                province: None,
                district: Some("\u{7}".into()),
                ward: "a".into(),
            },
            "district",
            "control_characters",
        ),
    ] {
        let e = err(input.clone());
        assert_eq!((e.field, e.code), (field, code), "{input:?}");
        assert!(!e.message.is_empty());
    }
    // 200 characters of Vietnamese (multi-byte) are fine.
    assert!(g.resolve(&AddressInput::Text("Đ".repeat(200))).is_ok());
    // Surrounding spaces around a code are tolerated; empty optional fields are ignored.
    assert_eq!(
        g.resolve(&AddressInput::WardCode(" 4 ".into()))
            .unwrap()
            .status,
        Status::Resolved
    );
    let r = g
        .resolve(&AddressInput::Names {
            province: Some("  ".into()),
            district: Some(String::new()),
            ward: "Phường Phúc Xá".into(),
        })
        .unwrap();
    assert_eq!(r.ward.as_ref().unwrap().code, wc("97"));
}

#[test]
fn explanations_render_in_both_languages() {
    let samples = [
        text("Phường Phúc Xá, Quận Ba Đình, Hà Nội"),
        text("Phường 4, Quận 3, TP HCM"),
        text("Phường 1"),
        text("Phường Phúc Xá, Quận Hoàn Kiếm, Hà Nội"),
        names(Some("Hà Giang"), None, "Phường Trần Phú"),
        names(
            Some("Thanh Hóa"),
            Some("Thành phố Thanh Hóa"),
            "Xã Đông Khê",
        ),
        g().resolve_legacy_ward_code(lwc("3980")),
        names(Some("Hà Nội"), Some("Quận 3"), "Phường 1"),
    ];
    for r in &samples {
        for lang in [Lang::Vi, Lang::En] {
            for s in r.render(lang) {
                assert!(s.ends_with('.'), "{s}");
                let c = s.chars().next().unwrap();
                assert!(c.is_uppercase() || c.is_ascii_digit() || c == '“', "{s}");
            }
        }
    }
}

#[test]
fn resolution_serialises_to_json() {
    let r = text("Phường Phúc Xá, Quận Ba Đình, Hà Nội");
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["status"], "resolved");
    assert_eq!(v["era"], "legacy");
    assert_eq!(v["ward"]["code"], "00097");
    assert_eq!(v["ward"]["province_code"], "01");
    assert_eq!(v["candidates"][0]["via"][0]["legacy"]["code"], "00001");
    assert_eq!(v["explanation"][1]["kind"], "legacy_converted");
    let input: AddressInput = serde_json::from_str(r#"{"text": "phuc xa, ha noi"}"#).unwrap();
    assert_eq!(input, AddressInput::Text("phuc xa, ha noi".into()));
    let input: AddressInput = serde_json::from_str(r#"{"names": {"ward": "Phúc Xá"}}"#).unwrap();
    assert!(matches!(input, AddressInput::Names { province: None, .. }));
    assert!(serde_json::from_str::<AddressInput>(r#"{"text": "a", "ward_code": "1"}"#).is_err());
    let q = serde_json::to_value(&fixture().quirks[0]).unwrap();
    assert!(q["kind"].is_string());
}

// ---- gazetteer lookups ---------------------------------------------------------------------------

#[test]
fn lookups_by_code_and_name() {
    let g = g();
    let hn = ProvinceCode::parse("01").unwrap();
    assert_eq!(g.province(hn).unwrap().name, "Thành phố Hà Nội");
    assert_eq!(
        g.wards_of_province(hn).count(),
        g.wards().iter().filter(|w| w.province_code == hn).count()
    );
    assert_eq!(
        g.wards()
            .iter()
            .map(|w| g.wards_of_province(w.province_code).count())
            .max(),
        Some(168)
    );
    let d = LegacyDistrictCode::parse("001").unwrap();
    assert_eq!(g.legacy_district(d).unwrap().name, "Quận Ba Đình");
    assert_eq!(
        g.legacy_wards_of_district(d).next().unwrap().name,
        "Phường Phúc Xá"
    );
    assert_eq!(g.legacy_ward_district(lwc("1")).unwrap().code, d);
    assert_eq!(
        g.legacy_ward_province(lwc("1")).unwrap().name,
        "Thành phố Hà Nội"
    );
    assert!(
        g.legacy_districts_of_province(LegacyProvinceCode::parse("01").unwrap())
            .count()
            > 20
    );
    assert_eq!(
        g.legacy_wards_of_province(LegacyProvinceCode::parse("02").unwrap())
            .count(),
        g.legacy_wards()
            .iter()
            .filter(|l| l.province_code.value() == 2)
            .count()
    );
    assert_eq!(
        g.successors(lwc("1")),
        &[Successor {
            ward: wc("97"),
            partly_merged: false
        }]
    );
    assert!(g.successors(lwc("16387")).is_empty());
    assert!(g.predecessors(wc("97")).contains(&lwc("1")));
    assert!(g.predecessors(wc("11948")).is_empty());
    assert_eq!(g.wards_named(hn, "hong ha")[0].code, wc("97"));
    assert_eq!(
        g.legacy_wards_named_in_district(d, "P. Phúc Xá")[0].code,
        lwc("1")
    );
    assert_eq!(g.legacy_districts_named(None, "Quận 3").len(), 1);
    assert_eq!(g.legacy_districts_named(None, "Kỳ Anh").len(), 2);
    assert_eq!(g.legacy_districts_named(None, "Thị xã Kỳ Anh").len(), 1);
    assert_eq!(
        g.ward_ref(wc("4")).unwrap().province_name,
        "Thành phố Hà Nội"
    );
}

#[test]
fn search_wards_ranks_exact_then_prefix_then_substring() {
    let g = g();
    let hn = ProvinceCode::parse("01").unwrap();
    let r = g.search_wards("ba dinh", Some(hn), 10);
    assert_eq!(r[0].name, "Phường Ba Đình");
    let r = g.search_wards("Phường Hồng", Some(hn), 10);
    assert!(!r.is_empty());
    assert!(r.iter().all(|w| name_key(&w.name).starts_with("hong")));
    let all = g.search_wards("an", None, 10_000);
    assert!(all.len() > 100);
    let rank = |w: &Ward, q: &str| {
        let k = name_key(&w.name);
        if k == q {
            0
        } else if k.starts_with(q) {
            1
        } else {
            assert!(k.contains(q));
            2
        }
    };
    assert!(all.windows(2).all(|p| rank(p[0], "an") <= rank(p[1], "an")));
    assert!(all.iter().any(|w| rank(w, "an") == 2));
    let r = g.search_wards("Xã Hồng Hà", None, 50);
    assert!(r.len() > 1);
    assert_eq!(rank(r[0], "hong ha"), 0);
    assert!(r
        .windows(2)
        .all(|p| rank(p[0], "hong ha") <= rank(p[1], "hong ha")));
    let again = g.search_wards("an", None, 10_000);
    assert_eq!(all, again);
    assert_eq!(g.search_wards("an", None, 3).len(), 3);
    assert!(g.search_wards("zzzz", None, 10).is_empty());
    assert_eq!(g.search_wards("", Some(hn), 5).len(), 5);
    assert!(g
        .search_wards("x", Some(ProvinceCode::parse("99").unwrap()), 5)
        .is_empty());
}
