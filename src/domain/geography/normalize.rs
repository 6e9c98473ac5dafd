//! Name normalisation: diacritics, case, punctuation, administrative type prefixes.
//!
//! Two forms are computed for every name, in one pass over the characters:
//! - the **plain** form: NFD, combining marks dropped, đ → d, lowercase, every run of
//!   non-alphanumeric characters turned into one space ("Phường Phúc Xá" → "phuong phuc xa");
//! - the **accent** form: the same tokens with their Vietnamese marks kept, each syllable's tone
//!   mark moved to the end of the syllable so that old- and new-style tone placement compare equal
//!   ("Hoà" = "Hòa"). It separates names that differ only by their marks ("Sa Pa" / "Sa Pả").
//!
//! The **key** of a name drops a leading administrative type (in either era, full or abbreviated:
//! "Phường", "P.", "p", "TP", "Thị xã", "tx", …) and leading zeros of numbers, so that "Phường 1",
//! "P.1", "p 01" and "phuong 01" all have the key "1".

use std::sync::OnceLock;

use serde::Serialize;
use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// The administrative type named by a prefix of a user-typed name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TypePrefix {
    /// "Thành phố", "TP", "T.P": a centrally-run city (province level) or a provincial city
    /// (pre-2025 district level).
    ThanhPho,
    /// "Tỉnh", "T.".
    Tinh,
    /// "Quận", "Q.".
    Quan,
    /// "Huyện", "H.".
    Huyen,
    /// "Thị xã", "TX", "T.X".
    ThiXa,
    /// "Thị trấn", "TT", "T.T".
    ThiTran,
    /// "Phường", "P.".
    Phuong,
    /// "Xã", "X.".
    Xa,
    /// "Đặc khu".
    DacKhu,
}

/// Normalise a name for comparison: NFD, drop combining marks, đ/Đ → d, lowercase,
/// punctuation to spaces, collapse whitespace.
///
/// ```
/// # use motcua::domain::geography::normalize;
/// assert_eq!(normalize("  Phường Phúc-Xá, Quận Ba Đình "), "phuong phuc xa quan ba dinh");
/// ```
pub fn normalize(s: &str) -> String {
    tokenize(s, false).plain
}

/// The lookup key of a name: [`normalize`]d, without a leading administrative type prefix
/// (unless that would leave nothing) and without leading zeros in numbers.
///
/// ```
/// # use motcua::domain::geography::name_key;
/// assert_eq!(name_key("Phường 01"), "1");
/// assert_eq!(name_key("P.1"), "1");
/// assert_eq!(name_key("TP. Hồ Chí Minh"), "ho chi minh");
/// assert_eq!(name_key("Phường"), "phuong");
/// ```
pub fn name_key(s: &str) -> String {
    Query::parse(s).primary.plain
}

/// Common province aliases, keyed by plain key, to the plain key of the official name.
/// One small table: extend it here.
const PROVINCE_ALIASES: &[(&str, &str)] = &[
    ("hcm", "ho chi minh"),
    ("tphcm", "ho chi minh"),
    ("hcmc", "ho chi minh"),
    ("ho chi minh city", "ho chi minh"),
    ("sai gon", "ho chi minh"),
    ("saigon", "ho chi minh"),
    ("sg", "ho chi minh"),
    ("hn", "ha noi"),
    ("hanoi", "ha noi"),
    ("tphn", "ha noi"),
    ("hp", "hai phong"),
    ("haiphong", "hai phong"),
    ("danang", "da nang"),
    ("thua thien hue", "hue"),
    ("brvt", "ba ria vung tau"),
    ("daklak", "dak lak"),
    ("daknong", "dak nong"),
];

/// The official plain key for a province alias ("tp hcm", "sai gon", "hn" …), if any.
pub fn province_alias(key: &str) -> Option<&'static str> {
    PROVINCE_ALIASES
        .iter()
        .find(|(alias, _)| *alias == key)
        .map(|(_, target)| *target)
}

/// One reading of a name: its key (plain and accent forms) and the type prefix it dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Interp {
    pub plain: String,
    pub accent: String,
    pub prefix: Option<TypePrefix>,
}

