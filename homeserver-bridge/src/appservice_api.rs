//! The server side of the [Application Service API](https://spec.matrix.org/v1.18/application-service-api/),
//! as an axum router. A thin driver: parsing lives in [`crate::transaction`], effects in the
//! [`TransactionSink`] the application provides.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    body::{Body, Bytes, HttpBody},
    extract::{Path, RawQuery, State},
    http::HeaderMap,
    routing::{get, post, put},
};
use bytes::BytesMut;
use ruma::{OwnedRoomAliasId, OwnedUserId, RoomAliasId, UserId};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::{
    error::MatrixErrorBody,
    transaction::{Transaction, TransactionRejection, parse_transaction_lenient, token_matches},
};

/// Largest transaction body accepted: 100 events of at most 64 KiB each, plus ephemeral and
/// to-device data, with room to spare.
pub const MAX_TRANSACTION_BYTES: usize = 32 * 1024 * 1024;

/// Largest body accepted on the other routes: a ping carries one transaction ID.
pub const MAX_SMALL_BODY_BYTES: usize = 4 * 1024;

/// How long a request body may take to arrive, once the token has been accepted. A homeserver
/// on the same network sends 32 MiB in far less; a body trickling in slower is holding a slot.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Requests served at once. Synapse keeps one transaction in flight per appservice; the rest
/// of the room is for queries and pings.
pub const MAX_CONCURRENT_REQUESTS: usize = 8;

/// Requests that may wait for one of the [`MAX_CONCURRENT_REQUESTS`] slots; past that, requests
/// are refused with `503 M_LIMIT_EXCEEDED` rather than queued without bound.
pub const MAX_WAITING_REQUESTS: usize = 8;

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
    body_timeout: Duration,
    /// Requests being served or waiting to be: bounds the queue.
    admitted: Semaphore,
    /// Requests being served.
    running: Semaphore,
}

/// A request's place among those served at once; dropping it frees the place.
struct Admission<'a> {
    _admitted: SemaphorePermit<'a>,
    _running: SemaphorePermit<'a>,
}

impl<S: TransactionSink> AppserviceApi<S> {
    /// Serves `sink`, accepting requests that carry `hs_token`.
    pub fn new(hs_token: impl Into<String>, sink: S) -> Self {
        Self {
            hs_token: hs_token.into(),
            sink,
            body_timeout: BODY_READ_TIMEOUT,
            admitted: Semaphore::new(MAX_CONCURRENT_REQUESTS + MAX_WAITING_REQUESTS),
            running: Semaphore::new(MAX_CONCURRENT_REQUESTS),
        }
    }

