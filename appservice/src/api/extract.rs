//! The request extractors of the REST API. Each refuses with a Matrix-style error
//! (`{"errcode", "error"}`) instead of axum's plain-text rejections, and authentication is an
//! extractor placed first in every handler, so a caller without a token hears 401 before
//! anything about their query or body.

use std::sync::Arc;

use axum::{
    extract::{FromRequest, FromRequestParts, Request, rejection::PathRejection},
    http::{StatusCode, request::Parts},
    response::IntoResponse,
};
use parvis_homeserver_bridge::{ClientError, MatrixErrorBody};
use serde::de::DeserializeOwned;

use super::{ApiState, SignedInUser, authenticate};
use crate::store::StoreError;

impl FromRequestParts<Arc<ApiState>> for SignedInUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ApiState>,
    ) -> Result<Self, Self::Rejection> {
        authenticate(state, &parts.headers).await
    }
}

/// Largest JSON body the REST API reads: a page's content is at most 48 KiB inline, and a
/// longer body (sent to the media repository) at most [`crate::events::MAX_BODY_BYTES`].
pub const MAX_JSON_BODY_BYTES: usize = crate::events::MAX_BODY_BYTES + 64 * 1024;

/// A JSON body, read whatever its `Content-Type` says (Matrix clients are not all careful about
/// it), refused with `M_NOT_JSON`, `M_BAD_JSON` or `M_TOO_LARGE`.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = MatrixErrorBody;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::to_bytes(request.into_body(), MAX_JSON_BODY_BYTES)
            .await
            .map_err(|_| {
                MatrixErrorBody::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "M_TOO_LARGE",
                    format!(
                        "the body is over {} KiB, or was cut off",
                        MAX_JSON_BODY_BYTES / 1024
                    ),
                )
            })?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| MatrixErrorBody::not_json(format!("the body is not JSON: {e}")))?;
        serde_json::from_value(value)
            .map(Self)
            .map_err(|e| MatrixErrorBody::bad_json(format!("the body does not fit: {e}")))
    }
}

/// Query parameters, refused with `400 M_INVALID_PARAM` naming the parameter.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = MatrixErrorBody;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|rejection| invalid_param(format!("invalid query: {}", rejection.body_text())))
    }
}

/// Path segments, refused with `400 M_INVALID_PARAM`.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = MatrixErrorBody;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection @ PathRejection::FailedToDeserializePathParams(_)) => Err(invalid_param(
                format!("invalid path: {}", rejection.body_text()),
            )),
            Err(rejection) => Err(MatrixErrorBody::internal(rejection.body_text())),
        }
    }
}

fn invalid_param(message: impl Into<String>) -> MatrixErrorBody {
    MatrixErrorBody::new(StatusCode::BAD_REQUEST, "M_INVALID_PARAM", message)
}

/// A failure on Parvis's side: the cause is logged with a reference, the caller gets the
/// reference and no internals (no SQL, no addresses).
pub fn internal_error(error: impl std::fmt::Display) -> MatrixErrorBody {
    let reference = parvis_config::random_token();
    let reference = reference.get(..12).unwrap_or(&reference);
    tracing::error!(%error, reference, "request failed");
    MatrixErrorBody::internal(format!(
        "Parvis could not complete this request (reference {reference}); try again, or give the reference to your administrator"
    ))
}

