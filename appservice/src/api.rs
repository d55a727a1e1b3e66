//! The REST API (`/api/v1/…`) and the health check, as axum routes.
//!
//! Errors are answered like the Matrix spec does: `{"errcode": "...", "error": "..."}`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::get,
};
use parvis_homeserver_bridge::{
    HomeserverClient, MatrixErrorBody, OpenIdError, OpenIdToken, OpenIdVerifier,
    transaction::token_matches,
};
use ruma::{OwnedUserId, api::client::account::whoami};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::publishing::{
    api::ErrorBody,
    permission::{RoomPowers, check_member},
    publication::PublicationKind,
};
use crate::{
    bot::{Bot, CreatedCommunity},
    command::{self, CreateCommunity},
    community::Role,
    events::RoomPurpose,
    store::{CommunitySummary, Index, IndexStore, StoreError},
};

/// How long a verified access token is trusted before it is checked again with the homeserver.
const SESSION_TTL: Duration = Duration::from_secs(300);

/// What the API handlers reach: services, never the database directly.
#[derive(Debug)]
pub struct ApiState {
    /// The bot (creates communities).
    pub bot: Arc<Bot>,
    /// The index (reads).
    pub index: Index,
    /// The homeserver client (verifies users' tokens, writes as users).
    pub client: HomeserverClient,
    /// Token of administrative calls, if enabled.
    pub admin_token: Option<String>,
    /// Access tokens verified recently: SHA-256 of the token → user and expiry.
    pub sessions: Mutex<HashMap<[u8; 32], (String, Instant)>>,
    /// Widget sessions (from OpenID tokens): SHA-256 of the session token → user and expiry.
    pub widget_sessions: Mutex<HashMap<[u8; 32], (String, Instant)>>,
    /// Verifies widgets' OpenID tokens.
    pub openid: OpenIdVerifier,
    /// What `GET /api/v1/info` tells the web app.
    pub info: Value,
}

/// Prefix of widget session tokens, to tell them from Matrix access tokens.
const WIDGET_SESSION_PREFIX: &str = "pvs_";
/// How long a widget session lasts; the widget exchanges a new OpenID token after.
const WIDGET_SESSION_TTL: Duration = Duration::from_secs(3600);

/// A signed-in user: with their Matrix access token (standalone web app, any client), or a
/// widget session obtained with an OpenID token.
#[derive(Clone, Debug)]
pub struct SignedInUser {
    /// Their user ID, as the homeserver says.
    pub user_id: String,
    /// Their access token, to act as them; `None` in a widget session (the widget writes
    /// through Element's widget API).
    pub access_token: Option<String>,
}

impl SignedInUser {
    /// The access token to write as the user, or the answer explaining how to write instead.
    pub fn write_token(&self) -> Result<&str, MatrixErrorBody> {
        self.access_token.as_deref().ok_or_else(|| {
            MatrixErrorBody::new(
                StatusCode::FORBIDDEN,
                "ORG.PARVIS_WIDGET_SESSION",
                "a widget session cannot write through Parvis: send the event through the widget API, as yourself",
            )
        })
    }
}

