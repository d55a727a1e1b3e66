//! Calling the Parvis REST API as a test user, and waiting for the index to catch up.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{Stack, TestUser, http_client, wait_for};

/// How long a test waits for the index to show what it wrote.
pub const INDEX_TIMEOUT: Duration = Duration::from_secs(60);

/// Calls the Parvis API as `user`, signed in with their Matrix access token; returns the
/// status and the JSON answer (`null` when the answer is not JSON).
pub async fn api(
    stack: &Stack,
    user: &TestUser,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("{}{path}", stack.parvis.url());
    let client = http_client();
    let request = match method {
        "GET" => client.get(url),
        "POST" => client.post(url),
        "PUT" => client.put(url),
        "DELETE" => client.delete(url),
        other => panic!("no such method in these tests: {other}"),
    };
    let request = request.bearer_auth(user.access_token());
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Waits until `GET path` as `user` answers 200 and `check` accepts the body.
pub async fn wait_api(
    stack: &Stack,
    user: &TestUser,
    path: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let check = &check;
    wait_for(&format!("GET {path}"), INDEX_TIMEOUT, || async move {
        let (status, body) = api(stack, user, "GET", path, None).await;
        (status == 200 && check(&body)).then_some(body)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"))
}

/// The index digest once the job queue is empty (notices posted, bodies read…; at most 60 s)
/// and it has stayed the same for three seconds.
pub async fn settled_digest(stack: &Stack) -> String {
    let mut last = String::new();
    let mut stable_since = tokio::time::Instant::now();
    let give_up = tokio::time::Instant::now() + INDEX_TIMEOUT;
    loop {
        if !jobs_done(stack).await && tokio::time::Instant::now() < give_up {
            stable_since = tokio::time::Instant::now();
            tokio::time::sleep(Duration::from_millis(300)).await;
            continue;
        }
        let digest = stack
            .parvis
            .digest(None)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        if digest != last {
            last = digest;
            stable_since = tokio::time::Instant::now();
        } else if stable_since.elapsed() >= Duration::from_secs(3) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Whether Parvis's job queue is empty, as `/metrics` says (`parvis_jobs_waiting 0`).
pub async fn jobs_done(stack: &Stack) -> bool {
    let Ok(response) = http_client()
        .get(format!("{}/metrics", stack.parvis.url()))
        .send()
        .await
    else {
        return false;
    };
    response
        .text()
        .await
        .is_ok_and(|text| text.lines().any(|line| line == "parvis_jobs_waiting 0"))
}

/// Has Parvis create "Projet Alpha" for `owner` with `tools`, as an operator does with the
/// admin token (`POST /api/v1/communities`); returns its answer: `space_id` and `rooms`.
pub async fn create_community(stack: &Stack, owner: &TestUser, tools: &[&str]) -> Value {
    let response = http_client()
        .post(format!("{}/api/v1/communities", stack.parvis.url()))
        .bearer_auth(&stack.parvis.tokens().admin_token)
        .json(&json!({"name": "Projet Alpha", "owner": owner.user_id(), "tools": tools}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("creating a community: {e}"));
    assert_eq!(response.status(), 201);
    response
        .json()
        .await
        .unwrap_or_else(|e| panic!("reading the created community: {e}"))
}

/// The room for `purpose` among the rooms of a created community.
pub fn room_of(created: &Value, purpose: &str) -> String {
    created["rooms"]
        .as_array()
        .and_then(|rooms| rooms.iter().find(|room| room[0] == purpose))
        .and_then(|room| room[1].as_str())
        .unwrap_or_else(|| panic!("no {purpose} room in {created}"))
        .to_owned()
}
