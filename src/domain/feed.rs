//! The event feed's values: the cursor a consumer keeps, and the topics a webhook
//! subscription asks for.
//!
//! A position in the feed is (transaction, event id): on PostgreSQL the id of the
//! transaction that wrote the event, on SQLite always 0 (one writer at a time, so ids are
//! taken in commit order). It travels as text, `"{txid}-{id}"`, or `"0"` for the start;
//! consumers keep it as given and send it back.

use std::fmt;

use crate::domain::dossier::EventKind;
use crate::domain::lifecycle::Action;
use crate::domain::sla::SlaState;

/// A position in the feed: everything at or before it has been read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cursor {
    pub txid: i64,
    pub id: i64,
}

impl Cursor {
    /// The start of the feed.
    pub const START: Cursor = Cursor { txid: 0, id: 0 };

    /// `"0"` (the start), `"{txid}-{id}"`, or a bare id (`"{id}"`, transaction 0).
    pub fn parse(raw: &str) -> Option<Cursor> {
        let raw = raw.trim();
        let number = |s: &str| {
            (!s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<i64>().ok())
                .flatten()
        };
        match raw.split_once('-') {
            Some((t, i)) => Some(Cursor {
                txid: number(t)?,
                id: number(i)?,
            }),
            None => Some(Cursor {
                txid: 0,
                id: number(raw)?,
            }),
        }
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Cursor::START {
            f.write_str("0")
        } else {
            write!(f, "{}-{}", self.txid, self.id)
        }
    }
}

/// Every event name a dossier's history can hold (the feed's `type`).
pub fn event_types() -> Vec<&'static str> {
    let mut kinds = vec![
        EventKind::Submitted,
        EventKind::ReceivedAtCounter,
        EventKind::Sla {
            from: SlaState::OnTrack,
            to: SlaState::AtRisk,
        },
        EventKind::Sla {
            from: SlaState::AtRisk,
            to: SlaState::Overdue,
        },
        EventKind::DeadlineRecomputed,
        EventKind::TrackingBlocked,
        EventKind::DocumentAttached,
        EventKind::PartOpened,
        EventKind::PartDecided,
        EventKind::ClosedWithBundle,
        EventKind::Rated,
    ];
    kinds.extend(Action::ALL.into_iter().map(EventKind::Action));
    let mut names: Vec<&'static str> = kinds.into_iter().map(EventKind::as_str).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The event types a subscription delivers: `*` for all, or a list of names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topics {
    All,
    Only(Vec<String>),
}

/// A topic that is not an event type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTopic(pub String);

impl Topics {
    /// Checked against [`event_types`]; `["*"]` or an empty list means all.
    pub fn parse(list: &[String]) -> Result<Topics, UnknownTopic> {
        if list.is_empty() || list.iter().any(|t| t == "*") {
            return Ok(Topics::All);
        }
        let known = event_types();
        let mut out = Vec::with_capacity(list.len());
        for t in list {
            let t = t.trim();
            if !known.contains(&t) {
                return Err(UnknownTopic(t.to_string()));
            }
            if !out.iter().any(|o| o == t) {
                out.push(t.to_string());
            }
        }
        Ok(Topics::Only(out))
    }

    pub fn matches(&self, event_type: &str) -> bool {
        match self {
            Topics::All => true,
            Topics::Only(list) => list.iter().any(|t| t == event_type),
        }
    }

    /// As stored and shown.
    pub fn to_list(&self) -> Vec<String> {
        match self {
            Topics::All => vec!["*".to_string()],
            Topics::Only(list) => list.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_order() {
        assert_eq!(Cursor::parse("0"), Some(Cursor::START));
        assert_eq!(Cursor::START.to_string(), "0");
        let c = Cursor { txid: 812, id: 40 };
        assert_eq!(c.to_string(), "812-40");
        assert_eq!(Cursor::parse("812-40"), Some(c));
        assert_eq!(Cursor::parse("17"), Some(Cursor { txid: 0, id: 17 }));
        // Transaction first: a later transaction's smaller id comes after.
        assert!(Cursor { txid: 813, id: 39 } > c);
        for bad in [
            "",
            "-",
            "a-1",
            "1-",
            "-1",
            "1-2-3",
            "99999999999999999999",
            "+1",
            " 1 2",
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn topics_are_event_types() {
        assert_eq!(Topics::parse(&[]), Ok(Topics::All));
        assert_eq!(Topics::parse(&["*".into()]), Ok(Topics::All));
        let t = Topics::parse(&["receive".into(), "sla_overdue".into(), "receive".into()]).unwrap();
        assert_eq!(t.to_list(), vec!["receive", "sla_overdue"]);
        assert!(t.matches("receive") && !t.matches("submit"));
        assert_eq!(
            Topics::parse(&["case.received".into()]),
            Err(UnknownTopic("case.received".into()))
        );
        let all = event_types();
        for name in [
            "submit",
            "receive",
            "sla_at_risk",
            "sla_overdue",
            "return_result",
            "feedback",
        ] {
            assert!(all.contains(&name), "{name}");
        }
    }
}
