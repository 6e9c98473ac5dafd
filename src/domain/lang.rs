//! The two languages the service speaks.

use serde::{Deserialize, Serialize};

/// Vietnamese (default) or English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    /// Choose from an `Accept-Language` value: the highest-weighted of `vi` / `en`,
    /// Vietnamese when neither is asked for or on a tie.
    pub fn from_accept_language(value: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for item in value.split(',') {
            let mut parts = item.trim().split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            let lang = match primary {
                "vi" => Lang::Vi,
                "en" => Lang::En,
                _ => continue,
            };
            if q <= 0.0 {
                continue;
            }
            match best {
                Some((bq, bl)) if bq > q || (bq == q && bl == Lang::Vi) => {}
                _ => best = Some((q, lang)),
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn picks_by_weight() {
        assert_eq!(Lang::from_accept_language("en"), Lang::En);
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Lang::En);
        assert_eq!(
            Lang::from_accept_language("vi-VN,vi;q=0.9,en;q=0.8"),
            Lang::Vi
        );
        assert_eq!(Lang::from_accept_language("fr, en;q=0.5"), Lang::En);
        assert_eq!(Lang::from_accept_language("fr"), Lang::Vi);
        assert_eq!(Lang::from_accept_language("en;q=0, vi;q=0.1"), Lang::Vi);
        assert_eq!(Lang::from_accept_language(""), Lang::Vi);
    }
}