/// Verifies the caller's Matrix access token (`Authorization: Bearer`) with the homeserver
/// (`GET /_matrix/client/v3/account/whoami`), remembering the answer for a few minutes.
pub async fn authenticate(
    state: &ApiState,
    headers: &HeaderMap,
) -> Result<SignedInUser, MatrixErrorBody> {
    let token = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(|| {
            MatrixErrorBody::new(
                StatusCode::UNAUTHORIZED,
                "M_MISSING_TOKEN",
                "sign in: send `Authorization: Bearer <your Matrix access token>`",
            )
        })?;
    let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    if token.starts_with(WIDGET_SESSION_PREFIX) {
        let sessions = state
            .widget_sessions
            .lock()
            .map_err(|_| MatrixErrorBody::internal("session store poisoned"))?;
        return match sessions.get(&key) {
            Some((user_id, expiry)) if *expiry > Instant::now() => Ok(SignedInUser {
                user_id: user_id.clone(),
                access_token: None,
            }),
            _ => Err(MatrixErrorBody::new(
                StatusCode::UNAUTHORIZED,
                "M_UNKNOWN_TOKEN",
                "this widget session has expired: exchange a new OpenID token",
            )),
        };
    }
    if let Ok(sessions) = state.sessions.lock()
        && let Some((user_id, expiry)) = sessions.get(&key)
        && *expiry > Instant::now()
    {
        return Ok(SignedInUser {
            user_id: user_id.clone(),
            access_token: Some(token.to_owned()),
        });
    }
    let user_id = match state
        .client
        .send_with_user_token(whoami::v3::Request::new(), token)
        .await
    {
        Ok(response) => response.user_id.to_string(),
        Err(error) if matches!(error.errcode(), Some("M_UNKNOWN_TOKEN" | "M_MISSING_TOKEN")) => {
            return Err(MatrixErrorBody::new(
                StatusCode::UNAUTHORIZED,
                "M_UNKNOWN_TOKEN",
                "the homeserver does not know this access token",
            ));
        }
        Err(error) => {
            return Err(MatrixErrorBody::new(
                StatusCode::BAD_GATEWAY,
                "ORG.PARVIS_HOMESERVER",
                format!("cannot verify the token: {error}"),
            ));
        }
    };
    if let Ok(mut sessions) = state.sessions.lock() {
        sessions.retain(|_, (_, expiry)| *expiry > Instant::now());
        sessions.insert(key, (user_id.clone(), Instant::now() + SESSION_TTL));
    }
    Ok(SignedInUser {
        user_id,
        access_token: Some(token.to_owned()),
    })
}

/// `POST /api/v1/auth/openid` — exchanges a widget's OpenID token for a session token, after
/// checking it with the user's homeserver.
#[utoipa::path(post, path = "/api/v1/auth/openid", request_body(content = Object, description = "The OpenID token from `requestOpenIDConnectToken`: `{access_token, token_type, matrix_server_name, expires_in}`"),
    responses((status = 200, description = "`{session_token, user_id, expires_in}`", body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn openid_login(
    State(state): State<Arc<ApiState>>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, MatrixErrorBody> {
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| MatrixErrorBody::not_json(format!("the body is not JSON: {e}")))?;
    let token: OpenIdToken = serde_json::from_value(value)
        .map_err(|e| MatrixErrorBody::bad_json(format!("not an OpenID token: {e}")))?;
    let user_id = state
        .openid
        .verify(&token)
        .await
        .map_err(|error| match error {
            OpenIdError::Rejected(_) => MatrixErrorBody::new(
                StatusCode::UNAUTHORIZED,
                "M_UNKNOWN_TOKEN",
                error.to_string(),
            ),
            OpenIdError::WrongServer { .. } | OpenIdError::PrivateAddress(_) => {
                MatrixErrorBody::forbidden(error.to_string())
            }
            OpenIdError::Unreachable { .. } => MatrixErrorBody::new(
                StatusCode::BAD_GATEWAY,
                "ORG.PARVIS_HOMESERVER",
                error.to_string(),
            ),
        })?;
    let session = format!("{WIDGET_SESSION_PREFIX}{}", parvis_config::random_token());
    let key: [u8; 32] = Sha256::digest(session.as_bytes()).into();
    let mut sessions = state
        .widget_sessions
        .lock()
        .map_err(|_| MatrixErrorBody::internal("session store poisoned"))?;
    sessions.retain(|_, (_, expiry)| *expiry > Instant::now());
    sessions.insert(
        key,
        (user_id.to_string(), Instant::now() + WIDGET_SESSION_TTL),
    );
    Ok(Json(
        json!({"session_token": session, "user_id": user_id, "expires_in": WIDGET_SESSION_TTL.as_secs()}),
    ))
}

/// `GET /api/v1/info` — what the web app needs before signing in.
#[utoipa::path(get, path = "/api/v1/info", responses((status = 200, description = "`{server_name, homeserver_url, version}`", body = Object)))]
async fn info(State(state): State<Arc<ApiState>>) -> Json<Value> {
    Json(state.info.clone())
}

/// `GET /api/v1/communities/mine` — the communities whose space the signed-in user has joined.
#[utoipa::path(get, path = "/api/v1/communities/mine", security(("matrix_token" = [])),
    responses((status = 200, body = Vec<CommunitySummary>), (status = 401, body = ErrorBody)))]
