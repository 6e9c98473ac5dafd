//! Telling applicants: an e-mail (SMTP, `notify.smtp_url`) and an SMS (an HTTP gateway,
//! `notify.sms_url`) at the address and number on the dossier, when it is received, when
//! something is to be completed, when a payment is asked, when the result is ready, and of an
//! apology with a new date (`domain::tell`).
//!
//! Like the national adapter, it follows the dossiers' events (its position in
//! `feed_consumers`), which are written in each change's own transaction: `collect` makes one
//! `notifications` row per step and channel (once, by its unique key), `send_due` leases due
//! rows and sends them with retries; each row is the delivery status shown on the dossier.
//! A mail server or gateway that is down or slow never touches a dossier action. Its first
//! round starts at the end of the feed (no messages about steps taken before it ran).

use chrono::{DateTime, Duration, Utc};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sea_orm::{DatabaseConnection, DbErr};
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::config::NotifySettings;
use crate::db;
use crate::domain::dossier::Dossier;
use crate::domain::tell::{self, Facts, Kind, Lines};
use crate::error::ApiResult;
use crate::repo;
use crate::security::data_key::DataKeys;

/// The consumer's name in `feed_consumers`.
pub const CONSUMER: &str = "applicants";
const LEASE_SECS: i64 = 120;
const EVENTS_PER_ROUND: u64 = 500;
const MESSAGES_PER_ROUND: u64 = 64;

#[derive(askama::Template)]
#[template(path = "mail/message.txt")]
struct TextMail<'a> {
    applicant: &'a str,
    unit: &'a str,
    code: &'a str,
    lines: &'a Lines,
}

#[derive(askama::Template)]
#[template(path = "mail/message.html")]
struct HtmlMail<'a> {
    applicant: &'a str,
    unit: &'a str,
    code: &'a str,
    lines: &'a Lines,
}

/// A message as it goes out: subject, plain text and HTML.
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub fn render(kind: Kind, f: &Facts) -> Rendered {
    use askama::Template;
    let lines = tell::compose(kind, f);
    let text = TextMail {
        applicant: &f.applicant,
        unit: &f.unit,
        code: &f.code,
        lines: &lines,
    }
    .render()
    .unwrap_or_default();
    let html = HtmlMail {
        applicant: &f.applicant,
        unit: &f.unit,
        code: &f.code,
        lines: &lines,
    }
    .render()
    .unwrap_or_default();
    Rendered {
        subject: format!("{} / {}", lines.subject_vi, lines.subject_en),
        text,
        html,
    }
}

/// Where messages go: the mail server and the SMS gateway, as configured.
pub struct Senders {
    mailer: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Option<Mailbox>,
    sms_url: Option<String>,
    sms_header: Option<(String, String)>,
    http: reqwest::Client,
}

/// The configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("notify.{0}")]
pub struct BadSetting(pub String);

impl Senders {
    pub fn from_settings(s: &NotifySettings) -> Result<Senders, BadSetting> {
        let timeout = std::time::Duration::from_secs(s.timeout_secs.max(1));
        let url = s.smtp_url.expose_secret().trim();
        let mailer = if url.is_empty() {
            None
        } else {
            let u =
                reqwest::Url::parse(url).map_err(|_| BadSetting("smtp_url is not a URL".into()))?;
            let host = u
                .host_str()
                .ok_or_else(|| BadSetting("smtp_url has no host".into()))?
                .to_string();
            let mut tls = TlsParameters::builder(host.clone());
            let ca_file = s.smtp_ca_file.trim();
            if !ca_file.is_empty() {
                let pem = std::fs::read(ca_file)
                    .map_err(|e| BadSetting(format!("smtp_ca_file {ca_file}: {e}")))?;
                let ca = Certificate::from_pem(&pem)
                    .map_err(|e| BadSetting(format!("smtp_ca_file {ca_file}: {e}")))?;
                tls = tls.add_root_certificate(ca);
            }
            let tls = tls
                .build()
                .map_err(|e| BadSetting(format!("smtp_url: {e}")))?;
            let (tls, default_port) = match u.scheme() {
                // STARTTLS when the server offers it.
                "smtp" => (Tls::Opportunistic(tls), 25),
                "smtps" => (Tls::Wrapper(tls), 465),
                _ => return Err(BadSetting("smtp_url must be smtp:// or smtps://".into())),
            };
            let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                .port(u.port().unwrap_or(default_port))
                .tls(tls)
                .timeout(Some(timeout));
            if !u.username().is_empty() {
                let user = percent_decode(u.username());
                let password = percent_decode(u.password().unwrap_or(""));
                b = b.credentials(Credentials::new(user, password));
            }
            Some(b.build())
        };
        let from = match mailer {
            Some(_) => Some(
                s.email_from
                    .parse::<Mailbox>()
                    .map_err(|_| BadSetting("email_from is not an address".into()))?,
            ),
            None => None,
        };
        let sms_url = Some(s.sms_url.trim().to_string()).filter(|u| !u.is_empty());
        let header = s.sms_auth_header.expose_secret().trim().to_string();
        let sms_header = if header.is_empty() {
            None
        } else {
            let (name, value) = header
                .split_once(':')
                .ok_or_else(|| BadSetting("sms_auth_header must be `Name: value`".into()))?;
            Some((name.trim().to_string(), value.trim().to_string()))
        };
        Ok(Senders {
            mailer,
            from,
            sms_url,
            sms_header,
            http: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .unwrap_or_default(),
        })
    }