    /// Changes how long a request body may take to arrive (default [`BODY_READ_TIMEOUT`]).
    pub fn with_body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// The sink behind the routes.
    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// Checks the homeserver's token, from `Authorization: Bearer` or the legacy `access_token`
    /// query parameter, in constant time.
    ///
    /// This reads only the head of the request, so it runs before any of the body is read: a
    /// caller without the token costs no more than its headers.
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
        if from_header.is_none() && from_query.is_none() {
            return Err(MatrixErrorBody::unauthorized(
                "missing homeserver token: send `Authorization: Bearer <hs_token>`",
            ));
        }
        // Every token presented must be the right one, so a header and a query token that
        // differ are refused rather than one of them picked: a request carrying two
        // credentials is confused or forged (say, `?access_token=` appended by something in
        // between), and picking one would let the other go unchecked. The answer is
        // 403 M_FORBIDDEN, not 401 M_UNAUTHORIZED: the spec keeps 401 for a token that is
        // missing, and here tokens were presented and are refused. Each comparison is
        // constant-time and both are made, whatever the first one says.
        let all_match = [from_header, from_query.as_deref()]
            .into_iter()
            .flatten()
            .fold(true, |all, presented| {
                token_matches(&self.hs_token, presented) & all
            });
        if all_match {
            Ok(())
        } else {
            Err(MatrixErrorBody::forbidden(
                "the homeserver token (hs_token) is not the one in the registration",
            ))
        }
    }

    /// Waits for a place among the requests served at once, or refuses when too many already
    /// wait. Called after [`Self::authorize`], so only the homeserver can take places.
    async fn admit(&self) -> Result<Admission<'_>, MatrixErrorBody> {
        let busy =
            || MatrixErrorBody::busy("too many requests at once from the homeserver; retry later");
        let admitted = self.admitted.try_acquire().map_err(|_| busy())?;
        let running = self.running.acquire().await.map_err(|_| busy())?;
        Ok(Admission {
            _admitted: admitted,
            _running: running,
        })
    }

    /// Reads the whole body, refusing it past `limit` bytes (413) or when it takes longer than
    /// the body timeout (408).
    async fn read_body(
        &self,
        headers: &HeaderMap,
        body: Body,
        limit: usize,
    ) -> Result<Bytes, MatrixErrorBody> {
        let too_large =
            || MatrixErrorBody::too_large(format!("the request body is over {limit} bytes"));
        // A declared length over the limit is refused before a byte is read.
        let declared = headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        let lower_bound = body.size_hint().lower();
        if declared.is_some_and(|length| length > limit as u64) || lower_bound > limit as u64 {
            return Err(too_large());
        }
        tokio::time::timeout(self.body_timeout, read_at_most(body, limit))
            .await
            .map_err(|_| {
                MatrixErrorBody::request_timeout(format!(
                    "the request body did not arrive within {} s",
                    self.body_timeout.as_secs_f32()
                ))
            })?
            .map_err(|error| match error {
                BodyReadError::TooLarge => too_large(),
                BodyReadError::Broken(reason) => MatrixErrorBody::new(
                    http::StatusCode::BAD_REQUEST,
                    "M_UNKNOWN",
                    format!("the request body could not be read: {reason}"),
                ),
            })
    }
}

/// Why [`read_at_most`] stopped.
enum BodyReadError {
    /// The body went past the limit.
    TooLarge,
    /// The connection failed while sending it.
    Broken(String),
}

/// Collects `body` frame by frame, stopping as soon as it goes past `limit` bytes, so an
/// oversized body costs at most `limit` bytes of memory, whatever its declared length.
async fn read_at_most(mut body: Body, limit: usize) -> Result<Bytes, BodyReadError> {
    let mut collected = BytesMut::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|error| BodyReadError::Broken(error.to_string()))?;
        // Trailers are not data; a homeserver sends none, and they are ignored if it does.
        if let Ok(data) = frame.into_data() {
            if collected.len().saturating_add(data.len()) > limit {
                return Err(BodyReadError::TooLarge);
            }
            collected.extend_from_slice(&data);
        }
    }
    Ok(collected.freeze())
}

/// The Application Service API routes, under `/_matrix/app/v1`.
///
/// Each handler checks the homeserver's token first, from the request head, then takes a
/// place among [`MAX_CONCURRENT_REQUESTS`], and only then reads the body, within a size limit
/// per route and [`BODY_READ_TIMEOUT`].
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
        .with_state(api)
}

