//! The Open311 GeoReport v2 facade at `/open311/v2/`: `discovery`, `services`,
//! `services/{code}`, `requests` (GET and a form POST with `api_key`), `requests/{id}` and
//! `tokens/{token}`, each as `.json` or `.xml`. Errors are the spec's (`[{code,
//! description}]` or `<errors>`), never problem documents: `problem_details` leaves any
//! response of this prefix to this module (`is_open311`).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::services::open311::{self as svc, Filters, NewRequest, Open311Error};
use crate::state::AppState;

pub const PREFIX: &str = "/open311/";

pub fn is_open311(path: &str) -> bool {
    path.starts_with(PREFIX)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", get(top).post(post_requests))
        .route("/open311/v2/services/{file}", get(service_definition))
        .route("/open311/v2/requests/{file}", get(one_request))
        .route("/open311/v2/tokens/{file}", get(token))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

/// `name.json` / `name.xml` → (name, format).
fn split_format(file: &str) -> Option<(&str, Format)> {
    if let Some(n) = file.strip_suffix(".json") {
        Some((n, Format::Json))
    } else {
        file.strip_suffix(".xml").map(|n| (n, Format::Xml))
    }
}

/// Marks a response written by this module (`problem_details` leaves it alone).
#[derive(Clone, Copy)]
pub struct Written;

fn respond(format: Format, status: StatusCode, json_body: Value, xml_body: String) -> Response {
    let mut r = match format {
        Format::Json => (
            status,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            json_body.to_string(),
        )
            .into_response(),
        Format::Xml => (
            status,
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            xml_body,
        )
            .into_response(),
    };
    r.extensions_mut().insert(Written);
    r
}

/// An error in the spec's format.
pub fn error(format_json: bool, e: &Open311Error) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let json_body = json!([{"code": e.status, "description": e.description}]);
    let xml = xml_doc(|w| {
        element(w, "errors", |w| {
            element(w, "error", |w| {
                text_el(w, "code", &e.status.to_string());
                text_el(w, "description", &e.description);
            });
        });
    });
    respond(
        if format_json {
            Format::Json
        } else {
            Format::Xml
        },
        status,
        json_body,
        xml,
    )
}

fn fail(format: Format, e: Open311Error) -> Response {
    error(format == Format::Json, &e)
}

fn unknown(file: &str) -> Response {
    error(
        !file.ends_with(".xml"),
        &Open311Error::new(404, "not a GeoReport v2 resource: add .json or .xml"),
    )
}

// --- XML

fn xml_doc(f: impl FnOnce(&mut Writer<Vec<u8>>)) -> String {
    let mut w = Writer::new(Vec::new());
    let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)));
    f(&mut w);
    String::from_utf8(w.into_inner()).unwrap_or_default()
}

fn element(w: &mut Writer<Vec<u8>>, name: &str, inner: impl FnOnce(&mut Writer<Vec<u8>>)) {
    let _ = w.write_event(Event::Start(BytesStart::new(name)));
    inner(w);
    let _ = w.write_event(Event::End(BytesEnd::new(name)));
}

fn text_el(w: &mut Writer<Vec<u8>>, name: &str, text: &str) {
    element(w, name, |w| {
        let _ = w.write_event(Event::Text(BytesText::new(text)));
    });
}

/// A JSON object's scalar members as elements (null: empty element).
fn object_el(w: &mut Writer<Vec<u8>>, name: &str, v: &Value) {
    element(w, name, |w| {
        if let Value::Object(m) = v {
            for (k, val) in m {
                match val {
                    Value::Null => text_el(w, k, ""),
                    Value::String(s) => text_el(w, k, s),
                    Value::Array(items) => element(w, &format!("{k}s"), |w| {
                        for it in items {
                            object_el(w, k, it);
                        }
                    }),
                    Value::Object(_) => object_el(w, k, val),
                    other => text_el(w, k, &other.to_string()),
                }
            }
        }
    });
}

fn list_doc(root: &str, item: &str, items: &[Value]) -> String {
    xml_doc(|w| {
        element(w, root, |w| {
            for it in items {
                object_el(w, item, it);
            }
        })
    })
}

// --- Handlers

#[derive(Debug, Deserialize, Default)]
struct RequestsQuery {
    service_request_id: Option<String>,
    service_code: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    status: Option<String>,
}

async fn top(
    State(state): State<AppState>,
    Path(file): Path<String>,
    q: Result<Query<RequestsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Some((name, format)) = split_format(&file) else {
        return unknown(&file);
    };
    match name {
        "discovery" => discovery(&state, format),
        "services" => {
            let list: Vec<Value> = svc::services(&state.catalog(), Utc::now())
                .into_iter()
                .map(|s| serde_json::to_value(s).unwrap_or_default())
                .collect();
            let xml = list_doc("services", "service", &list);
            respond(format, StatusCode::OK, Value::Array(list), xml)
        }
        "requests" => {
            let Ok(Query(q)) = q else {
                return fail(
                    format,
                    Open311Error::new(400, "the query string is not valid"),
                );
            };
            let f = Filters {
                service_request_id: q.service_request_id,
                service_code: q.service_code,
                start_date: q.start_date,
                end_date: q.end_date,
                status: q.status,
            };
            match svc::requests(
                state.read_db(),
                &state.catalog(),
                &state.directory(),
                &f,
                Utc::now(),
            )
            .await
            {
                Ok(list) => {
                    let list: Vec<Value> = list
                        .into_iter()
                        .map(|r| serde_json::to_value(r).unwrap_or_default())
                        .collect();
                    let xml = list_doc("service_requests", "request", &list);
                    respond(format, StatusCode::OK, Value::Array(list), xml)
                }
                Err(e) => fail(format, e),
            }
        }
        _ => unknown(&file),
    }
}

