//! A Matrix user for tests, speaking the client-server API like any client would.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{HarnessError, Result, http_client, wait_for};

/// A registered, logged-in user of the test homeserver.
#[derive(Clone, Debug)]
pub struct TestUser {
    http: reqwest::Client,
    base_url: String,
    user_id: String,
    access_token: String,
}

async fn answer(
    context: &str,
    response: std::result::Result<reqwest::Response, reqwest::Error>,
) -> Result<Value> {
    let response = response.map_err(|source| HarnessError::Http {
        context: context.to_owned(),
        source,
    })?;
    let status = response.status();
    let body = response.text().await.map_err(|source| HarnessError::Http {
        context: context.to_owned(),
        source,
    })?;
    if !status.is_success() {
        return Err(HarnessError::Api {
            context: context.to_owned(),
            status: status.as_u16(),
            body,
        });
    }
    Ok(serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl TestUser {
    /// Registers `localpart` with `password` (open registration, `m.login.dummy`); logs in if
    /// the user already exists.
    pub async fn register(base_url: &str, localpart: &str, password: &str) -> Result<Self> {
        let http = http_client();
        let body = json!({"username": localpart, "password": password, "auth": {"type": "m.login.dummy"}, "inhibit_login": false});
        let response = http
            .post(format!("{base_url}/_matrix/client/v3/register"))
            .json(&body)
            .send()
            .await;
        match answer("registering a user", response).await {
            Ok(value) => Ok(Self {
                http,
                base_url: base_url.to_owned(),
                user_id: value["user_id"].as_str().unwrap_or_default().to_owned(),
                access_token: value["access_token"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            }),
            Err(HarnessError::Api { body, .. }) if body.contains("M_USER_IN_USE") => {
                Self::login(base_url, localpart, password).await
            }
            Err(error) => Err(error),
        }
    }

    /// Logs in with a password.
    pub async fn login(base_url: &str, localpart: &str, password: &str) -> Result<Self> {
        let http = http_client();
        let body = json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": localpart}, "password": password});
        let value = answer(
            "logging in",
            http.post(format!("{base_url}/_matrix/client/v3/login"))
                .json(&body)
                .send()
                .await,
        )
        .await?;
        Ok(Self {
            http,
            base_url: base_url.to_owned(),
            user_id: value["user_id"].as_str().unwrap_or_default().to_owned(),
            access_token: value["access_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        })
    }

    /// The user's ID.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The user's access token.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    fn url(&self, path: &str) -> String {
        format!("{}/_matrix/client/v3{path}", self.base_url)
    }

    async fn get(&self, context: &str, path: &str) -> Result<Value> {
        answer(
            context,
            self.http
                .get(self.url(path))
                .bearer_auth(&self.access_token)
                .send()
                .await,
        )
        .await
    }

    async fn post(&self, context: &str, path: &str, body: Value) -> Result<Value> {
        answer(
            context,
            self.http
                .post(self.url(path))
                .bearer_auth(&self.access_token)
                .json(&body)
                .send()
                .await,
        )
        .await
    }

    async fn put(&self, context: &str, path: &str, body: Value) -> Result<Value> {
        answer(
            context,
            self.http
                .put(self.url(path))
                .bearer_auth(&self.access_token)
                .json(&body)
                .send()
                .await,
        )
        .await
    }

    /// Uploads `bytes` of `content_type` to the media repository; returns its `mxc://` URI.
    pub async fn upload(&self, bytes: Vec<u8>, content_type: &str) -> Result<String> {
        let value = answer(
            "uploading media",
            self.http
                .post(format!("{}/_matrix/media/v3/upload", self.base_url))
                .bearer_auth(&self.access_token)
                .header("content-type", content_type)
                .body(bytes)
                .send()
                .await,
        )
        .await?;
        Ok(value["content_uri"].as_str().unwrap_or_default().to_owned())
    }

    /// Sets the user's avatar (the homeserver copies it into their member event in every room).
    pub async fn set_avatar(&self, mxc: &str) -> Result<()> {
        let path = format!("/profile/{}/avatar_url", encode(&self.user_id));
        self.put("setting an avatar", &path, json!({"avatar_url": mxc}))
            .await
            .map(|_| ())
    }

    /// Creates a private direct chat with `other`, inviting them; returns the room ID.
    pub async fn create_dm(&self, other: &str) -> Result<String> {
        let body = json!({"preset": "trusted_private_chat", "is_direct": true, "invite": [other]});
        let value = self
            .post("creating a direct chat", "/createRoom", body)
            .await?;
        Ok(value["room_id"].as_str().unwrap_or_default().to_owned())
    }

    /// Creates a private room (invitees get no power), inviting `other`; returns the room ID.
    pub async fn create_private_room(&self, other: &str) -> Result<String> {
        let body = json!({"preset": "private_chat", "invite": [other]});
        let value = self.post("creating a room", "/createRoom", body).await?;
        Ok(value["room_id"].as_str().unwrap_or_default().to_owned())
    }

    /// Sends a text message; returns its event ID.
    pub async fn send_text(&self, room_id: &str, body: &str) -> Result<String> {
        let txn = uuid::Uuid::new_v4().simple().to_string();
        let path = format!("/rooms/{}/send/m.room.message/{txn}", encode(room_id));
        let value = self
            .put(
                "sending a message",
                &path,
                json!({"msgtype": "m.text", "body": body}),
            )
            .await?;
        Ok(value["event_id"].as_str().unwrap_or_default().to_owned())
    }

    /// Sends a message-like event of any type, as a client would; returns its event ID.
    pub async fn send_event(
        &self,
        room_id: &str,
        event_type: &str,
        content: Value,
    ) -> Result<String> {
        let txn = uuid::Uuid::new_v4().simple().to_string();
        let path = format!(
            "/rooms/{}/send/{}/{txn}",
            encode(room_id),
            encode(event_type)
        );
        let value = self.put("sending an event", &path, content).await?;
        Ok(value["event_id"].as_str().unwrap_or_default().to_owned())
    }

    /// Redacts an event; returns the redaction's event ID.
    pub async fn redact(&self, room_id: &str, event_id: &str) -> Result<String> {
        let txn = uuid::Uuid::new_v4().simple().to_string();
        let path = format!(
            "/rooms/{}/redact/{}/{txn}",
            encode(room_id),
            encode(event_id)
        );
        let value = self.put("redacting an event", &path, json!({})).await?;
        Ok(value["event_id"].as_str().unwrap_or_default().to_owned())
    }

    /// Sends a state event; returns its event ID.
    pub async fn send_state(
        &self,
        room_id: &str,
        event_type: &str,
        state_key: &str,
        content: Value,
    ) -> Result<String> {
        let path = format!(
            "/rooms/{}/state/{}/{}",
            encode(room_id),
            encode(event_type),
            encode(state_key)
        );
        let value = self.put("sending a state event", &path, content).await?;
        Ok(value["event_id"].as_str().unwrap_or_default().to_owned())
    }

    /// The room's current state events.
    pub async fn room_state(&self, room_id: &str) -> Result<Vec<Value>> {
        let value = self
            .get(
                "reading room state",
                &format!("/rooms/{}/state", encode(room_id)),
            )
            .await?;
        Ok(value.as_array().cloned().unwrap_or_default())
    }

    /// The content of one state event, if set.
    pub async fn state_event(
        &self,
        room_id: &str,
        event_type: &str,
        state_key: &str,
    ) -> Result<Option<Value>> {
        let path = format!(
            "/rooms/{}/state/{}/{}",
            encode(room_id),
            encode(event_type),
            encode(state_key)
        );
        match self.get("reading a state event", &path).await {
            Ok(value) => Ok(Some(value)),
            Err(HarnessError::Api { status: 404, .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Joins a room.
    pub async fn join(&self, room_id: &str) -> Result<()> {
        self.post(
            "joining a room",
            &format!("/join/{}", encode(room_id)),
            json!({}),
        )
        .await
        .map(|_| ())
    }

    /// An OpenID token for the user (what a widget gets from `requestOpenIDConnectToken`).
    pub async fn openid_token(&self) -> Result<Value> {
        let path = format!("/user/{}/openid/request_token", encode(&self.user_id));
        self.post("requesting an OpenID token", &path, json!({}))
            .await
    }

    /// Invites `user` to a room.
    pub async fn invite(&self, room_id: &str, user: &str) -> Result<()> {
        let path = format!("/rooms/{}/invite", encode(room_id));
        self.post("inviting", &path, json!({"user_id": user}))
            .await
            .map(|_| ())
    }

    /// Removes `user` from a room (a kick).
    pub async fn kick(&self, room_id: &str, user: &str) -> Result<()> {
        let path = format!("/rooms/{}/kick", encode(room_id));
        self.post("kicking", &path, json!({"user_id": user, "reason": "test"}))
            .await
            .map(|_| ())
    }

    /// Leaves a room.
    pub async fn leave(&self, room_id: &str) -> Result<()> {
        self.post(
            "leaving a room",
            &format!("/rooms/{}/leave", encode(room_id)),
            json!({}),
        )
        .await
        .map(|_| ())
    }

    /// The users joined to a room.
    pub async fn joined_members(&self, room_id: &str) -> Result<Vec<String>> {
        let value = self
            .get(
                "listing members",
                &format!("/rooms/{}/joined_members", encode(room_id)),
            )
            .await?;
        Ok(value["joined"]
            .as_object()
            .map(|joined| joined.keys().cloned().collect())
            .unwrap_or_default())
    }

    /// Rooms the user is invited to (from a full `/sync`).
    pub async fn invited_rooms(&self) -> Result<Vec<String>> {
        let value = self.get("syncing", "/sync?timeout=0").await?;
        Ok(value["rooms"]["invite"]
            .as_object()
            .map(|rooms| rooms.keys().cloned().collect())
            .unwrap_or_default())
    }

    /// The latest `limit` events of a room, newest first.
    pub async fn messages(&self, room_id: &str, limit: u32) -> Result<Vec<Value>> {
        let path = format!("/rooms/{}/messages?dir=b&limit={limit}", encode(room_id));
        let value = self.get("reading messages", &path).await?;
        Ok(value["chunk"].as_array().cloned().unwrap_or_default())
    }

    /// Waits until an event of the room satisfies `predicate`, and returns it.
    pub async fn wait_for_event(
        &self,
        room_id: &str,
        timeout: Duration,
        predicate: impl Fn(&Value) -> bool,
    ) -> Result<Value> {
        let predicate = &predicate;
        wait_for(
            &format!("an awaited event in {room_id}"),
            timeout,
            || async move {
                self.messages(room_id, 50)
                    .await
                    .ok()?
                    .into_iter()
                    .find(|event| predicate(event))
            },
        )
        .await
    }

    /// Waits until `member` is joined to the room.
    pub async fn wait_for_member(
        &self,
        room_id: &str,
        member: &str,
        timeout: Duration,
    ) -> Result<()> {
        wait_for(
            &format!("{member} to join {room_id}"),
            timeout,
            || async move {
                self.joined_members(room_id)
                    .await
                    .ok()?
                    .iter()
                    .any(|m| m == member)
                    .then_some(())
            },
        )
        .await
    }
}