    /// The channels configured.
    pub fn channels(&self) -> Vec<&'static str> {
        let mut c = Vec::new();
        if self.mailer.is_some() {
            c.push("email");
        }
        if self.sms_url.is_some() {
            c.push("sms");
        }
        c
    }

    async fn email(&self, to: &str, m: &Rendered) -> Result<(), String> {
        let (Some(mailer), Some(from)) = (&self.mailer, &self.from) else {
            return Err("e-mail is not configured".into());
        };
        let to: Mailbox = to
            .parse()
            .map_err(|_| "the address on the dossier is not valid".to_string())?;
        let message = lettre::Message::builder()
            .from(from.clone())
            .to(to)
            .subject(m.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                m.text.clone(),
                m.html.clone(),
            ))
            .map_err(|e| e.to_string())?;
        mailer
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("the mail server: {e}").chars().take(300).collect())
    }

    async fn sms(&self, phone: &str, text: &str) -> Result<(), String> {
        let Some(url) = &self.sms_url else {
            return Err("SMS is not configured".into());
        };
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let url = url
            .replace("{phone}", &enc(phone))
            .replace("{text}", &enc(text));
        let mut req = self.http.post(url);
        if let Some((name, value)) = &self.sms_header {
            req = req.header(name.as_str(), value.as_str());
        }
        match req.send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("the SMS gateway answered {}", r.status())),
            Err(e) if e.is_timeout() => Err("the SMS gateway did not answer in time".into()),
            Err(_) => Err("the SMS gateway could not be reached".into()),
        }
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Turn the steps written since the last round into messages; how many events were read.
/// The events and dossiers are read before the write transaction (on SQLite, so as not to
/// hold the writer's turn while reading); the position is checked again under lock, and a
/// round that another instance overtook writes nothing.
pub async fn collect(
    db: &DatabaseConnection,
    channels: &[&str],
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    // The first round starts at the feed's end: switching e-mail on for a running system
    // tells applicants of steps from then on, not of every step ever taken.
    let Some(start) = repo::national::consumer_position_if_any(db, CONSUMER).await? else {
        let end = repo::feed::last(db).await?;
        let txn = db::begin_write_unflushed(db).await?;
        if repo::national::consumer_position_if_any(&txn, CONSUMER)
            .await?
            .is_none()
        {
            repo::national::set_consumer_position(&txn, CONSUMER, end, now).await?;
        }
        txn.commit().await?;
        return Ok(0);
    };
    let rows = repo::feed::after(db, start.0, start.1, None, EVENTS_PER_ROUND).await?;
    let Some(last) = rows.last() else {
        return Ok(0);
    };
    let end = (last.txid, last.id);
    let mut wanted: Vec<(i64, String, i32, Kind, &str)> = Vec::new();
    let told: Vec<(&repo::feed::FeedRow, Kind)> = rows
        .iter()
        .filter(|r| r.public && !channels.is_empty())
        .filter_map(|r| Some((r, Kind::of(&r.action, &r.to_status)?)))
        .collect();
    // Only to what the dossier carries: whether it has an address or a number, read for the
    // whole round at once, the values themselves left sealed (they are opened to send).
    let codes: Vec<&str> = told.iter().map(|(r, _)| r.case_code.as_str()).collect();
    let reach = repo::dossiers::reach_of(db, &codes).await?;
    for (r, kind) in told {
        let Some(d) = reach.get(&r.case_code) else {
            continue;
        };
        // A bundle's part tells through its bundle.
        if d.in_bundle && kind == Kind::ResultReady {
            continue;
        }
        for channel in channels {
            let has = match *channel {
                "email" => d.email,
                _ => d.phone,
            };
            if has {
                wanted.push((r.case_id, r.case_code.clone(), r.seq, kind, channel));
            }
        }
    }
    // The messages wanted and the feed position, derived from the feed: a crash that loses
    // them makes the next round collect the same again (`db::begin_write_unflushed`). The
    // record of a message sent is flushed (`record`), and with it everything before it.
    let txn = db::begin_write_unflushed(db).await?;
    if repo::national::consumer_position(&txn, CONSUMER).await? != start {
        txn.rollback().await?;
        return Ok(0);
    }
    for (case_id, code, seq, kind, channel) in &wanted {
        repo::notifications::want(&txn, *case_id, code, *seq, kind.as_str(), channel, now).await?;
    }
    repo::national::set_consumer_position(&txn, CONSUMER, end, now).await?;
    txn.commit().await?;
    Ok(rows.len())
}