/// A parsed name. `alt` is the reading that keeps the first word(s) when they only *might* be a
/// type prefix: "phuong liet" may be "Phường Liệt" or "Phương Liệt"; "h neng" may be
/// "Huyện Neng" or "Xã H' Neng".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Query {
    pub primary: Interp,
    pub alt: Option<Interp>,
    /// Whether the input carried any Vietnamese mark (then the accent form can discriminate).
    pub has_marks: bool,
}

impl Query {
    pub(crate) fn parse(s: &str) -> Query {
        let t = tokenize(s, true);
        let has_marks = t.spans.iter().any(|sp| sp.marked);
        let (prefix_len, prefix, certain) = match detect_prefix(&t) {
            Some((len, kind, certain)) if len < t.spans.len() => (len, Some(kind), certain),
            _ => (0, None, true),
        };
        if prefix_len == 0 {
            return Query {
                primary: Interp {
                    plain: t.plain,
                    accent: t.accent,
                    prefix: None,
                },
                alt: None,
                has_marks,
            };
        }
        let rest = &t.spans[prefix_len];
        let primary = Interp {
            plain: t.plain[rest.p.0..].to_string(),
            accent: t.accent[rest.a.0..].to_string(),
            prefix,
        };
        let alt = (!certain).then_some(Interp {
            plain: t.plain,
            accent: t.accent,
            prefix: None,
        });
        Query {
            primary,
            alt,
            has_marks,
        }
    }

    /// The readings, most likely first.
    pub(crate) fn interps(&self) -> impl Iterator<Item = &Interp> {
        std::iter::once(&self.primary).chain(self.alt.as_ref())
    }
}

/// One token: byte ranges in the plain and accent strings.
#[derive(Debug, Clone, Copy)]
struct Span {
    p: (usize, usize),
    a: (usize, usize),
    /// Carried at least one Vietnamese mark (or đ).
    marked: bool,
}

/// Tokens joined by single spaces, in both forms, with their spans.
#[derive(Debug, Default)]
struct Tokens {
    plain: String,
    accent: String,
    spans: Vec<Span>,
}

impl Tokens {
    fn plain(&self, i: usize) -> &str {
        let (a, b) = self.spans[i].p;
        &self.plain[a..b]
    }
    fn accent(&self, i: usize) -> &str {
        let (a, b) = self.spans[i].a;
        &self.accent[a..b]
    }
}

/// Tone marks: grave, acute, tilde, hook above, dot below.
fn is_tone(c: char) -> bool {
    matches!(c, '\u{300}' | '\u{301}' | '\u{303}' | '\u{309}' | '\u{323}')
}

/// Vowel-quality marks: circumflex, breve, horn.
fn is_vowel_mark(c: char) -> bool {
    matches!(c, '\u{302}' | '\u{306}' | '\u{31b}')
}

struct Tokenizer {
    out: Tokens,
    /// Key mode: numbers lose their leading zeros, "p1"/"q01" at the start are split.
    keys: bool,
    in_token: bool,
    p0: usize,
    a0: usize,
    marked: bool,
    tones: [char; 4],
    n_tones: usize,
}

impl Tokenizer {
    fn begin(&mut self) {
        if !self.in_token {
            if !self.out.spans.is_empty() {
                self.out.plain.push(' ');
                self.out.accent.push(' ');
            }
            self.p0 = self.out.plain.len();
            self.a0 = self.out.accent.len();
            self.in_token = true;
        }
    }

    fn base(&mut self, c: char) {
        self.begin();
        if c.is_ascii() {
            let l = c.to_ascii_lowercase();
            self.out.plain.push(l);
            self.out.accent.push(l);
        } else {
            for l in c.to_lowercase() {
                self.out.plain.push(l);
                self.out.accent.push(l);
            }
        }
    }

    fn d_stroke(&mut self) {
        self.begin();
        self.out.plain.push('d');
        self.out.accent.push('đ');
        self.marked = true;
    }

    fn mark(&mut self, c: char) {
        if !self.in_token {
            return; // a mark with no letter to carry it
        }
        self.marked = true;
        if is_tone(c) {
            if self.n_tones < self.tones.len() {
                self.tones[self.n_tones] = c;
                self.n_tones += 1;
            }
        } else if is_vowel_mark(c) {
            self.out.accent.push(c);
        }
        // Other combining marks carry no meaning in Vietnamese names: dropped.
    }

