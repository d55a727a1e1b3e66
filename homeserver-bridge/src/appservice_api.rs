//! The server side of the [Application Service API](https://spec.matrix.org/v1.18/application-service-api/),
//! as an axum router. A thin driver: parsing lives in [`crate::transaction`], effects in the
//! [`TransactionSink`] the application provides.

use std::{future::Future, sync::Arc};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, RawQuery, State},
    http::HeaderMap,
    routing::{get, post, put},
};
use ruma::{OwnedRoomAliasId, OwnedUserId, RoomAliasId, UserId};
use serde_json::{Value, json};

use crate::{
    error::MatrixErrorBody,
    transaction::{Transaction, TransactionRejection, parse_transaction_lenient, token_matches},
};

/// Largest transaction body accepted: 100 events of at most 64 KiB each, plus ephemeral and
/// to-device data, with room to spare.
pub const MAX_TRANSACTION_BYTES: usize = 32 * 1024 * 1024;

/// Error a sink reports when it could not make a transaction durable; the homeserver will retry.
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// What the application does with what the homeserver pushes.
pub trait TransactionSink: Send + Sync + 'static {
    /// Makes the effects of `transaction` durable. The transaction is acknowledged (200) only
    /// when this returns `Ok`; on `Err` the homeserver retries it later, so this must be
    /// idempotent.
    fn ingest(
        &self,
        transaction: Transaction,
    ) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// Answers the homeserver's query for a user in the appservice's namespace: `true` when the
    /// user exists (or was just created).
    fn query_user(&self, user_id: &UserId) -> impl Future<Output = bool> + Send;

    /// Answers the homeserver's query for a room alias in the appservice's namespace.
    fn query_room_alias(&self, alias: &RoomAliasId) -> impl Future<Output = bool> + Send;

    /// Called when the homeserver pings the appservice (`POST /_matrix/app/v1/ping`).
    fn pinged(&self, _transaction_id: Option<&str>) {}
}

/// Shared state of the appservice API routes.
pub struct AppserviceApi<S> {
    hs_token: String,
    sink: S,
}

impl<S: TransactionSink> AppserviceApi<S> {
    /// Serves `sink`, accepting requests that carry `hs_token`.
    pub fn new(hs_token: impl Into<String>, sink: S) -> Self {
        Self {
            hs_token: hs_token.into(),
            sink,
        }
    }

    /// The sink behind the routes.
    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// Checks the homeserver's token, from `Authorization: Bearer` or the legacy `access_token`
    /// query parameter, in constant time.
    fn authorize(&self, headers: &HeaderMap, query: Option<&str>) -> Result<(), MatrixErrorBody> {
        let from_header = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        let from_query = query.and_then(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(key, _)| key == "access_token")
                .map(|(_, value)| value.into_owned())
        });
        let presented = match (from_header, from_query.as_deref()) {
            (Some(token), _) | (None, Some(token)) => token,
            (None, None) => {
                return Err(MatrixErrorBody::unauthorized(
                    "missing homeserver token: send `Authorization: Bearer <hs_token>`",
                ));
            }
        };
        if token_matches(&self.hs_token, presented) {
            Ok(())
        } else {
            Err(MatrixErrorBody::forbidden(
                "the homeserver token (hs_token) is not the one in the registration",
            ))
        }
    }
}

/// The Application Service API routes, under `/_matrix/app/v1`.
pub fn appservice_router<S: TransactionSink>(api: Arc<AppserviceApi<S>>) -> Router {
    Router::new()
        .route(
            "/_matrix/app/v1/transactions/{txn_id}",
            put(push_events::<S>),
        )
        .route("/_matrix/app/v1/users/{user_id}", get(query_user::<S>))
        .route(
            "/_matrix/app/v1/rooms/{room_alias}",
            get(query_room_alias::<S>),
        )
        .route("/_matrix/app/v1/ping", post(ping::<S>))
        .layer(DefaultBodyLimit::max(MAX_TRANSACTION_BYTES))
        .with_state(api)
}