/// `PUT /_matrix/app/v1/transactions/{txnId}` — [spec](https://spec.matrix.org/v1.18/application-service-api/#put_matrixappv1transactionstxnid)
async fn push_events<S: TransactionSink>(
    State(api): State<Arc<AppserviceApi<S>>>,
    Path(txn_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, MatrixErrorBody> {
    api.authorize(&headers, query.as_deref())?;
    let _admission = api.admit().await?;
    let body = api.read_body(&headers, body, MAX_TRANSACTION_BYTES).await?;
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
        // The cause goes to the log, not to the homeserver: sink errors name tables, paths
        // and database messages, which are nobody's business outside.
        tracing::error!(%txn_id, %error, "transaction not stored; the homeserver will retry it");
        MatrixErrorBody::internal(format!(
            "transaction {txn_id} could not be stored; it will be accepted on a retry"
        ))
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
    let _admission = api.admit().await?;
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
    let _admission = api.admit().await?;
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
    body: Body,
) -> Result<Json<Value>, MatrixErrorBody> {
    api.authorize(&headers, query.as_deref())?;
    let _admission = api.admit().await?;
    let body = api.read_body(&headers, body, MAX_SMALL_BODY_BYTES).await?;
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
    use std::{
        sync::{
            Mutex,
            atomic::{AtomicBool, AtomicUsize, Ordering},
        },
        task::{Context, Poll},
    };

    use http::{Request, StatusCode};
    use http_body::Frame;
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
        assert_eq!(body["errcode"], "M_UNKNOWN");
        // Attack: the sink's error (table names, paths, database messages) used to be told to
        // whoever sent the transaction; it goes to the log only.
        assert!(
            !body["error"].as_str().unwrap().contains("disk full"),
            "{body}"
        );
    }

    /// A body that records being polled and fails: a handler that reads it before checking the
    /// token is caught.
    struct TrippedBody(Arc<AtomicBool>);

    impl HttpBody for TrippedBody {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            self.0.store(true, Ordering::SeqCst);
            Poll::Ready(Some(Err(std::io::Error::other("the body was read"))))
        }
    }

    /// A body of 1 MiB chunks that never ends, counting the chunks it gave.
    struct EndlessBody(Arc<AtomicUsize>);

    impl HttpBody for EndlessBody {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b' '; 1024 * 1024])))))
        }
    }

    /// A body whose bytes never come.
    struct StalledBody;

    impl HttpBody for StalledBody {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            Poll::Pending
        }
    }

    fn put_txn_body(token: &str, body: Body) -> Request<Body> {
        Request::put("/_matrix/app/v1/transactions/7")
            .header("authorization", format!("Bearer {token}"))
            .body(body)
            .unwrap()
    }

    #[tokio::test]
    async fn a_wrong_token_is_refused_before_the_body_is_read() {
        // Attack: anyone reaching the port could make Parvis read 32 MiB per request before
        // the token was looked at.
        let (router, api) = router(RecordingSink::default());
        let polled = Arc::new(AtomicBool::new(false));
        let request = put_txn_body("guess", Body::new(TrippedBody(polled.clone())));
        let (status, body) = send(router.clone(), request).await;
        assert_eq!(
            (status, body["errcode"].as_str()),
            (StatusCode::FORBIDDEN, Some("M_FORBIDDEN"))
        );
        assert!(
            !polled.load(Ordering::SeqCst),
            "the body was read before the token was checked"
        );
        let ping = Request::post("/_matrix/app/v1/ping")
            .body(Body::new(TrippedBody(polled.clone())))
            .unwrap();
        assert_eq!(send(router, ping).await.0, StatusCode::UNAUTHORIZED);
        assert!(!polled.load(Ordering::SeqCst));
        assert!(api.sink().transactions.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_oversized_body_is_refused_with_413_and_not_read_to_the_end() {
        let (router, api) = router(RecordingSink::default());
        // Streamed, with no declared length: reading stops just past the limit.
        let chunks = Arc::new(AtomicUsize::new(0));
        let request = put_txn_body("hs-secret", Body::new(EndlessBody(chunks.clone())));
        let (status, body) = send(router.clone(), request).await;
        assert_eq!(
            (status, body["errcode"].as_str()),
            (StatusCode::PAYLOAD_TOO_LARGE, Some("M_TOO_LARGE"))
        );
        assert_eq!(
            chunks.load(Ordering::SeqCst),
            MAX_TRANSACTION_BYTES / (1024 * 1024) + 1
        );
        // Declared too long: refused before a byte is read.
        let polled = Arc::new(AtomicBool::new(false));
        let mut request = put_txn_body("hs-secret", Body::new(TrippedBody(polled.clone())));
        request.headers_mut().insert(
            http::header::CONTENT_LENGTH,
            (MAX_TRANSACTION_BYTES + 1).to_string().parse().unwrap(),
        );
        let (status, body) = send(router.clone(), request).await;
        assert_eq!(
            (status, body["errcode"].as_str()),
            (StatusCode::PAYLOAD_TOO_LARGE, Some("M_TOO_LARGE"))
        );
        assert!(!polled.load(Ordering::SeqCst));
        // A ping gets a few KiB, not the transaction limit.
        let ping = Request::post("/_matrix/app/v1/ping")
            .header("authorization", "Bearer hs-secret")
            .body(Body::from(vec![b' '; MAX_SMALL_BODY_BYTES + 1]))
            .unwrap();
        assert_eq!(send(router, ping).await.0, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(api.sink().transactions.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_body_that_never_arrives_times_out_with_408() {
        // Attack: a sender holding a request open by never finishing its body.
        let api = Arc::new(
            AppserviceApi::new("hs-secret", RecordingSink::default())
                .with_body_timeout(Duration::from_millis(50)),
        );
        let request = put_txn_body("hs-secret", Body::new(StalledBody));
        let (status, body) = send(appservice_router(api), request).await;
        assert_eq!(
            (status, body["errcode"].as_str()),
            (
                StatusCode::REQUEST_TIMEOUT,
                Some("ORG.PARVIS_REQUEST_TIMEOUT")
            )
        );
    }

    #[tokio::test]
    async fn header_and_query_tokens_that_differ_are_refused() {
        // Attack: a right token in one place let a wrong one in the other go unchecked.
        let (router, api) = router(RecordingSink::default());
        for uri in [
            "/_matrix/app/v1/transactions/9?access_token=other",
            "/_matrix/app/v1/transactions/9?access_token=hs-secret",
        ] {
            let header = if uri.ends_with("other") {
                "hs-secret"
            } else {
                "other"
            };
            let request = Request::put(uri)
                .header("authorization", format!("Bearer {header}"))
                .body(Body::from(r#"{"events": []}"#))
                .unwrap();
            let (status, body) = send(router.clone(), request).await;
            assert_eq!(
                (status, body["errcode"].as_str()),
                (StatusCode::FORBIDDEN, Some("M_FORBIDDEN")),
                "{uri}"
            );
        }
        // The same right token in both places is fine.
        let request = Request::put("/_matrix/app/v1/transactions/9?access_token=hs-secret")
            .header("authorization", "Bearer hs-secret")
            .body(Body::from(r#"{"events": []}"#))
            .unwrap();
        assert_eq!(send(router, request).await.0, StatusCode::OK);
        assert_eq!(api.sink().transactions.lock().unwrap().len(), 1);
    }

    /// A sink whose `ingest` waits until the test lets it go.
    struct GatedSink {
        gate: Semaphore,
        inside: AtomicUsize,
    }

    impl TransactionSink for GatedSink {
        async fn ingest(&self, _transaction: Transaction) -> Result<(), SinkError> {
            self.inside.fetch_add(1, Ordering::SeqCst);
            self.gate.acquire().await?.forget();
            Ok(())
        }
        async fn query_user(&self, _user_id: &UserId) -> bool {
            false
        }
        async fn query_room_alias(&self, _alias: &RoomAliasId) -> bool {
            false
        }
    }

    #[tokio::test]
    async fn concurrent_requests_are_capped_and_the_excess_refused() {
        // Attack: a flood of requests, each holding memory and a sink call.
        let api = Arc::new(AppserviceApi::new(
            "hs-secret",
            GatedSink {
                gate: Semaphore::new(0),
                inside: AtomicUsize::new(0),
            },
        ));
        let router = appservice_router(api.clone());
        let held = MAX_CONCURRENT_REQUESTS + MAX_WAITING_REQUESTS;
        let mut pending = Vec::new();
        for _ in 0..held {
            let router = router.clone();
            pending.push(tokio::spawn(async move {
                send(router, put_txn(Some("hs-secret"), r#"{"events": []}"#))
                    .await
                    .0
            }));
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while api.admitted.available_permits() > 0
            || api.sink().inside.load(Ordering::SeqCst) < MAX_CONCURRENT_REQUESTS
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the requests were not all admitted"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Only the cap reaches the sink; the others wait.
        assert_eq!(
            api.sink().inside.load(Ordering::SeqCst),
            MAX_CONCURRENT_REQUESTS
        );
        let (status, body) = send(
            router.clone(),
            put_txn(Some("hs-secret"), r#"{"events": []}"#),
        )
        .await;
        assert_eq!(
            (status, body["errcode"].as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("M_LIMIT_EXCEEDED"))
        );
        // Without the token, a full server still answers 403, not 503: only the homeserver takes places.
        assert_eq!(
            send(router, put_txn(Some("guess"), r#"{"events": []}"#))
                .await
                .0,
            StatusCode::FORBIDDEN
        );
        api.sink().gate.add_permits(held);
        for request in pending {
            assert_eq!(request.await.unwrap(), StatusCode::OK);
        }
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
