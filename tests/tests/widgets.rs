//! The web front end's identity and permission checks, against a real Synapse: widgets sign in
//! with OpenID tokens the homeserver really issued.

#![allow(clippy::unwrap_used)]

use parvis_tests::{Database, Stack, TestUser, http_client};
use serde_json::{Value, json};

async fn call(
    stack: &Stack,
    method: &str,
    path: &str,
    bearer: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("{}{path}", stack.parvis.url());
    let client = http_client();
    let request = match method {
        "GET" => client.get(url),
        _ => client.post(url),
    }
    .bearer_auth(bearer);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn widget_session(stack: &Stack, user: &TestUser) -> String {
    let token = user.openid_token().await.unwrap();
    let response = http_client()
        .post(format!("{}/api/v1/auth/openid", stack.parvis.url()))
        .json(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let session: Value = response.json().await.unwrap();
    assert_eq!(session["user_id"], user.user_id());
    session["session_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn widget_sessions_from_openid_tokens() {
    let stack = Stack::start(Database::Sqlite).await.unwrap();
    let alice = stack.register_user("alice").await.unwrap();
    let bob = stack.register_user("bob").await.unwrap();
    let response = http_client()
        .post(format!("{}/api/v1/communities", stack.parvis.url()))
        .bearer_auth(&stack.parvis.tokens().admin_token)
        .json(&json!({"name": "Privée", "owner": alice.user_id(), "tools": ["wiki"]}))
        .send()
        .await
        .unwrap();
    let created: Value = response.json().await.unwrap();
    let space = created["space_id"].as_str().unwrap().to_owned();
    let rooms: Vec<String> = created["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[1].as_str().unwrap().to_owned())
        .collect();
    alice.join(&space).await.unwrap();
    for room in &rooms {
        alice.join(room).await.unwrap();
    }
    let wiki = created["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[0] == "wiki")
        .unwrap()[1]
        .as_str()
        .unwrap()
        .to_owned();

    // Element users find the tool as a widget pinned in the room.
    let widget = alice
        .state_event(&wiki, "im.vector.modular.widgets", "parvis_wiki")
        .await
        .unwrap()
        .unwrap();
    let url = widget["content"]["url"]
        .as_str()
        .or(widget["url"].as_str())
        .unwrap();
    assert!(
        url.contains(&format!("/widgets/widget.html#/c/{space}/wiki?")),
        "{url}"
    );
    let layout = alice
        .state_event(&wiki, "io.element.widgets.layout", "")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(layout["widgets"]["parvis_wiki"]["container"], "top");

    // A real OpenID token is exchanged for a session that reads what Alice may read.
    let session = widget_session(&stack, &alice).await;
    let mine = parvis_tests::wait_for(
        "the community in Alice's list",
        std::time::Duration::from_secs(30),
        || {
            let (stack, session, space) = (&stack, session.clone(), space.clone());
            async move {
                let (status, list) =
                    call(stack, "GET", "/api/v1/communities/mine", &session, None).await;
                (status == 200
                    && list
                        .as_array()?
                        .iter()
                        .any(|c| c["space_id"] == space.as_str()))
                .then_some(list)
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let (status, _) = call(
        &stack,
        "GET",
        &format!("/api/v1/communities/{space}/wiki"),
        &session,
        None,
    )
    .await;
    assert_eq!(status, 200);
    // A widget session does not write through Parvis: the widget writes as the user, through Element.
    let (status, refused) = call(
        &stack,
        "POST",
        &format!("/api/v1/communities/{space}/wiki"),
        &session,
        Some(json!({"title": "T", "body": "b"})),
    )
    .await;
    assert_eq!(
        (status, refused["errcode"].as_str()),
        (403, Some("ORG.PARVIS_WIDGET_SESSION")),
        "{refused}"
    );

    // A forged OpenID token, or one claiming another homeserver, is refused.
    let forged = json!({"access_token": "forged", "token_type": "Bearer", "matrix_server_name": stack.synapse.server_name(), "expires_in": 3600});
    let response = http_client()
        .post(format!("{}/api/v1/auth/openid", stack.parvis.url()))
        .json(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let mut elsewhere = alice.openid_token().await.unwrap();
    elsewhere["matrix_server_name"] = json!("localhost");
    let response = http_client()
        .post(format!("{}/api/v1/auth/openid", stack.parvis.url()))
        .json(&elsewhere)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        403,
        "a server name resolving to loopback is not called"
    );
    let (status, body) = call(
        &stack,
        "GET",
        "/api/v1/communities/mine",
        "pvs_not-a-session",
        None,
    )
    .await;
    assert_eq!(
        (status, body["errcode"].as_str()),
        (401, Some("M_UNKNOWN_TOKEN"))
    );

    // Bob's session does not open Alice's private community, and writes nothing there.
    let bob_session = widget_session(&stack, &bob).await;
    let (status, body) = call(
        &stack,
        "GET",
        &format!("/api/v1/communities/{space}/wiki"),
        &bob_session,
        None,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = call(
        &stack,
        "GET",
        "/api/v1/communities/mine",
        &bob_session,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &stack,
        "POST",
        &format!("/api/v1/communities/{space}/wiki"),
        bob.access_token(),
        Some(json!({"title": "Intrus", "body": "x"})),
    )
    .await;
    assert_eq!(status, 403);
    let pages: Vec<Value> = alice
        .room_state(&wiki)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e["type"] == "org.parvis.wiki.page")
        .collect();
    assert!(pages.is_empty(), "nothing was written: {pages:?}");
    stack.stop().await;
}
