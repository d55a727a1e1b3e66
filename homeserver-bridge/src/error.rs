//! The Matrix error body, `{"errcode": "...", "error": "..."}`, as Parvis answers it at every HTTP edge.

use axum::{
    Json,
    response::{IntoResponse, Response},
};
use http::StatusCode;
use serde::{Deserialize, Serialize};

/// A Matrix-style error answer: HTTP status plus `errcode` and a message a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixErrorBody {
    /// HTTP status of the answer (not serialised).
    #[serde(skip, default = "default_status")]
    pub status: u16,
    /// The Matrix error code, e.g. `M_FORBIDDEN`, or a Parvis one, e.g. `ORG.PARVIS_NOT_OWNER`.
    pub errcode: String,
    /// Human-readable explanation.
    pub error: String,
}

fn default_status() -> u16 {
    500
}

impl MatrixErrorBody {
    /// Builds an error answer.
    pub fn new(status: StatusCode, errcode: &str, error: impl Into<String>) -> Self {
        Self {
            status: status.as_u16(),
            errcode: errcode.to_owned(),
            error: error.into(),
        }
    }

    /// `401 M_UNAUTHORIZED`: no credentials were given.
    pub fn unauthorized(error: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "M_UNAUTHORIZED", error)
    }

    /// `403 M_FORBIDDEN`: the credentials were refused, or the caller may not do this.
    pub fn forbidden(error: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "M_FORBIDDEN", error)
    }

    /// `404 M_NOT_FOUND`.
    pub fn not_found(error: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "M_NOT_FOUND", error)
    }

    /// `400 M_BAD_JSON`: JSON that does not have the expected shape.
    pub fn bad_json(error: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "M_BAD_JSON", error)
    }

    /// `400 M_NOT_JSON`: a body that is not JSON at all.
    pub fn not_json(error: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "M_NOT_JSON", error)
    }

    /// `413 M_TOO_LARGE`: the request body is larger than this endpoint accepts.
    pub fn too_large(error: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "M_TOO_LARGE", error)
    }

    /// `408 ORG.PARVIS_REQUEST_TIMEOUT`: the request body did not arrive in time. The Matrix
    /// spec has no code for this, hence a Parvis one.
    pub fn request_timeout(error: impl Into<String>) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "ORG.PARVIS_REQUEST_TIMEOUT",
            error,
        )
    }

    /// `503 M_LIMIT_EXCEEDED`: too many requests are being served at once; retry later.
    pub fn busy(error: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "M_LIMIT_EXCEEDED", error)
    }

    /// `500 M_UNKNOWN`: something failed on our side; the message says what.
    pub fn internal(error: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "M_UNKNOWN", error)
    }

    /// The HTTP status of this answer.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for MatrixErrorBody {
    fn into_response(self) -> Response {
        (self.status_code(), Json(self)).into_response()
    }
}