async fn my_communities(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
) -> Result<Json<Vec<CommunitySummary>>, MatrixErrorBody> {
    let user = authenticate(&state, &headers).await?;
    let mut mine = Vec::new();
    for community in state
        .index
        .communities()
        .await
        .map_err(|e| MatrixErrorBody::internal(e.to_string()))?
    {
        let membership = state
            .index
            .membership(community.space_id.as_str(), &user.user_id)
            .await;
        if membership
            .map_err(|e| MatrixErrorBody::internal(e.to_string()))?
            .as_deref()
            == Some("join")
        {
            mine.push(community);
        }
    }
    Ok(Json(mine))
}

/// A member of a community, as its space shows them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommunityMember {
    /// Their user ID.
    pub user_id: String,
    /// Their display name in the space, if they set one.
    pub display_name: Option<String>,
    /// Their role.
    pub role: Role,
    /// Their power level in the space (`null` for a creator with unlimited power).
    pub power_level: Option<i64>,
}

/// Something that changed recently in a community: a published object's latest revision.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommunityActivity {
    /// Its room.
    pub room_id: String,
    /// Its kind.
    pub kind: PublicationKind,
    /// Its ID.
    pub object_id: String,
    /// Its title (the question, for FAQ entries).
    pub title: String,
    /// Who wrote the latest revision.
    pub author: String,
    /// When, in milliseconds since the epoch.
    pub updated_at: i64,
}

/// `GET /api/v1/communities/{space}`: a community, its members and roles, recent activity.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommunityOverview {
    /// The community.
    #[serde(flatten)]
    pub community: CommunitySummary,
    /// Who has joined its space, owners first, then by user ID.
    pub members: Vec<CommunityMember>,
    /// The last changes to published objects the user may read, newest first.
    pub activity: Vec<CommunityActivity>,
}

/// How many changes the overview lists.
const ACTIVITY_LEN: usize = 20;

/// `GET /api/v1/communities/{space}` — for members of its space only.
#[utoipa::path(get, path = "/api/v1/communities/{space}", security(("matrix_token" = [])),
    params(("space" = String, Path, description = "The community's space ID")),
    responses((status = 200, body = CommunityOverview), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn community_overview(
    State(state): State<Arc<ApiState>>,
    Path(space): Path<String>,
    headers: HeaderMap,
) -> Result<Json<CommunityOverview>, MatrixErrorBody> {
    let user = authenticate(&state, &headers).await?;
    let internal = |e: StoreError| MatrixErrorBody::internal(e.to_string());
    let community = state
        .index
        .communities()
        .await
        .map_err(internal)?
        .into_iter()
        .find(|community| community.space_id == space)
        .ok_or_else(|| MatrixErrorBody::not_found(format!("no community {space}")))?;
    check_member(&state.index, &space, &user.user_id)
        .await
        .map_err(internal)?
        .map_err(|refusal| MatrixErrorBody::forbidden(refusal.to_string()))?;

    let powers = RoomPowers::load(&state.index, &space)
        .await
        .map_err(internal)?;
    let mut members: Vec<CommunityMember> = state
        .index
        .state_events(&space, "m.room.member")
        .await
        .map_err(internal)?
        .into_iter()
        .filter(|(_, _, content)| content.get("membership").and_then(Value::as_str) == Some("join"))
        .map(|(user_id, _, content)| CommunityMember {
            display_name: content
                .get("displayname")
                .and_then(Value::as_str)
                .map(str::to_owned),
            role: powers.role_of(&user_id),
            power_level: powers.level_of(&user_id),
            user_id,
        })
        .collect();
    members.sort_by(|a, b| {
        (b.power_level.is_none(), b.power_level)
            .cmp(&(a.power_level.is_none(), a.power_level))
            .then_with(|| a.user_id.cmp(&b.user_id))
    });

    let mut activity = Vec::new();
    for (room_id, _) in &community.rooms {
        // Only rooms the user has joined, as everywhere else.
        if check_member(&state.index, room_id.as_str(), &user.user_id)
            .await
            .map_err(internal)?
            .is_err()
        {
            continue;
        }
        for kind in PublicationKind::ALL {
            for item in state
                .index
                .publications(room_id.as_str(), kind)
                .await
                .map_err(internal)?
            {
                if item.status == "published" || item.author == user.user_id {
                    activity.push(CommunityActivity {
                        room_id: item.room_id,
                        kind: item.kind,
                        object_id: item.object_id,
                        title: item.title,
                        author: item.author,
                        updated_at: item.updated_at,
                    });
                }
            }
        }
    }
    activity.sort_by(|a, b| {
        b.updated_at
            .cmp(&a.updated_at)
            .then_with(|| a.object_id.cmp(&b.object_id))
    });
    activity.truncate(ACTIVITY_LEN);
    Ok(Json(CommunityOverview {
        community,
        members,
        activity,
    }))
}

/// Body of a render request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RenderBody {
    /// Markdown to render.
    pub markdown: String,
}