/// What a sending round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TellReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

async fn facts(
    db: &DatabaseConnection,
    d: &Dossier,
    seq: i32,
    public_url: &str,
) -> ApiResult<Facts> {
    let spec = crate::services::cases::pinned_spec(db, d).await?;
    let unit = repo::units::find(db, d.current_unit().as_str())
        .await?
        .map_or_else(|| d.current_unit().to_string(), |u| u.name);
    let event = repo::events::list(db, d.id, true)
        .await?
        .into_iter()
        .find(|e| e.seq == seq);
    let data = event.as_ref().map(|e| e.data.clone()).unwrap_or_default();
    let components = data
        .get("components")
        .and_then(|c| c.as_array())
        .map(|c| {
            c.iter()
                .filter_map(|k| k.as_str())
                .map(|k| {
                    spec.required_documents
                        .iter()
                        .find(|r| r.kind == k)
                        .map_or_else(|| k.to_string(), |r| r.name_vi.clone())
                })
                .collect()
        })
        .unwrap_or_default();
    let amount = data
        .get("amount_vnd")
        .and_then(|a| a.as_i64())
        .or(d.payment_due_vnd);
    let tracking_url = Some(public_url.trim_end_matches('/'))
        .filter(|u| !u.is_empty())
        .map(|u| format!("{u}/track?code={}", d.code_str()));
    Ok(Facts {
        code: d.code_str().to_string(),
        procedure: spec.name_vi.clone(),
        applicant: d.applicant.full_name.clone(),
        unit,
        appointment: d.appointment_at.or(d.due_at),
        reason: event.and_then(|e| e.reason),
        components,
        amount_vnd: amount,
        tracking_url,
    })
}