    fn flush(&mut self) {
        if !self.in_token {
            return;
        }
        self.in_token = false;
        for &t in &self.tones[..self.n_tones] {
            self.out.accent.push(t);
        }
        self.n_tones = 0;
        let marked = std::mem::take(&mut self.marked);
        let (p0, a0) = (self.p0, self.a0);
        if self.keys {
            let b = &self.out.plain.as_bytes()[p0..];
            if b.iter().all(u8::is_ascii_digit) {
                self.strip_zeros(p0, a0);
            } else if self.out.spans.is_empty()
                && b.len() >= 2
                && matches!(b[0], b'p' | b'q')
                && b[1..].iter().all(u8::is_ascii_digit)
            {
                // "p1", "q01": an abbreviation glued to a number.
                self.out.spans.push(Span {
                    p: (p0, p0 + 1),
                    a: (a0, a0 + 1),
                    marked: false,
                });
                self.out.plain.insert(p0 + 1, ' ');
                self.out.accent.insert(a0 + 1, ' ');
                self.strip_zeros(p0 + 2, a0 + 2);
                self.push_span(p0 + 2, a0 + 2, false);
                return;
            }
        }
        self.push_span(p0, a0, marked);
    }

    /// Drop the leading zeros of the digits token starting at (p0, a0), keeping one digit.
    fn strip_zeros(&mut self, p0: usize, a0: usize) {
        let b = &self.out.plain.as_bytes()[p0..];
        let zeros = b
            .iter()
            .take_while(|&&c| c == b'0')
            .count()
            .min(b.len() - 1);
        if zeros > 0 {
            self.out.plain.drain(p0..p0 + zeros);
            self.out.accent.drain(a0..a0 + zeros);
        }
    }

    fn push_span(&mut self, p0: usize, a0: usize, marked: bool) {
        self.out.spans.push(Span {
            p: (p0, self.out.plain.len()),
            a: (a0, self.out.accent.len()),
            marked,
        });
    }
}

fn tokenize(s: &str, keys: bool) -> Tokens {
    let mut t = Tokenizer {
        out: Tokens {
            plain: String::with_capacity(s.len()),
            accent: String::with_capacity(s.len() + 8),
            spans: Vec::with_capacity(6),
        },
        keys,
        in_token: false,
        p0: 0,
        a0: 0,
        marked: false,
        tones: ['\0'; 4],
        n_tones: 0,
    };
    for c in s.chars() {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                t.base(c);
            } else {
                t.flush();
            }
            continue;
        }
        match c {
            'đ' | 'Đ' | 'Ð' | 'ð' => t.d_stroke(),
            _ => decompose_canonical(c, |d| {
                if is_combining_mark(d) {
                    t.mark(d);
                } else if d.is_alphanumeric() {
                    t.base(d);
                } else {
                    t.flush();
                }
            }),
        }
    }
    t.flush();
    t.out
}

/// A full-word prefix: plain words, the same words with their marks, the type.
const WORD_PREFIXES: &[(&[&str], &[&str], TypePrefix)] = &[
    (&["thanh", "pho"], &["thành", "phố"], TypePrefix::ThanhPho),
    (&["thi", "xa"], &["thị", "xã"], TypePrefix::ThiXa),
    (&["thi", "tran"], &["thị", "trấn"], TypePrefix::ThiTran),
    (&["dac", "khu"], &["đặc", "khu"], TypePrefix::DacKhu),
    (&["tinh"], &["tỉnh"], TypePrefix::Tinh),
    (&["quan"], &["quận"], TypePrefix::Quan),
    (&["huyen"], &["huyện"], TypePrefix::Huyen),
    (&["phuong"], &["phường"], TypePrefix::Phuong),
    (&["xa"], &["xã"], TypePrefix::Xa),
];