/// The answer when a request Parvis made to the homeserver failed: the homeserver's own
/// refusals are passed on (they are meant for the user), transport failures are logged and
/// answered without their details.
pub fn homeserver_error(what: &str, error: ClientError) -> MatrixErrorBody {
    match &error {
        ClientError::Matrix {
            status,
            kind,
            message,
        } => {
            if *status >= 500 {
                // A server error is the homeserver's own trouble: its message may hold its
                // internals (database, addresses), so it is logged, not passed on.
                let reference = parvis_config::random_token();
                let reference = reference.get(..12).unwrap_or(&reference);
                tracing::warn!(%error, reference, what, "homeserver failed");
                return MatrixErrorBody::new(
                    StatusCode::BAD_GATEWAY,
                    "ORG.PARVIS_HOMESERVER",
                    format!(
                        "the homeserver failed on the {what}; try again later (reference {reference})"
                    ),
                );
            }
            let status = match *status {
                403 => StatusCode::FORBIDDEN,
                404 => StatusCode::NOT_FOUND,
                413 => StatusCode::PAYLOAD_TOO_LARGE,
                400..=499 => StatusCode::BAD_REQUEST,
                _ => StatusCode::BAD_GATEWAY,
            };
            let errcode = if status == StatusCode::BAD_GATEWAY {
                "ORG.PARVIS_HOMESERVER".to_owned()
            } else {
                kind.errcode().to_string()
            };
            MatrixErrorBody::new(
                status,
                &errcode,
                format!("the homeserver refused the {what}: {message}"),
            )
        }
        ClientError::RateLimited { .. } => MatrixErrorBody::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "M_LIMIT_EXCEEDED",
            format!("the homeserver is busy; try the {what} again in a minute"),
        ),
        _ => {
            let reference = parvis_config::random_token();
            let reference = reference.get(..12).unwrap_or(&reference);
            tracing::warn!(%error, reference, what, "homeserver request failed");
            MatrixErrorBody::new(
                StatusCode::BAD_GATEWAY,
                "ORG.PARVIS_HOMESERVER",
                format!(
                    "the homeserver could not be reached for the {what}; try again later (reference {reference})"
                ),
            )
        }
    }
}

/// The answer to a path no route serves.
pub async fn unknown_route() -> MatrixErrorBody {
    MatrixErrorBody::new(
        StatusCode::NOT_FOUND,
        "M_UNRECOGNIZED",
        "Parvis serves no such path: see /api/v1/openapi.json",
    )
}

/// Turns axum's plain-text `405 Method Not Allowed` into a Matrix error.
pub async fn matrix_method_not_allowed(
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let response = next.run(request).await;
    if response.status() == StatusCode::METHOD_NOT_ALLOWED
        && !response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes().starts_with(b"application/json"))
    {
        return axum::response::IntoResponse::into_response(MatrixErrorBody::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "M_UNRECOGNIZED",
            "this path does not answer that method: see /api/v1/openapi.json",
        ));
    }
    response
}

/// The Matrix-style error body every failing call returns.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    /// Matrix error code, e.g. `M_FORBIDDEN`.
    errcode: String,
    /// What went wrong, for a person.
    error: String,
}

/// Every error an API handler answers: a Matrix-style `errcode` and a message for people.
/// Internal causes — database, homeserver, crypto — are logged with a reference the message
/// gives, never sent; a database that is busy or unreachable (a retry can cure it) is a 503.
#[derive(Debug)]
pub struct ApiError(MatrixErrorBody);

impl ApiError {
    /// The answer this error gives.
    pub fn body(&self) -> &MatrixErrorBody {
        &self.0
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        self.0.into_response()
    }
}

impl From<MatrixErrorBody> for ApiError {
    fn from(body: MatrixErrorBody) -> Self {
        Self(body)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if error.is_transient() {
            let reference = parvis_config::random_token();
            let reference = reference.get(..12).unwrap_or(&reference);
            tracing::warn!(%error, reference, "index unavailable");
            return Self(MatrixErrorBody::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "M_UNAVAILABLE",
                format!("the index is busy or unavailable; try again (reference {reference})"),
            ));
        }
        Self(internal_error(error))
    }
}

/// Failures that are Parvis's own (a poisoned lock, JSON it wrote, an ID it stored): a 500
/// with a reference to the log.
macro_rules! internal_errors {
    ($($error:ty),*) => {
        $(impl From<$error> for ApiError {
            fn from(error: $error) -> Self {
                Self(internal_error(error))
            }
        })*
    };
}
internal_errors!(serde_json::Error, ruma::IdParseError);

impl<T> From<std::sync::PoisonError<T>> for ApiError {
    fn from(error: std::sync::PoisonError<T>) -> Self {
        Self(internal_error(error))
    }
}

impl From<ClientError> for ApiError {
    fn from(error: ClientError) -> Self {
        Self(homeserver_error("request", error))
    }
}

impl From<crate::permission::Refusal> for ApiError {
    fn from(refusal: crate::permission::Refusal) -> Self {
        Self(MatrixErrorBody::forbidden(refusal.to_string()))
    }
}
