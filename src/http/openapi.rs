//! The OpenAPI 3.1 document, generated from the handlers' annotations, and its UI.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::OpenApi;
use utoipa_scalar::{Scalar, Servable};

use crate::error::{FieldErrorDocument, ProblemDocument};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "motcua",
        description = "One-stop-shop dossier routing for Vietnam's two-tier local government. \
            Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code`; \
            messages are in Vietnamese, or English with `Accept-Language: en`.",
        license(name = "Apache-2.0")
    ),
    components(schemas(ProblemDocument, FieldErrorDocument)),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Registration, login and tokens"),
        (name = "users", description = "Account administration"),
        (name = "geography", description = "Provinces and wards of 2025, pre-2025 wards, address resolution"),
        (name = "units", description = "Units (agencies)"),
        (name = "procedures", description = "The versioned procedure catalog"),
        (name = "routing", description = "Which unit handles a dossier; routing overrides"),
        (name = "cases", description = "Dossiers: intake, actions, events, queues, tracking"),
        (name = "calendar", description = "The civil-service working calendar and deadlines"),
        (name = "stats", description = "Backlogs, indicators, bottlenecks"),
    )
)]
struct ApiDoc;

/// The hand-written part of the document; paths are added by the routers.
pub fn base() -> OpenApiDoc {
    ApiDoc::openapi()
}

/// Add the bearer security scheme.
pub fn finish(mut doc: OpenApiDoc) -> OpenApiDoc {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    doc
}

/// `GET /api-docs/openapi.json` and the interactive UI at `/docs`.
pub fn docs_router<S: Clone + Send + Sync + 'static>(doc: OpenApiDoc) -> Router<S> {
    let json = doc.clone();
    Router::new()
        .route(
            "/api-docs/openapi.json",
            get(move || async move { Json(json) }),
        )
        .merge(Scalar::with_url("/docs", doc))
}