/// Abbreviations (plain words), the type, and whether they cannot start a real name.
const ABBREV_PREFIXES: &[(&[&str], TypePrefix, bool)] = &[
    (&["t", "p"], TypePrefix::ThanhPho, true),
    (&["t", "x"], TypePrefix::ThiXa, true),
    (&["t", "t"], TypePrefix::ThiTran, true),
    (&["tp"], TypePrefix::ThanhPho, true),
    (&["tx"], TypePrefix::ThiXa, true),
    (&["tt"], TypePrefix::ThiTran, true),
    (&["t"], TypePrefix::Tinh, false),
    (&["q"], TypePrefix::Quan, false),
    (&["h"], TypePrefix::Huyen, false),
    (&["p"], TypePrefix::Phuong, false),
    (&["x"], TypePrefix::Xa, false),
];

/// Accent forms of the full-word prefixes, computed once with the same folding as the input.
fn word_prefix_accents() -> &'static [Vec<String>] {
    static CELL: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    CELL.get_or_init(|| {
        WORD_PREFIXES
            .iter()
            .map(|(_, words, _)| words.iter().map(|w| tokenize(w, true).accent).collect())
            .collect()
    })
}

/// The type prefix at the start of the tokens: (number of tokens, type, certain).
/// A full word counts when typed with exactly its marks (certain) or with no marks at all
/// (uncertain: "phuong" may be "Phương"); a word typed with other marks ("Phương") does not.
fn detect_prefix(t: &Tokens) -> Option<(usize, TypePrefix, bool)> {
    let n = t.spans.len();
    let accents = word_prefix_accents();
    for ((plain, _, kind), accent) in WORD_PREFIXES.iter().zip(accents) {
        if n < plain.len() {
            continue;
        }
        let mut certain = true;
        let mut ok = true;
        for (i, w) in plain.iter().enumerate() {
            if t.plain(i) != *w {
                ok = false;
                break;
            }
            if t.accent(i) == accent[i] {
                continue;
            }
            if t.spans[i].marked {
                ok = false;
                break;
            }
            certain = false;
        }
        if ok {
            return Some((plain.len(), *kind, certain));
        }
    }
    for (plain, kind, certain) in ABBREV_PREFIXES {
        if n >= plain.len()
            && plain
                .iter()
                .enumerate()
                .all(|(i, w)| t.plain(i) == *w && !t.spans[i].marked)
        {
            return Some((plain.len(), *kind, *certain));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_strips_marks_case_and_punctuation() {
        assert_eq!(normalize("Phường Phúc Xá"), "phuong phuc xa");
        assert_eq!(normalize("ĐẮK LẮK"), "dak lak");
        assert_eq!(normalize("Xã Ea H’Leo"), "xa ea h leo");
        assert_eq!(normalize("Huyện Ia H' Drai"), "huyen ia h drai");
        assert_eq!(normalize("Tỉnh Bà Rịa - Vũng Tàu"), "tinh ba ria vung tau");
        assert_eq!(normalize("  a\t\tb  "), "a b");
        assert_eq!(normalize("...,,"), "");
        assert_eq!(normalize(""), "");
        // Decomposed input and old-style tone placement.
        assert_eq!(normalize("Hoa\u{300} Bi\u{300}nh"), "hoa binh");
        assert_eq!(
            normalize("Thị trấn N.T Phong Hải"),
            "thi tran n t phong hai"
        );
    }

    #[test]
    fn accent_form_ignores_tone_placement_but_keeps_marks() {
        let a = Query::parse("Hoà Bình");
        let b = Query::parse("Hòa Bình");
        assert_eq!(a.primary.accent, b.primary.accent);
        assert_eq!(a.primary.plain, "hoa binh");
        let sa_pa = Query::parse("Sa Pa");
        let sa_pa_hook = Query::parse("Sa Pả");
        assert_eq!(sa_pa.primary.plain, sa_pa_hook.primary.plain);
        assert_ne!(sa_pa.primary.accent, sa_pa_hook.primary.accent);
        assert!(!sa_pa.has_marks);
        assert!(sa_pa_hook.has_marks);
        // Precomposed and decomposed forms agree.
        assert_eq!(
            Query::parse("Hồ").primary.accent,
            Query::parse("Ho\u{302}\u{300}").primary.accent
        );
    }

    #[test]
    fn keys_strip_type_prefixes_of_both_eras() {
        for (input, key) in [
            ("Thành phố Hà Nội", "ha noi"),
            ("TP Hồ Chí Minh", "ho chi minh"),
            ("tp. hồ chí minh", "ho chi minh"),
            ("T.P Hồ Chí Minh", "ho chi minh"),
            ("Tỉnh Hà Giang", "ha giang"),
            ("T. Hà Giang", "ha giang"),
            ("Quận Ba Đình", "ba dinh"),
            ("Q. Ba Đình", "ba dinh"),
            ("q ba dinh", "ba dinh"),
            ("Huyện Gia Lâm", "gia lam"),
            ("H. Gia Lâm", "gia lam"),
            ("Thị xã Sơn Tây", "son tay"),
            ("TX Sơn Tây", "son tay"),
            ("T.X Sơn Tây", "son tay"),
            ("Thị trấn Trâu Quỳ", "trau quy"),
            ("TT Trâu Quỳ", "trau quy"),
            ("T.T. Trâu Quỳ", "trau quy"),
            ("Phường Phúc Xá", "phuc xa"),
            ("P. Phúc Xá", "phuc xa"),
            ("p phuc xa", "phuc xa"),
            ("Xã Đông Khê", "dong khe"),
            ("X. Đông Khê", "dong khe"),
            ("Đặc khu Côn Đảo", "con dao"),
            ("Phúc Xá", "phuc xa"),
        ] {
            assert_eq!(name_key(input), key, "{input}");
        }
    }

    #[test]
    fn numbered_wards_share_a_key() {
        for input in [
            "Phường 1",
            "P.1",
            "p 01",
            "phuong 01",
            "P1",
            "p01",
            "Phường 001",
            "1",
        ] {
            assert_eq!(name_key(input), "1", "{input}");
        }
        assert_eq!(name_key("Quận 10"), "10");
        assert_eq!(name_key("q10"), "10");
        assert_eq!(name_key("Phường 2 Bảo Lộc"), "2 bao loc");
        assert_eq!(name_key("Phường 0"), "0");
    }

    #[test]
    fn never_strips_a_prefix_that_leaves_nothing() {
        assert_eq!(name_key("Phường"), "phuong");
        assert_eq!(name_key("Thị xã"), "thi xa");
        assert_eq!(name_key("P."), "p");
        assert_eq!(name_key("tp"), "tp");
    }

    #[test]
    fn marked_words_that_only_look_like_prefixes_are_kept() {
        // "Phương" (no grave) and "Quán" are names, not types.
        assert_eq!(name_key("Phương Liệt"), "phuong liet");
        assert_eq!(name_key("Quán Toan"), "quan toan");
        assert_eq!(name_key("Xa Dung"), "dung"); // unmarked: ambiguous, both readings kept
        let q = Query::parse("Xa Dung");
        assert_eq!(q.alt.as_ref().unwrap().plain, "xa dung");
        let q = Query::parse("phuong liet");
        assert_eq!(q.primary.plain, "liet");
        assert_eq!(q.primary.prefix, Some(TypePrefix::Phuong));
        assert_eq!(q.alt.as_ref().unwrap().plain, "phuong liet");
        // Certain prefixes have no alternative reading.
        let q = Query::parse("Phường Phương Liệt");
        assert_eq!(q.primary.plain, "phuong liet");
        assert!(q.alt.is_none());
        let q = Query::parse("Xã Xa Dung");
        assert_eq!(q.primary.plain, "xa dung");
        assert!(q.alt.is_none());
        // "Thanh Hóa" is not "Thành phố …".
        assert_eq!(name_key("Thanh Hóa"), "thanh hoa");
        assert_eq!(name_key("thanh hoa"), "thanh hoa");
    }

    #[test]
    fn province_aliases() {
        assert_eq!(province_alias(&name_key("TP HCM")), Some("ho chi minh"));
        assert_eq!(province_alias(&name_key("tp.hcm")), Some("ho chi minh"));
        assert_eq!(province_alias(&name_key("TPHCM")), Some("ho chi minh"));
        assert_eq!(province_alias(&name_key("Sài Gòn")), Some("ho chi minh"));
        assert_eq!(province_alias(&name_key("HN")), Some("ha noi"));
        assert_eq!(province_alias(&name_key("Thừa Thiên Huế")), Some("hue"));
        assert_eq!(province_alias("ha noi"), None);
    }
}
