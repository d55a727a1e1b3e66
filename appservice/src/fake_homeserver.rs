//! A fake homeserver for unit tests of the bot's jobs and the API handlers, without Synapse.
//!
//! It records what Parvis sends (as whom, under which transaction ID), serves media it was
//! given, and fails when told to — the one thing a real homeserver cannot be made to do on
//! cue. What Parvis's requests mean is proven against Synapse in `tests/`.

#![allow(clippy::unwrap_used)]

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, put},
};
use serde_json::{Value, json};

/// One request Parvis made that changes the room: a message, a redaction, a state event.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Sent {
    /// The access token it was made with (`as-token` for the bot, the user's own otherwise).
    pub token: String,
    /// `send !room:hs m.room.message`, `redact !room:hs $event`, `state !room:hs m.room.name`.
    pub request: String,
    /// Its transaction ID (for state events: the state key).
    pub txn_id: String,
    /// What it carried.
    pub body: Value,
}

/// The users the fake knows: `(access token, user ID)`.
const USERS: &[(&str, &str)] = &[("alice-token", "@alice:hs"), ("bob-token", "@bob:hs")];

#[derive(Default)]
struct Recorded {
    sent: Mutex<Vec<Sent>>,
    /// Answers given instead of the next requests, in order.
    faults: Mutex<VecDeque<(StatusCode, Value)>>,
    /// Every request fails while this is set.
    failing: Mutex<Option<(StatusCode, Value)>>,
    /// `server/media_id` → bytes.
    media: Mutex<HashMap<String, Vec<u8>>>,
}

impl Recorded {
    fn fault(&self) -> Option<Response> {
        let fault = self
            .faults
            .lock()
            .unwrap()
            .pop_front()
            .or_else(|| self.failing.lock().unwrap().clone());
        fault.map(|(status, body)| (status, Json(body)).into_response())
    }
}

/// A fake homeserver listening on a loopback port.
#[derive(Clone)]
pub(crate) struct FakeHomeserver {
    /// Where it listens.
    pub url: url::Url,
    recorded: Arc<Recorded>,
}

/// An internal error a homeserver could send, with internals Parvis must not pass on.
pub(crate) fn internal_error() -> (StatusCode, Value) {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"errcode": "M_UNKNOWN", "error": "psycopg2 OperationalError at 10.1.2.3:5432"}),
    )
}

impl FakeHomeserver {
    /// Starts one.
    pub(crate) async fn start() -> Self {
        let recorded = Arc::new(Recorded::default());
        let app = Router::new()
            .route("/_matrix/client/v3/account/whoami", get(whoami))
            .route(
                "/_matrix/client/v3/rooms/{room}/{kind}/{target}/{txn}",
                put(record),
            )
            .route(
                "/_matrix/client/v1/media/download/{server}/{media_id}",
                get(download),
            )
            .with_state(recorded.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{address}").parse().unwrap(),
            recorded,
        }
    }

    /// What Parvis sent, in order.
    pub(crate) fn sent(&self) -> Vec<Sent> {
        self.recorded.sent.lock().unwrap().clone()
    }

    /// Answers the next send or download with `fault` instead of doing it.
    pub(crate) fn fail_next(&self, fault: (StatusCode, Value)) {
        self.recorded.faults.lock().unwrap().push_back(fault);
    }

    /// Answers every send and download with `fault` (`None`: works again).
    pub(crate) fn fail_all(&self, fault: Option<(StatusCode, Value)>) {
        *self.recorded.failing.lock().unwrap() = fault;
    }

    /// Serves `bytes` at `mxc://{server}/{media_id}`.
    pub(crate) fn put_media(&self, server: &str, media_id: &str, bytes: Vec<u8>) {
        self.recorded
            .media
            .lock()
            .unwrap()
            .insert(format!("{server}/{media_id}"), bytes);
    }
}

fn token_of(headers: &HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned()
}

/// Always answers: faults are for what Parvis sends and reads, its users stay signed in.
async fn whoami(headers: HeaderMap) -> Response {
    let token = token_of(&headers);
    match USERS.iter().find(|(known, _)| *known == token) {
        Some((_, user_id)) => Json(json!({"user_id": user_id})).into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"errcode": "M_UNKNOWN_TOKEN", "error": "unknown token"})),
        )
            .into_response(),
    }
}

async fn record(
    State(recorded): State<Arc<Recorded>>,
    Path((room, kind, target, txn_id)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(fault) = recorded.fault() {
        return fault;
    }
    let mut sent = recorded.sent.lock().unwrap();
    sent.push(Sent {
        token: token_of(&headers),
        request: format!("{kind} {room} {target}"),
        txn_id,
        body,
    });
    Json(json!({"event_id": format!("$sent{}", sent.len())})).into_response()
}

async fn download(
    State(recorded): State<Arc<Recorded>>,
    Path((server, media_id)): Path<(String, String)>,
) -> Response {
    if let Some(fault) = recorded.fault() {
        return fault;
    }
    match recorded
        .media
        .lock()
        .unwrap()
        .get(&format!("{server}/{media_id}"))
    {
        Some(bytes) => (
            [("content-type", "application/octet-stream")],
            bytes.clone(),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"errcode": "M_NOT_FOUND", "error": "no such media"})),
        )
            .into_response(),
    }
}