/// `PUT /_matrix/app/v1/transactions/{txnId}` — [spec](https://spec.matrix.org/v1.18/application-service-api/#put_matrixappv1transactionstxnid)
async fn push_events<S: TransactionSink>(
    State(api): State<Arc<AppserviceApi<S>>>,
    Path(txn_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, MatrixErrorBody> {
    api.authorize(&headers, query.as_deref())?;
    let parsed =
        parse_transaction_lenient(&txn_id, &body).map_err(|rejection| match rejection {
            TransactionRejection::NotJson(_) => MatrixErrorBody::not_json(rejection.to_string()),
            TransactionRejection::BadJson(_) => MatrixErrorBody::bad_json(rejection.to_string()),
        })?;
    // Dropped entries are the homeserver's (or a remote server's) data we could not read:
    // worth a look by an operator, not worth refusing the transaction over.
    for reason in &parsed.dropped {
        tracing::warn!(%txn_id, %reason, "invalid entry dropped from the transaction");
    }
    let transaction = parsed.transaction;
    let events = transaction.events.len();
    api.sink.ingest(transaction).await.map_err(|error| {
        tracing::error!(%txn_id, %error, "transaction not stored; the homeserver will retry it");
        MatrixErrorBody::internal(format!("transaction {txn_id} could not be stored: {error}"))
    })?;
    tracing::debug!(%txn_id, events, "transaction acknowledged");
    Ok(Json(json!({})))
}

/// `GET /_matrix/app/v1/users/{userId}` — [spec](https://spec.matrix.org/v1.18/application-service-api/#get_matrixappv1usersuserid)
async fn query_user<S: TransactionSink>(
    State(api): State<Arc<AppserviceApi<S>>>,
    Path(user_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Value>, MatrixErrorBody> {
    api.authorize(&headers, query.as_deref())?;
    let user_id = OwnedUserId::try_from(user_id.as_str())
        .map_err(|e| MatrixErrorBody::not_found(format!("{user_id} is not a user ID: {e}")))?;
    if api.sink.query_user(&user_id).await {
        Ok(Json(json!({})))
    } else {
        Err(MatrixErrorBody::not_found(format!(
            "Parvis has no user {user_id}"
        )))
    }
}

/// `GET /_matrix/app/v1/rooms/{roomAlias}` — [spec](https://spec.matrix.org/v1.18/application-service-api/#get_matrixappv1roomsroomalias)
async fn query_room_alias<S: TransactionSink>(
    State(api): State<Arc<AppserviceApi<S>>>,
    Path(alias): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Value>, MatrixErrorBody> {
    api.authorize(&headers, query.as_deref())?;
    let alias = OwnedRoomAliasId::try_from(alias.as_str())
        .map_err(|e| MatrixErrorBody::not_found(format!("{alias} is not a room alias: {e}")))?;
    if api.sink.query_room_alias(&alias).await {
        Ok(Json(json!({})))
    } else {
        Err(MatrixErrorBody::not_found(format!(
            "Parvis has no room {alias}"
        )))
    }
}

/// `POST /_matrix/app/v1/ping` — [spec](https://spec.matrix.org/v1.18/application-service-api/#post_matrixappv1ping)
async fn ping<S: TransactionSink>(
    State(api): State<Arc<AppserviceApi<S>>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, MatrixErrorBody> {
    api.authorize(&headers, query.as_deref())?;
    let transaction_id = serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
        v.get("transaction_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    api.sink.pinged(transaction_id.as_deref());
    Ok(Json(json!({})))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Mutex;

    use axum::body::Body;
    use http::{Request, StatusCode};
    use tower::ServiceExt;

    use super::*;

    #[derive(Default)]
    struct RecordingSink {
        transactions: Mutex<Vec<String>>,
        fail: bool,
    }

    impl TransactionSink for RecordingSink {
        async fn ingest(&self, transaction: Transaction) -> Result<(), SinkError> {
            if self.fail {
                return Err("disk full".into());
            }
            self.transactions
                .lock()
                .unwrap()
                .push(transaction.txn_id.to_string());
            Ok(())
        }
        async fn query_user(&self, user_id: &UserId) -> bool {
            user_id.localpart() == "parvis"
        }
        async fn query_room_alias(&self, _alias: &RoomAliasId) -> bool {
            false
        }
    }

    fn router(sink: RecordingSink) -> (Router, Arc<AppserviceApi<RecordingSink>>) {
        let api = Arc::new(AppserviceApi::new("hs-secret", sink));
        (appservice_router(api.clone()), api)
    }

    async fn send(router: Router, request: Request<Body>) -> (StatusCode, Value) {
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    fn put_txn(token: Option<&str>, body: &'static str) -> Request<Body> {
        let mut builder = Request::put("/_matrix/app/v1/transactions/7");
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        builder.body(Body::from(body)).unwrap()
    }

    #[tokio::test]
    async fn accepted_transaction_reaches_the_sink() {
        let (router, api) = router(RecordingSink::default());
        let (status, body) = send(router, put_txn(Some("hs-secret"), r#"{"events": []}"#)).await;
        assert_eq!((status, body), (StatusCode::OK, json!({})));
        assert_eq!(
            *api.sink().transactions.lock().unwrap(),
            vec!["7".to_owned()]
        );
    }

    #[tokio::test]
    async fn legacy_query_token_is_accepted() {
        let (router, api) = router(RecordingSink::default());
        let request = Request::put("/_matrix/app/v1/transactions/8?access_token=hs-secret")
            .body(Body::from(r#"{"events": []}"#))
            .unwrap();
        assert_eq!(send(router, request).await.0, StatusCode::OK);
        assert_eq!(api.sink().transactions.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn wrong_or_missing_token_is_refused_and_nothing_is_stored() {
        let (router_a, api) = router(RecordingSink::default());
        let (status, body) = send(
            router_a.clone(),
            put_txn(Some("guess"), r#"{"events": []}"#),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["errcode"], "M_FORBIDDEN");
        let (status, body) = send(router_a, put_txn(None, r#"{"events": []}"#)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["errcode"], "M_UNAUTHORIZED");
        assert!(api.sink().transactions.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn malformed_bodies_get_matrix_errors() {
        let (router, _) = router(RecordingSink::default());
        let (status, body) = send(router.clone(), put_txn(Some("hs-secret"), "{oops")).await;
        assert_eq!(
            (status, body["errcode"].as_str()),
            (StatusCode::BAD_REQUEST, Some("M_NOT_JSON"))
        );
        let (status, body) = send(router, put_txn(Some("hs-secret"), r#"{"events": {}}"#)).await;
        assert_eq!(
            (status, body["errcode"].as_str()),
            (StatusCode::BAD_REQUEST, Some("M_BAD_JSON"))
        );
    }

    #[tokio::test]
    async fn a_failing_sink_is_not_acknowledged() {
        let (router, _) = router(RecordingSink {
            fail: true,
            ..Default::default()
        });
        let (status, body) = send(router, put_txn(Some("hs-secret"), r#"{"events": []}"#)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(body["error"].as_str().unwrap().contains("disk full"));
    }

    #[tokio::test]
    async fn user_query_and_ping() {
        let (router, _) = router(RecordingSink::default());
        let get = |path: &str| {
            Request::get(path)
                .header("authorization", "Bearer hs-secret")
                .body(Body::empty())
                .unwrap()
        };
        assert_eq!(
            send(router.clone(), get("/_matrix/app/v1/users/@parvis:hs"))
                .await
                .0,
            StatusCode::OK
        );
        let (status, body) = send(router.clone(), get("/_matrix/app/v1/users/@other:hs")).await;
        assert_eq!(
            (status, body["errcode"].as_str()),
            (StatusCode::NOT_FOUND, Some("M_NOT_FOUND"))
        );
        let ping = Request::post("/_matrix/app/v1/ping")
            .header("authorization", "Bearer hs-secret")
            .body(Body::from(r#"{"transaction_id": "t1"}"#))
            .unwrap();
        assert_eq!(send(router, ping).await.0, StatusCode::OK);
    }
}