/// `POST /api/v1/render` — markdown to sanitized HTML, as pages are rendered (live preview).
#[utoipa::path(post, path = "/api/v1/render", request_body = RenderBody, security(("matrix_token" = [])),
    responses((status = 200, description = "`{html}`", body = Object), (status = 401, body = ErrorBody)))]
async fn render(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Json(body): Json<RenderBody>,
) -> Result<Json<Value>, MatrixErrorBody> {
    authenticate(&state, &headers).await?;
    let rendered = crate::publishing::render::render_markdown(&body.markdown, &|_| None);
    Ok(Json(json!({"html": rendered.html})))
}

/// The OpenAPI description of the REST API, generated from the handlers and types.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Parvis", description = "Collaboration communities on Matrix. Sign in with your Matrix access token (`Authorization: Bearer`)."),
    paths(
        health, info, openid_login, my_communities, community_overview, render, create_community, list_communities,
        crate::publishing::api::list, crate::publishing::api::read, crate::publishing::api::create,
        crate::publishing::api::update, crate::publishing::api::revisions, crate::publishing::api::diff,
        crate::publishing::api::restore, crate::publishing::api::search,
        crate::publishing::api::comments, crate::publishing::api::comment,
    ),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(description))
                    .build(),
            )
        };
        components.add_security_scheme(
            "matrix_token",
            bearer("The user's Matrix access token, checked with their homeserver."),
        );
        components.add_security_scheme(
            "admin_token",
            bearer("The `api.admin_token` of the configuration."),
        );
    }
}

/// The OpenAPI description as `parvis openapi` writes it: pretty JSON ending with a newline.
pub fn openapi_document() -> String {
    let mut text = serde_json::to_string_pretty(&<ApiDoc as utoipa::OpenApi>::openapi())
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// `GET /api/v1/openapi.json` — this API's OpenAPI description.
async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(<ApiDoc as utoipa::OpenApi>::openapi())
}

/// The REST routes.
pub fn api_router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/info", get(info))
        .route("/api/v1/auth/openid", axum::routing::post(openid_login))
        .route("/api/v1/communities/mine", get(my_communities))
        .route("/api/v1/communities/{space}", get(community_overview))
        .route("/api/v1/render", axum::routing::post(render))
        .route(
            "/api/v1/communities",
            get(list_communities).post(create_community),
        )
        .with_state(state.clone())
        .merge(crate::publishing::api::publishing_router(state))
}

/// `GET /health` — answers 200 when Parvis is up and its index readable.
#[utoipa::path(get, path = "/health", responses((status = 200, description = "`{\"status\": \"ok\"}`", body = Object)))]
async fn health(State(state): State<Arc<ApiState>>) -> Result<Json<Value>, MatrixErrorBody> {
    state
        .index
        .next_job_due()
        .await
        .map_err(|e| MatrixErrorBody::internal(format!("index unavailable: {e}")))?;
    Ok(Json(json!({"status": "ok"})))
}

fn require_admin(state: &ApiState, headers: &HeaderMap) -> Result<(), MatrixErrorBody> {
    let Some(expected) = state.admin_token.as_deref() else {
        return Err(MatrixErrorBody::forbidden(
            "administrative calls are disabled: set api.admin_token",
        ));
    };
    let presented = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(|| {
            MatrixErrorBody::new(
                StatusCode::UNAUTHORIZED,
                "M_MISSING_TOKEN",
                "send `Authorization: Bearer <admin token>`",
            )
        })?;
    if token_matches(expected, presented) {
        Ok(())
    } else {
        Err(MatrixErrorBody::new(
            StatusCode::UNAUTHORIZED,
            "M_UNKNOWN_TOKEN",
            "the admin token is not valid",
        ))
    }
}

