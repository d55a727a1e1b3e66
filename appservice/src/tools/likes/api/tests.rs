//! The likes routes on their own (`Router::oneshot`), over a SQLite index and the fake
//! homeserver (`crate::fake_homeserver`), which records what Parvis sends as the user and fails
//! when told to. The behaviour is proven against Synapse in `tests/tests/likes.rs`.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
};
use parvis_homeserver_bridge::OpenIdVerifier;
use ruma::owned_server_name;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::{
    api::{ApiState, api_router},
    bot::tests::bot_over,
    fake_homeserver::{FakeHomeserver, Sent, internal_error},
    indexer::Indexer,
    projection::RoomEvent,
    store::{
        Index,
        tests::{event, identity, open_sqlite},
    },
};

/// A community whose wiki holds page `p1` (revision `$v1`), Alice a member of it, Bob not.
fn community() -> Vec<RoomEvent> {
    let mut events = super::super::tests::community();
    for room in ["!space:hs", "!wiki:hs"] {
        events.push(event(
            &format!("$alice{room}"),
            room,
            "@alice:hs",
            "m.room.member",
            Some("@alice:hs"),
            json!({"membership": "join"}),
        ));
    }
    events
}

struct Fixture {
    router: Router,
    index: Index,
    homeserver: FakeHomeserver,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let homeserver = FakeHomeserver::start().await;
    let url = homeserver.url.clone();
    let (sqlite, dir) = open_sqlite().await.unwrap();
    let index = Index::Sqlite(sqlite);
    index.ingest(&identity(), &community()).await.unwrap();
    let bot = Arc::new(bot_over(&homeserver, index.clone()));
    let state = Arc::new(ApiState {
        client: bot.intents().client().clone(),
        bot,
        index: index.clone(),
        admin_token: None,
        sessions: Default::default(),
        refused_tokens: Default::default(),
        widget_sessions: Default::default(),
        openid: OpenIdVerifier::new(owned_server_name!("hs"), &url, true),
        info: json!({}),
        metrics: Default::default(),
        answers: crate::api::kept_answers::KeptAnswers::new(crate::api::KEPT_ANSWERS_BUDGET),
    });
    Fixture {
        router: api_router(state, crate::server::TOOL_ROUTES),
        index,
        homeserver,
        _dir: dir,
    }
}

impl Fixture {
    async fn call(&self, method: &str, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    fn sent(&self) -> Vec<Sent> {
        self.homeserver.sent()
    }
}

const LIKES: &str = "/api/v1/communities/!space:hs/wiki/p1/likes";

#[tokio::test]
async fn a_like_is_sent_as_the_user_once_and_taken_back() {
    let fixture = fixture().await;
    let (status, summary) = fixture.call("GET", LIKES, Some("alice-token")).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(
        summary,
        json!({"likes": 0, "recommendations": 0, "mine": {"like": null, "recommend": null}})
    );

    let (status, liked) = fixture
        .call("PUT", &format!("{LIKES}/like"), Some("alice-token"))
        .await;
    assert_eq!(
        (status, &liked),
        (StatusCode::OK, &json!({"event_id": "$sent1"}))
    );
    let sent = fixture.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].token, "alice-token", "sent with Alice's own token");
    assert_eq!(sent[0].request, "send !wiki:hs m.reaction");
    assert_eq!(
        sent[0].body,
        json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": "$v1", "key": "👍"}})
    );

    // The homeserver delivers it back; asked again, Parvis sends nothing more.
    let reaction = event(
        "$sent1",
        "!wiki:hs",
        "@alice:hs",
        "m.reaction",
        None,
        sent[0].body.clone(),
    );
    fixture
        .index
        .ingest(&identity(), &[reaction])
        .await
        .unwrap();
    let (_, summary) = fixture.call("GET", LIKES, Some("alice-token")).await;
    assert_eq!(summary["likes"], 1);
    assert_eq!(summary["mine"]["like"], "$sent1");
    let (status, again) = fixture
        .call("PUT", &format!("{LIKES}/like"), Some("alice-token"))
        .await;
    assert_eq!(
        (status, &again["event_id"]),
        (StatusCode::OK, &json!("$sent1"))
    );
    assert_eq!(fixture.sent().len(), 1);

    let (status, taken_back) = fixture
        .call("DELETE", &format!("{LIKES}/like"), Some("alice-token"))
        .await;
    assert_eq!(
        (status, &taken_back),
        (StatusCode::OK, &json!({"redacted": ["$sent1"]}))
    );
    let sent = fixture.sent();
    assert_eq!(
        (sent[1].token.as_str(), sent[1].request.as_str()),
        ("alice-token", "redact !wiki:hs $sent1")
    );
}

