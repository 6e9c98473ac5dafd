//! Extractors that turn every rejection into our problem documents, and the caller's
//! identity.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::config::{ForwardedHeader, TrustedProxies};
use crate::domain::access::Actor;
use crate::domain::lang::Lang;
use crate::error::{ApiError, FieldError};
use crate::messages::from_validator;
use crate::state::AppState;
use crate::text;

/// JSON body: parsed, then validated with `validator`. Malformed JSON, a wrong content type,
/// an oversized body or a field of the wrong type all become problem documents.
/// Also a JSON response.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + validator::Validate,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => {
                value
                    .validate()
                    .map_err(|e| ApiError::validation(from_validator(&e)))?;
                Ok(ApiJson(value))
            }
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

impl<S, T> axum::extract::OptionalFromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + validator::Validate,
{
    type Rejection = ApiError;

    /// No `Content-Type` means no body: `None` (e.g. an action whose version is in `If-Match`).
    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        if req.headers().get(header::CONTENT_TYPE).is_none() {
            return Ok(None);
        }
        <ApiJson<T> as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

/// A JSON body kept as a value (when the raw body matters, e.g. for idempotency hashes).
#[derive(Debug, Clone)]
pub struct RawJson(pub serde_json::Value);

impl<S: Send + Sync> FromRequest<S> for RawJson {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Json::<serde_json::Value>::from_request(req, state)
            .await
            .map(|axum::Json(v)| RawJson(v))
            .map_err(json_rejection)
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            text!(
                "Nội dung phải là JSON với Content-Type: application/json.",
                "The body must be JSON sent with Content-Type: application/json."
            ),
        ),
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
            "malformed_json",
            text!(
                format!("Nội dung JSON sai cú pháp: {}", e.body_text()),
                format!("The JSON body is malformed: {}", e.body_text())
            ),
        ),
        JsonRejection::JsonDataError(e) => {
            let detail = e.body_text();
            ApiError::validation(vec![FieldError::new(
                field_of_serde_error(&detail),
                "invalid_body",
                text!(
                    format!("Nội dung không đúng cấu trúc: {detail}"),
                    format!("The body does not have the expected shape: {detail}")
                ),
            )])
        }
        JsonRejection::BytesRejection(e) => {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    text!(
                        "Nội dung gửi lên vượt quá giới hạn cho phép.",
                        "The request body is larger than allowed."
                    ),
                )
            } else {
                ApiError::bad_request(
                    "unreadable_body",
                    text!(
                        "Không đọc được nội dung gửi lên.",
                        "The request body could not be read."
                    ),
                )
            }
        }
        other => ApiError::bad_request(
            "invalid_body",
            text!(
                format!("Nội dung không hợp lệ: {}", other.body_text()),
                format!("Invalid body: {}", other.body_text())
            ),
        ),
    }
}

/// serde_path_to_error (used by axum) prefixes the message with the field path, `a.b: ...`.
fn field_of_serde_error(detail: &str) -> String {
    let msg = detail
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(detail);
    match msg.split_once(": ") {
        Some((path, _)) if !path.contains(' ') => path.to_string(),
        _ => "body".to_string(),
    }
}

/// Query string, with problem documents for bad parameters.
#[derive(Debug, Clone, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned + validator::Validate,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) =
            Query::<T>::from_request_parts(parts, state)
                .await
                .map_err(|e: QueryRejection| {
                    let detail = e.body_text();
                    ApiError::validation(vec![FieldError::new(
                        "query",
                        "invalid_query",
                        text!(
                            format!("Tham số truy vấn không hợp lệ: {detail}"),
                            format!("Invalid query parameters: {detail}")
                        ),
                    )])
                })?;
        value
            .validate()
            .map_err(|e| ApiError::validation(from_validator(&e)))?;
        Ok(ApiQuery(value))
    }
}

/// Path parameters, with problem documents for bad ones.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e: PathRejection| {
                ApiError::bad_request(
                    "invalid_path",
                    text!(
                        format!("Tham số đường dẫn không hợp lệ: {}", e.body_text()),
                        format!("Invalid path parameter: {}", e.body_text())
                    ),
                )
            })
    }
}

/// The authenticated caller. Missing or bad credentials give 401.
#[derive(Debug, Clone)]
pub struct Auth(pub Actor);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts)?.ok_or_else(|| {
            ApiError::unauthorized(
                "missing_token",
                text!(
                    "Cần đăng nhập: thiếu tiêu đề Authorization: Bearer.",
                    "Authentication required: missing Authorization: Bearer header."
                ),
            )
        })?;
        let actor = crate::services::auth::authenticate(&state.auth(), token).await?;
        tracing::Span::current().record("account.id", tracing::field::display(actor.account_id));
        Ok(Auth(actor))
    }
}

/// The caller if a valid token was given; `None` without one (a bad token is still 401).
#[derive(Debug, Clone)]
pub struct MaybeAuth(pub Option<Actor>);

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if bearer_token(parts)?.is_none() {
            return Ok(MaybeAuth(None));
        }
        let Auth(actor) = Auth::from_request_parts(parts, state).await?;
        Ok(MaybeAuth(Some(actor)))
    }
}

fn bearer_token(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let invalid = || {
        ApiError::unauthorized(
            "invalid_token",
            text!("Mã truy cập không hợp lệ.", "The access token is invalid."),
        )
    };
    let value = value.to_str().map_err(|_| invalid())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(invalid)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(invalid());
    }
    Ok(Some(token.trim()))
}