/// Body of `POST /api/v1/communities`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCommunityBody {
    /// The community's name.
    pub name: String,
    /// Its description.
    #[serde(default)]
    pub description: String,
    /// Tools to enable (all when absent).
    pub tools: Option<Vec<String>>,
    /// The user who becomes owner.
    #[schema(value_type = String)]
    pub owner: OwnedUserId,
    /// End-to-end encrypted rooms (as `e2ee.encrypt_new_communities` says when absent).
    #[serde(default)]
    pub encrypted: Option<bool>,
}

/// `POST /api/v1/communities` — creates a community for `owner` (admin token).
#[utoipa::path(post, path = "/api/v1/communities", request_body = CreateCommunityBody, security(("admin_token" = [])),
    responses((status = 201, body = CreatedCommunity), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
async fn create_community(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<CreatedCommunity>), MatrixErrorBody> {
    require_admin(&state, &headers)?;
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| MatrixErrorBody::not_json(format!("the body is not JSON: {e}")))?;
    let body: CreateCommunityBody = serde_json::from_value(value).map_err(|e| {
        MatrixErrorBody::bad_json(format!("the body is not a community request: {e}"))
    })?;
    command::validate_name(&body.name).map_err(|e| {
        MatrixErrorBody::new(StatusCode::BAD_REQUEST, "M_INVALID_PARAM", e.to_string())
    })?;
    let tools = match &body.tools {
        None => RoomPurpose::TOOLS.to_vec(),
        Some(names) => command::parse_tools(&names.join(",")).map_err(|e| {
            MatrixErrorBody::new(StatusCode::BAD_REQUEST, "M_INVALID_PARAM", e.to_string())
        })?,
    };
    let request = CreateCommunity {
        name: body.name,
        description: body.description,
        tools,
        encrypted: body.encrypted,
    };
    let created = state
        .bot
        .create_community(&body.owner, &request)
        .await
        .map_err(|error| {
            MatrixErrorBody::new(
                StatusCode::BAD_GATEWAY,
                "ORG.PARVIS_HOMESERVER",
                format!("the homeserver did not create the community: {error}"),
            )
        })?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /api/v1/communities` — the communities in the index (admin token).
#[utoipa::path(get, path = "/api/v1/communities", security(("admin_token" = [])),
    responses((status = 200, body = Vec<CommunitySummary>), (status = 401, body = ErrorBody)))]
async fn list_communities(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
) -> Result<Json<Vec<CommunitySummary>>, MatrixErrorBody> {
    require_admin(&state, &headers)?;
    let communities = state
        .index
        .communities()
        .await
        .map_err(|e| MatrixErrorBody::internal(e.to_string()))?;
    Ok(Json(communities))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The web app's API types are generated from `widgets/openapi.json`: it must be this
    /// API's description, or the app would be typed against another API.
    #[test]
    fn the_web_apps_copy_of_the_openapi_description_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../widgets/openapi.json");
        let copy = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            copy == openapi_document(),
            "widgets/openapi.json is stale: run `cargo run -p parvis -- openapi --output widgets/openapi.json`"
        );
    }

    #[test]
    fn openapi_describes_every_route_and_schema() {
        let doc = serde_json::to_value(<ApiDoc as utoipa::OpenApi>::openapi()).unwrap();
        for path in [
            "/health",
            "/api/v1/communities",
            "/api/v1/communities/{space}/{tool}",
            "/api/v1/communities/{space}/{tool}/{id}",
            "/api/v1/communities/{space}/{tool}/{id}/revisions",
            "/api/v1/communities/{space}/{tool}/{id}/diff",
            "/api/v1/communities/{space}/{tool}/{id}/restore",
            "/api/v1/communities/{space}/{tool}/{id}/comments",
            "/api/v1/search",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} missing");
        }
        for schema in [
            "PublicationRow",
            "PublicationView",
            "SearchHit",
            "RevisionView",
            "DiffLine",
            "ErrorBody",
            "CommunitySummary",
        ] {
            assert!(
                doc["components"]["schemas"][schema].is_object(),
                "{schema} missing"
            );
        }
        assert_eq!(
            doc["components"]["securitySchemes"]["matrix_token"]["scheme"],
            "bearer"
        );
        assert_eq!(
            doc["paths"]["/api/v1/search"]["get"]["parameters"][0]["name"],
            "q"
        );
    }
}