#[tokio::test]
async fn refusals_are_matrix_errors() {
    let fixture = fixture().await;
    for (method, path, token, status, errcode) in [
        (
            "GET",
            LIKES.to_owned(),
            None,
            StatusCode::UNAUTHORIZED,
            "M_MISSING_TOKEN",
        ),
        (
            "GET",
            LIKES.to_owned(),
            Some("nobody"),
            StatusCode::UNAUTHORIZED,
            "M_UNKNOWN_TOKEN",
        ),
        (
            "GET",
            LIKES.to_owned(),
            Some("bob-token"),
            StatusCode::FORBIDDEN,
            "M_FORBIDDEN",
        ),
        (
            "PUT",
            format!("{LIKES}/love"),
            Some("alice-token"),
            StatusCode::NOT_FOUND,
            "M_NOT_FOUND",
        ),
        (
            "GET",
            "/api/v1/communities/!space:hs/wiki/nope/likes".to_owned(),
            Some("alice-token"),
            StatusCode::NOT_FOUND,
            "M_NOT_FOUND",
        ),
        (
            "GET",
            "/api/v1/communities/!nope:hs/recommended".to_owned(),
            Some("alice-token"),
            StatusCode::NOT_FOUND,
            "M_NOT_FOUND",
        ),
        (
            "GET",
            "/api/v1/communities/!space:hs/recommended".to_owned(),
            Some("bob-token"),
            StatusCode::FORBIDDEN,
            "M_FORBIDDEN",
        ),
    ] {
        let (answered, body) = fixture.call(method, &path, token).await;
        assert_eq!(
            (answered, body["errcode"].as_str()),
            (status, Some(errcode)),
            "{method} {path}: {body}"
        );
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|message| !message.is_empty())
        );
    }
    assert!(fixture.sent().is_empty(), "nothing was sent for anyone");
}

#[tokio::test]
async fn a_failing_homeserver_is_a_502_without_its_internals() {
    let fixture = fixture().await;
    fixture.homeserver.fail_all(Some(internal_error()));
    let (status, body) = fixture
        .call("PUT", &format!("{LIKES}/recommend"), Some("alice-token"))
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["errcode"], "ORG.PARVIS_HOMESERVER");
    let message = body["error"].as_str().unwrap();
    assert!(
        !message.contains("psycopg2") && !message.contains("10.1.2.3"),
        "{message}"
    );
}

#[tokio::test]
async fn in_an_encrypted_room_the_rest_api_does_not_react_in_clear() {
    let fixture = fixture().await;
    let encryption = event(
        "$enc",
        "!wiki:hs",
        "@parvis:hs",
        "m.room.encryption",
        Some(""),
        json!({"algorithm": "m.megolm.v1.aes-sha2"}),
    );
    fixture
        .index
        .ingest(&identity(), &[encryption])
        .await
        .unwrap();
    let (status, body) = fixture
        .call("PUT", &format!("{LIKES}/like"), Some("alice-token"))
        .await;
    assert_eq!(
        (status, body["errcode"].as_str()),
        (StatusCode::FORBIDDEN, Some("ORG.PARVIS_ENCRYPTED_ROOM"))
    );
    assert!(fixture.sent().is_empty());
}