/// Send the due messages (up to four at once). Each is recorded as soon as it has gone: an
/// e-mail has no idempotency key, so the window in which a crash (or a lease that ran out)
/// sends it again is kept to the instant between the server's acceptance and that record.
pub async fn send_due(
    db: &DatabaseConnection,
    keys: &DataKeys,
    senders: &Senders,
    settings: &NotifySettings,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<TellReport, DbErr> {
    use futures::StreamExt;
    // The lease covers the whole round: MESSAGES_PER_ROUND at four at a time, each within
    // the delivery timeout, so no other instance takes a message this one is still to send.
    let waves = MESSAGES_PER_ROUND.div_ceil(CONCURRENCY as u64) as i64;
    let lease = LEASE_SECS.max(waves * settings.timeout_secs.max(1) as i64 + 60);
    let due = {
        // A lease a crash loses only lets the messages be taken again.
        let txn = db::begin_write_unflushed(db).await?;
        let due = repo::notifications::due(&txn, now, MESSAGES_PER_ROUND).await?;
        if !due.is_empty() {
            repo::notifications::lease(
                &txn,
                due.iter().map(|n| n.id),
                now + Duration::seconds(lease),
            )
            .await?;
        }
        txn.commit().await?;
        due
    };
    let outcomes: Vec<Result<Attempt, DbErr>> = futures::stream::iter(due)
        .map(|n| async move {
            let result = send_one(db, keys, senders, public_url, &n).await;
            record(db, settings, &n, result).await
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut report = TellReport::default();
    for o in outcomes {
        match o? {
            Attempt::Sent => report.sent += 1,
            Attempt::Failed => report.failed += 1,
            Attempt::Retried => report.retried += 1,
        }
    }
    Ok(report)
}

/// Messages sent at once.
const CONCURRENCY: usize = 4;

enum Attempt {
    Sent,
    Failed,
    Retried,
}

/// Record one message's attempt, in a write of its own.
async fn record(
    db: &DatabaseConnection,
    settings: &NotifySettings,
    n: &repo::notifications::Notification,
    result: Result<(), String>,
) -> Result<Attempt, DbErr> {
    let at = Utc::now();
    let attempts = n.attempts + 1;
    let txn = db::begin_write(db).await?;
    let outcome = match result {
        Ok(()) => {
            repo::notifications::record(&txn, n.id, "sent", attempts, None, None, Some(at)).await?;
            Attempt::Sent
        }
        Err(e) => {
            tracing::warn!(case.code = %n.case_code, notification.channel = %n.channel, notification.attempts = attempts, error = %e, "telling the applicant failed");
            if attempts >= settings.max_attempts {
                repo::notifications::record(&txn, n.id, "failed", attempts, Some(&e), None, None)
                    .await?;
                Attempt::Failed
            } else {
                let retry = at + crate::services::notify::backoff(attempts);
                repo::notifications::record(
                    &txn,
                    n.id,
                    "pending",
                    attempts,
                    Some(&e),
                    Some(retry),
                    None,
                )
                .await?;
                Attempt::Retried
            }
        }
    };
    txn.commit().await?;
    Ok(outcome)
}

async fn send_one(
    db: &DatabaseConnection,
    keys: &DataKeys,
    senders: &Senders,
    public_url: &str,
    n: &repo::notifications::Notification,
) -> Result<(), String> {
    let kind = Kind::parse(&n.kind).ok_or("an unknown kind of message")?;
    let d = repo::dossiers::find(db, keys, &n.case_code)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the dossier is gone")?;
    let f = facts(db, &d, n.event_seq, public_url)
        .await
        .map_err(|e| e.to_string())?;
    match n.channel.as_str() {
        "email" => {
            let to = d
                .applicant
                .email
                .as_ref()
                .ok_or("the dossier has no e-mail address")?;
            senders.email(to.as_str(), &render(kind, &f)).await
        }
        "sms" => {
            let phone = d
                .applicant
                .phone
                .as_ref()
                .ok_or("the dossier has no phone number")?;
            senders.sms(phone.as_str(), &tell::sms(kind, &f)).await
        }
        other => Err(format!("an unknown channel {other}")),
    }
}

/// One round: collect new steps, then send what is due.
pub async fn tell_once(
    db: &DatabaseConnection,
    keys: &DataKeys,
    senders: &Senders,
    settings: &NotifySettings,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<TellReport, DbErr> {
    let channels = senders.channels();
    while collect(db, &channels, now).await? as u64 == EVENTS_PER_ROUND {}
    send_due(db, keys, senders, settings, public_url, now).await
}

/// A message as the dossier shows it (no address: those are on the dossier).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MessageStatus {
    /// received, supplement_requested, payment_requested, result_ready, apology
    pub kind: String,
    /// email or sms
    pub channel: String,
    /// pending, sent or failed
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub async fn of_case(db: &DatabaseConnection, case_id: i64) -> ApiResult<Vec<MessageStatus>> {
    Ok(repo::notifications::of_case(db, case_id)
        .await?
        .into_iter()
        .map(|n| MessageStatus {
            kind: n.kind,
            channel: n.channel,
            status: n.status,
            attempts: n.attempts,
            last_error: n.last_error,
            sent_at: n.sent_at,
            next_attempt_at: n.next_attempt_at,
            created_at: n.created_at,
        })
        .collect())
}