/// The caller's language.
#[derive(Debug, Clone, Copy)]
pub struct ClientLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for ClientLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientLang(super::middleware::lang_of(&parts.headers)))
    }
}

/// The client's address: the socket peer, or, when that peer is one of
/// `server.trusted_proxies`, the right-most address of `server.forwarded_header` that is not
/// itself a trusted proxy.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub Option<String>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let server = &state.settings.server;
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| {
                client_address(
                    addr.ip(),
                    &parts.headers,
                    &server.trusted_proxies,
                    server.forwarded_header,
                )
                .to_string()
            });
        Ok(ClientAddr(client))
    }
}

/// The client behind `peer`. Each proxy appends the address it received the request from,
/// so walking the chain from the right, the first address that is not a trusted proxy was
/// written by a trusted proxy and is the client; anything left of it the client may have
/// forged. A hop that cannot be read ends the walk at the proxy that wrote it; a chain of
/// nothing but trusted proxies gives its left-most.
pub fn client_address(
    peer: IpAddr,
    headers: &HeaderMap,
    proxies: &TrustedProxies,
    header: ForwardedHeader,
) -> IpAddr {
    let peer = peer.to_canonical();
    if !proxies.contains(&peer) {
        return peer;
    }
    let hops: Vec<Option<IpAddr>> = match header {
        ForwardedHeader::XForwardedFor => headers
            .get_all("x-forwarded-for")
            .iter()
            .flat_map(|v| match v.to_str() {
                Ok(v) => v.split(',').map(parse_hop).collect::<Vec<_>>(),
                Err(_) => vec![None],
            })
            .collect(),
        ForwardedHeader::Forwarded => headers
            .get_all(header::FORWARDED)
            .iter()
            .flat_map(|v| match v.to_str() {
                Ok(v) => v.split(',').map(forwarded_for).collect::<Vec<_>>(),
                Err(_) => vec![None],
            })
            .collect(),
    };
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = hop else {
            return client;
        };
        client = *ip;
        if !proxies.contains(ip) {
            return client;
        }
    }
    client
}

/// One `Forwarded` element's `for=` (`for=192.0.2.1`, `for="[2001:db8::1]:4711"`).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then(|| parse_hop(value))?
    })
}

/// An address as proxies write it: bare, with a port, IPv6 in brackets, maybe quoted.
fn parse_hop(raw: &str) -> Option<IpAddr> {
    let s = raw.trim().trim_matches('"');
    let ip = if let Some(rest) = s.strip_prefix('[') {
        rest.split_once(']')?.0.parse::<IpAddr>().ok()?
    } else {
        match s.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) => s.parse::<SocketAddr>().ok()?.ip(),
        }
    };
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(list.iter().copied()).unwrap()
    }

    fn client(peer: &str, name: &'static str, value: &str, trusted: &[&str]) -> String {
        let mut headers = HeaderMap::new();
        headers.insert(name, value.parse().unwrap());
        let header = if name == "forwarded" {
            ForwardedHeader::Forwarded
        } else {
            ForwardedHeader::XForwardedFor
        };
        client_address(peer.parse().unwrap(), &headers, &proxies(trusted), header).to_string()
    }

    #[test]
    fn forwarded_addresses_are_read_only_from_trusted_proxies() {
        let xff = "x-forwarded-for";
        // Not from a trusted proxy: the peer, whatever the header says.
        assert_eq!(client("192.0.2.1", xff, "203.0.113.9", &[]), "192.0.2.1");
        assert_eq!(
            client("192.0.2.1", xff, "203.0.113.9", &["10.0.0.0/8"]),
            "192.0.2.1"
        );
        // The right-most address that is not a proxy; forged left-most ones are skipped.
        let t = ["10.0.0.0/8", "192.0.2.1"];
        assert_eq!(client("10.0.0.1", xff, "203.0.113.9", &t), "203.0.113.9");
        assert_eq!(
            client("10.0.0.1", xff, "6.6.6.6, 203.0.113.9, 10.2.2.2", &t),
            "203.0.113.9"
        );
        assert_eq!(
            client("::ffff:10.0.0.1", xff, "203.0.113.9:5555", &t),
            "203.0.113.9"
        );
        assert_eq!(
            client("10.0.0.1", xff, "[2001:db8::1]:80", &t),
            "2001:db8::1"
        );
        // Unreadable hop: the proxy that wrote it. Only proxies: the left-most.
        assert_eq!(client("10.0.0.1", xff, "junk, 10.3.3.3", &t), "10.3.3.3");
        assert_eq!(
            client("10.0.0.1", xff, "10.4.4.4, 10.3.3.3", &t),
            "10.4.4.4"
        );
        // The other header is ignored (a client could send it through the proxy).
        let mut headers = HeaderMap::new();
        headers.insert("forwarded", "for=6.6.6.6".parse().unwrap());
        let peer = "10.0.0.1".parse().unwrap();
        let xff = ForwardedHeader::XForwardedFor;
        assert_eq!(
            client_address(peer, &headers, &proxies(&t), xff).to_string(),
            "10.0.0.1"
        );
    }

    #[test]
    fn the_forwarded_header_is_read_as_rfc_7239_says() {
        let t = ["10.0.0.0/8"];
        assert_eq!(
            client(
                "10.0.0.1",
                "forwarded",
                r#"for=6.6.6.6, for="[2001:db8::7]:4711";proto=https, by=10.0.0.1;for=10.9.9.9"#,
                &t
            ),
            "2001:db8::7"
        );
        assert_eq!(
            client("10.0.0.1", "forwarded", "for=_hidden, For=10.5.5.5", &t),
            "10.5.5.5"
        );
    }
}