fn discovery(state: &AppState, format: Format) -> Response {
    let base = state
        .settings
        .web
        .public_url
        .trim_end_matches('/')
        .to_string();
    let v = json!({
        "changeset": "2026-12-04T00:00:00+07:00",
        "contact": state.settings.open311.contact,
        "key_service": "API keys are issued by the administrators of this one-stop shop.",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": format!("{base}/open311/v2"),
            "changeset": "2026-12-04T00:00:00+07:00",
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    });
    let xml = xml_doc(|w| {
        element(w, "discovery", |w| {
            text_el(w, "changeset", v["changeset"].as_str().unwrap_or_default());
            text_el(w, "contact", v["contact"].as_str().unwrap_or_default());
            text_el(
                w,
                "key_service",
                v["key_service"].as_str().unwrap_or_default(),
            );
            element(w, "endpoints", |w| {
                element(w, "endpoint", |w| {
                    let e = &v["endpoints"][0];
                    for k in ["specification", "url", "changeset", "type"] {
                        text_el(w, k, e[k].as_str().unwrap_or_default());
                    }
                    element(w, "formats", |w| {
                        text_el(w, "format", "application/json");
                        text_el(w, "format", "text/xml");
                    });
                });
            });
        });
    });
    respond(format, StatusCode::OK, v, xml)
}

async fn service_definition(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((code, format)) = split_format(&file) else {
        return unknown(&file);
    };
    match svc::definition(&state.catalog(), code, Utc::now()) {
        Ok((code, attrs)) => {
            let attrs: Vec<Value> = attrs
                .into_iter()
                .map(|a| serde_json::to_value(a).unwrap_or_default())
                .collect();
            let v = json!({"service_code": code, "attributes": attrs});
            let xml = xml_doc(|w| {
                element(w, "service_definition", |w| {
                    text_el(w, "service_code", &code);
                    element(w, "attributes", |w| {
                        for a in &attrs {
                            object_el(w, "attribute", a);
                        }
                    });
                });
            });
            respond(format, StatusCode::OK, v, xml)
        }
        Err(e) => fail(format, e),
    }
}

/// `requests/{id}` and `tokens/{token}`: one request filed through the facade, shown
/// whole or as its id and token (a request is filed at once, so its token is its id).
async fn one(state: &AppState, file: &str, token_only: bool) -> Response {
    let Some((code, format)) = split_format(file) else {
        return unknown(file);
    };
    match svc::request(
        state.read_db(),
        &state.catalog(),
        &state.directory(),
        code,
        Utc::now(),
    )
    .await
    {
        Ok(r) => {
            let v = if token_only {
                json!({"service_request_id": r.service_request_id, "token": r.token})
            } else {
                serde_json::to_value(r).unwrap_or_default()
            };
            let xml = list_doc("service_requests", "request", std::slice::from_ref(&v));
            respond(format, StatusCode::OK, Value::Array(vec![v]), xml)
        }
        Err(e) => fail(format, e),
    }
}

async fn one_request(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    one(&state, &file, false).await
}

async fn token(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    one(&state, &file, true).await
}

async fn post_requests(
    State(state): State<AppState>,
    Path(file): Path<String>,
    body: Bytes,
) -> Response {
    let Some(("requests", format)) = split_format(&file) else {
        return error(
            !file.ends_with(".xml"),
            &Open311Error::new(405, "only requests.json and requests.xml take a POST"),
        );
    };
    let mut r = NewRequest::default();
    let mut api_key = None;
    for (k, v) in url::form_urlencoded::parse(&body) {
        let v = v.into_owned();
        match k.as_ref() {
            "api_key" => api_key = Some(v),
            "service_code" => r.service_code = Some(v),
            "address_string" => r.address_string = Some(v),
            "address_id" => r.address_id = Some(v),
            "lat" => r.lat = Some(v),
            "long" => r.long = Some(v),
            "first_name" => r.first_name = Some(v),
            "last_name" => r.last_name = Some(v),
            "email" => r.email = Some(v),
            "phone" => r.phone = Some(v),
            "description" => r.description = Some(v),
            other => {
                if let Some(code) = other
                    .strip_prefix("attribute[")
                    .and_then(|s| s.strip_suffix(']'))
                {
                    if r.attributes.len() < 64 && code.len() <= 64 {
                        r.attributes
                            .push((code.to_string(), v.chars().take(2000).collect()));
                    }
                }
            }
        }
    }
    let now = Utc::now();
    let client = match svc::authenticate(
        &state.db,
        &state.open311_throttle,
        api_key.as_deref(),
        now,
    )
    .await
    {
        Ok(c) => c,
        Err(e) => return fail(format, e),
    };
    match svc::submit(&state.dossiers(), &client, r).await {
        Ok(s) => {
            tracing::info!(case.code = %s.service_request_id, open311.key = %client.key_id, "open311 request filed");
            let v = serde_json::to_value(&s).unwrap_or_default();
            let xml = list_doc("service_requests", "request", std::slice::from_ref(&v));
            respond(format, StatusCode::CREATED, Value::Array(vec![v]), xml)
        }
        Err(e) => fail(format, e),
    }
}
