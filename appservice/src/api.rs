//! The REST API (`/api/v1/…`) and the health check, as axum routes.
//!
//! Errors are answered like the Matrix spec does: `{"errcode": "...", "error": "..."}`, from
//! the extractors of [`extract`] too; internal causes are logged, never sent.

pub mod extract;
pub mod kept_answers;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    extract::{FromRequestParts, State},
    http::{HeaderMap, StatusCode, request::Parts},
    routing::{get, post},
};
use parvis_homeserver_bridge::{
    HomeserverClient, MatrixErrorBody, OpenIdError, OpenIdToken, OpenIdVerifier,
    transaction::token_matches,
};
use ruma::{
    OwnedRoomId, OwnedUserId, RoomId,
    api::{client::account::whoami, error::ErrorKind},
    events::{StateEventType, room::member::MembershipState},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use self::extract::{
    ApiError, ApiJson, ApiPath, ErrorBody, homeserver_error, matrix_method_not_allowed,
    unknown_route,
};
use crate::{
    bot::{Bot, CreatedCommunity},
    command::{self, CreateCommunity},
    community::Role,
    store::{CommunitySummary, Index, IndexStore},
};
use crate::{
    permission::{RoomPowers, check_member},
    publishing::{index::PublicationIndex, kind::PublicationKind},
    tools,
};

/// How long a verified access token is trusted before it is checked again with the homeserver.
/// Short, because a token signed out elsewhere stays trusted that long for reads (writes are
/// sent with the token, so the homeserver refuses them at once); signing out of the web app
/// (`POST /api/v1/auth/logout`) forgets it at once.
const SESSION_TTL: Duration = Duration::from_secs(60);
/// How long a token the homeserver refused is refused without asking again: a client retrying
/// with a stale token must not make Parvis call the homeserver for each request.
const REFUSED_TOKEN_TTL: Duration = Duration::from_secs(30);
/// Most tokens remembered (verified and refused together); past it the oldest are dropped.
const MAX_CACHED_TOKENS: usize = 10_000;

/// The room of `purpose` in community `space`.
pub(crate) async fn community_room(
    state: &ApiState,
    space: &str,
    purpose: crate::events::RoomPurpose,
) -> Result<OwnedRoomId, ApiError> {
    let no_community = || MatrixErrorBody::not_found(format!("no community {space}"));
    let space_id = <&RoomId>::try_from(space).map_err(|_| no_community())?;
    let rooms = state
        .index
        .community_rooms(space_id)
        .await?
        .ok_or_else(no_community)?;
    rooms
        .into_iter()
        .find(|(_, room_purpose)| room_purpose == purpose.as_str())
        .map(|(room_id, _)| room_id)
        .ok_or_else(|| {
            MatrixErrorBody::not_found(format!("the community has no {} tool", purpose.as_str()))
                .into()
        })
}

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
    pub sessions: Mutex<HashMap<[u8; 32], (OwnedUserId, Instant)>>,
    /// Access tokens the homeserver refused recently: SHA-256 of the token → expiry.
    pub refused_tokens: Mutex<HashMap<[u8; 32], Instant>>,
    /// Widget sessions (from OpenID tokens): SHA-256 of the session token → user and expiry.
    pub widget_sessions: Mutex<HashMap<[u8; 32], (OwnedUserId, Instant)>>,
    /// Verifies widgets' OpenID tokens.
    pub openid: OpenIdVerifier,
    /// What `GET /api/v1/info` tells the web app.
    pub info: Value,
    /// The counters shown at `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Answers kept until their room changes ([`KEPT_ANSWERS_BUDGET`] bytes at most).
    pub answers: kept_answers::KeptAnswers,
}

/// How many bytes of answers the API keeps ready to send (a board of 5,000 cards is ≈ 2 MB).
pub const KEPT_ANSWERS_BUDGET: usize = 64 << 20;

/// Prefix of widget session tokens, to tell them from Matrix access tokens.
const WIDGET_SESSION_PREFIX: &str = "pvs_";
/// How long a widget session lasts; the widget exchanges a new OpenID token after.
const WIDGET_SESSION_TTL: Duration = Duration::from_secs(3600);

/// A signed-in user: with their Matrix access token (standalone web app, any client), or a
/// widget session obtained with an OpenID token.
#[derive(Clone, Debug)]
pub struct SignedInUser {
    /// Their user ID, as the homeserver says.
    pub user_id: OwnedUserId,
    /// Their access token, to act as them; `None` in a widget session (the widget writes
    /// through Element's widget API).
    pub access_token: Option<String>,
}

impl SignedInUser {
    /// The access token to write as the user, or the answer explaining how to write instead.
    pub fn write_token(&self) -> Result<&str, ApiError> {
        self.access_token.as_deref().ok_or_else(|| {
            MatrixErrorBody::new(
                StatusCode::FORBIDDEN,
                "ORG.PARVIS_WIDGET_SESSION",
                "a widget session cannot write through Parvis: send the event through the widget API, as yourself",
            )
            .into()
        })
    }
}

/// Verifies the caller's Matrix access token (`Authorization: Bearer`) with the homeserver
/// (`GET /_matrix/client/v3/account/whoami`), remembering the answer for a few minutes.
pub async fn authenticate(state: &ApiState, headers: &HeaderMap) -> Result<SignedInUser, ApiError> {
    let token = bearer_token(headers).ok_or_else(|| {
        MatrixErrorBody::new(
            StatusCode::UNAUTHORIZED,
            "M_MISSING_TOKEN",
            "sign in: send `Authorization: Bearer <your Matrix access token>`",
        )
    })?;
    let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    if token.starts_with(WIDGET_SESSION_PREFIX) {
        let sessions = state.widget_sessions.lock()?;
        return match sessions.get(&key) {
            Some((user_id, expiry)) if *expiry > Instant::now() => Ok(SignedInUser {
                user_id: user_id.clone(),
                access_token: None,
            }),
            _ => Err(MatrixErrorBody::new(
                StatusCode::UNAUTHORIZED,
                "M_UNKNOWN_TOKEN",
                "this widget session has expired: exchange a new OpenID token",
            )
            .into()),
        };
    }
    let unknown_token = || {
        MatrixErrorBody::new(
            StatusCode::UNAUTHORIZED,
            "M_UNKNOWN_TOKEN",
            "the homeserver does not know this access token",
        )
    };
    if let Ok(sessions) = state.sessions.lock()
        && let Some((user_id, expiry)) = sessions.get(&key)
        && *expiry > Instant::now()
    {
        return Ok(SignedInUser {
            user_id: user_id.clone(),
            access_token: Some(token.to_owned()),
        });
    }
    if let Ok(refused) = state.refused_tokens.lock()
        && refused
            .get(&key)
            .is_some_and(|expiry| *expiry > Instant::now())
    {
        return Err(unknown_token().into());
    }
    let user_id = match state
        .client
        .send_with_user_token(whoami::v3::Request::new(), token)
        .await
    {
        Ok(response) => response.user_id,
        Err(error)
            if matches!(
                error.kind(),
                Some(ErrorKind::UnknownToken(_) | ErrorKind::MissingToken)
            ) =>
        {
            if let Ok(mut refused) = state.refused_tokens.lock() {
                remember(
                    &mut refused,
                    key,
                    Instant::now() + REFUSED_TOKEN_TTL,
                    |expiry| *expiry,
                );
            }
            return Err(unknown_token().into());
        }
        Err(error) => return Err(homeserver_error("sign-in check", error).into()),
    };
    if let Ok(mut sessions) = state.sessions.lock() {
        remember(
            &mut sessions,
            key,
            (user_id.clone(), Instant::now() + SESSION_TTL),
            |(_, expiry)| *expiry,
        );
    }
    Ok(SignedInUser {
        user_id,
        access_token: Some(token.to_owned()),
    })
}

/// Adds an entry to a cache of tokens, dropping the expired ones, and the oldest when the cache
/// is full (a flood of random tokens must not grow it without bound).
fn remember<V>(
    cache: &mut HashMap<[u8; 32], V>,
    key: [u8; 32],
    value: V,
    expiry: impl Fn(&V) -> Instant,
) {
    let now = Instant::now();
    cache.retain(|_, value| expiry(value) > now);
    if cache.len() >= MAX_CACHED_TOKENS
        && let Some(oldest) = cache
            .iter()
            .min_by_key(|(_, value)| expiry(value))
            .map(|(key, _)| *key)
    {
        cache.remove(&oldest);
    }
    cache.insert(key, value);
}

/// `POST /api/v1/auth/logout` — forgets the caller's token or widget session at once (the web
/// app calls it when its user signs out; the Matrix token itself is signed out at the
/// homeserver).
#[utoipa::path(post, path = "/api/v1/auth/logout", security(("matrix_token" = [])),
    responses((status = 200, description = "`{}`", body = Object), (status = 401, body = ErrorBody)))]
async fn logout(
    State(state): State<Arc<ApiState>>,
    _user: SignedInUser,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    if let Some(token) = bearer_token(&headers) {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Ok(mut sessions) = state.sessions.lock() {
            sessions.remove(&key);
        }
        if let Ok(mut sessions) = state.widget_sessions.lock() {
            sessions.remove(&key);
        }
    }
    Ok(Json(json!({})))
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
}

/// `POST /api/v1/auth/openid` — exchanges a widget's OpenID token for a session token, after
/// checking it with the user's homeserver.
#[utoipa::path(post, path = "/api/v1/auth/openid", request_body(content = Object, description = "The OpenID token from `requestOpenIDConnectToken`: `{access_token, token_type, matrix_server_name, expires_in}`"),
    responses((status = 200, description = "`{session_token, user_id, expires_in}`", body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn openid_login(
    State(state): State<Arc<ApiState>>,
    ApiJson(token): ApiJson<OpenIdToken>,
) -> Result<Json<Value>, ApiError> {
    let verified = state
        .openid
        .verify_with_expiry(&token)
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
    let mut sessions = state.widget_sessions.lock()?;
    // The session ends when the OpenID token would have: a token the homeserver issued for a
    // few minutes does not buy an hour.
    let lifetime = verified.expires_in.min(WIDGET_SESSION_TTL);
    let user_id = verified.user_id;
    remember(
        &mut sessions,
        key,
        (user_id.clone(), Instant::now() + lifetime),
        |(_, expiry)| *expiry,
    );
    Ok(Json(
        json!({"session_token": session, "user_id": user_id, "expires_in": lifetime.as_secs()}),
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
    user: SignedInUser,
) -> Result<Json<Vec<CommunitySummary>>, ApiError> {
    let mut mine = Vec::new();
    for community in state.index.communities().await? {
        let membership = state
            .index
            .membership(&community.space_id, &user.user_id)
            .await;
        if membership? == Some(MembershipState::Join) {
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
    #[schema(value_type = String)]
    pub room_id: OwnedRoomId,
    /// Its kind.
    pub kind: PublicationKind,
    /// Its ID.
    pub object_id: String,
    /// Its title (the question, for FAQ entries).
    pub title: String,
    /// Who wrote the latest revision.
    #[schema(value_type = String)]
    pub author: OwnedUserId,
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
    user: SignedInUser,
    ApiPath(space): ApiPath<String>,
) -> Result<Json<CommunityOverview>, ApiError> {
    let community = state
        .index
        .communities()
        .await?
        .into_iter()
        .find(|community| community.space_id == space)
        .ok_or_else(|| MatrixErrorBody::not_found(format!("no community {space}")))?;
    let space_id = &community.space_id;
    check_member(&state.index, space_id, &user.user_id)
        .await?
        .map_err(|refusal| MatrixErrorBody::forbidden(refusal.to_string()))?;

    let powers = RoomPowers::load(&state.index, space_id).await?;
    let mut members: Vec<CommunityMember> = state
        .index
        .state_events(space_id, &StateEventType::RoomMember)
        .await?
        .into_iter()
        .filter(|(_, _, content)| content.get("membership").and_then(Value::as_str) == Some("join"))
        // A member's state key is their user ID; the homeserver let no other through.
        .filter_map(|(user_id, _, content)| {
            let member = OwnedUserId::try_from(user_id).ok()?;
            Some(CommunityMember {
                display_name: content
                    .get("displayname")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                role: powers.role_of(&member),
                power_level: powers.level_of(&member),
                user_id: member.into(),
            })
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
        if check_member(&state.index, room_id, &user.user_id)
            .await?
            .is_err()
        {
            continue;
        }
        for kind in tools::publication_kinds() {
            for item in state.index.publications(room_id, kind).await? {
                if item.status == "published" || item.author == user.user_id {
                    activity.push(CommunityActivity {
                        kind: item.kind(),
                        room_id: item.room_id,
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

/// Image types an avatar is passed on as: the homeserver's thumbnails are PNG, JPEG, GIF or
/// WebP; anything else (SVG above all, which can carry script) is not served from Parvis's
/// origin.
const AVATAR_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];
/// The side of the avatar thumbnail asked of the homeserver, in pixels (shown at 24–48).
const AVATAR_SIDE: u32 = 96;

/// `GET /api/v1/communities/{space}/avatars/{user}` — a member's avatar, as a 96 × 96 thumbnail
/// from the homeserver's media repository, for members of the community only (authenticated
/// media needs a token an `<img>` cannot send, and a widget session has none).
#[utoipa::path(get, path = "/api/v1/communities/{space}/avatars/{user}", security(("matrix_token" = [])),
    params(("space" = String, Path, description = "The community's space ID"), ("user" = String, Path, description = "The member's user ID")),
    responses((status = 200, description = "The image (PNG, JPEG, GIF or WebP)", content_type = "image/png"),
        (status = 401, body = ErrorBody), (status = 403, description = "Not a member of the community", body = ErrorBody),
        (status = 404, description = "No such community, member or avatar", body = ErrorBody)))]
async fn member_avatar(
    State(state): State<Arc<ApiState>>,
    caller: SignedInUser,
    ApiPath((space, user)): ApiPath<(String, String)>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    use ruma::api::client::authenticated_media::get_content_thumbnail;

    let no_avatar = || {
        ApiError::from(MatrixErrorBody::not_found(format!(
            "{user} has no avatar here"
        )))
    };
    let space_id = <&RoomId>::try_from(space.as_str())
        .map_err(|_| MatrixErrorBody::not_found(format!("no community {space}")))?;
    state
        .index
        .community_rooms(space_id)
        .await?
        .ok_or_else(|| MatrixErrorBody::not_found(format!("no community {space}")))?;
    check_member(&state.index, space_id, &caller.user_id).await??;
    let member = state
        .index
        .state_content(space_id, &StateEventType::RoomMember, &user)
        .await?
        .ok_or_else(no_avatar)?
        .1;
    let mxc = member
        .get("avatar_url")
        .and_then(Value::as_str)
        .map(ruma::OwnedMxcUri::from)
        .ok_or_else(no_avatar)?;
    let (server, media_id) = mxc.parts().map_err(|_| no_avatar())?;
    let side = ruma::UInt::from(AVATAR_SIDE);
    let mut request =
        get_content_thumbnail::v1::Request::new(media_id.to_owned(), server.to_owned(), side, side);
    request.method = Some(ruma::media::Method::Crop);
    request.timeout_ms = Duration::from_secs(5);
    let thumbnail = match state.bot.intents().bot().send(request).await {
        Ok(thumbnail) => thumbnail,
        Err(error) if error.kind() == Some(&ErrorKind::NotFound) => return Err(no_avatar()),
        Err(error) => return Err(homeserver_error("read the avatar", error).into()),
    };
    let content_type = thumbnail
        .content_type
        .as_deref()
        .and_then(|given| {
            AVATAR_TYPES
                .into_iter()
                .find(|allowed| given.eq_ignore_ascii_case(allowed))
        })
        .ok_or_else(no_avatar)?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type),
            (axum::http::header::CACHE_CONTROL, "private, max-age=3600"),
            (axum::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        thumbnail.file,
    )
        .into_response())
}

/// Body of a render request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RenderBody {
    /// Markdown to render.
    pub markdown: String,
}

/// Largest markdown `POST /api/v1/render` takes: a page's body at most.
const MAX_RENDER_BYTES: usize = crate::events::MAX_BODY_BYTES;

/// `POST /api/v1/render` — markdown to sanitized HTML, as pages are rendered (live preview).
#[utoipa::path(post, path = "/api/v1/render", request_body = RenderBody, security(("matrix_token" = [])),
    responses((status = 200, description = "`{html}`", body = Object), (status = 401, body = ErrorBody),
        (status = 413, description = "Over 1 MiB of markdown", body = ErrorBody),
        (status = 503, description = "Rendering took too long", body = ErrorBody)))]
async fn render(
    State(_state): State<Arc<ApiState>>,
    _user: SignedInUser,
    ApiJson(body): ApiJson<RenderBody>,
) -> Result<Json<Value>, ApiError> {
    if body.markdown.len() > MAX_RENDER_BYTES {
        return Err(MatrixErrorBody::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "M_TOO_LARGE",
            format!(
                "the markdown is {} bytes; at most {MAX_RENDER_BYTES} are rendered",
                body.markdown.len()
            ),
        )
        .into());
    }
    let rendered = crate::publishing::render::render_off_thread(body.markdown, |_| None)
        .await
        .map_err(|error| {
            MatrixErrorBody::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ORG.PARVIS_RENDER_FAILED",
                error.to_string(),
            )
        })?;
    Ok(Json(json!({"html": rendered.html})))
}

/// The OpenAPI description of the REST API, generated from the handlers and types.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Parvis", description = "Collaboration communities on Matrix. Sign in with your Matrix access token (`Authorization: Bearer`)."),
    paths(
        health, ready, info, openid_login, logout, my_communities, community_overview, member_avatar, render, create_community, list_communities,
    ),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

/// A tool's HTTP routes and their OpenAPI description, registered in
/// [`crate::server::TOOL_ROUTES`] and served beside Parvis's own.
#[derive(Clone, Copy, Debug)]
pub struct ToolRoutes {
    /// The tag of its operations in the OpenAPI description (`likes`).
    pub tag: &'static str,
    /// Its routes.
    pub router: fn(Arc<ApiState>) -> Router,
    /// Their description.
    pub openapi: fn() -> utoipa::openapi::OpenApi,
}

struct SecuritySchemes;

/// Documents on every operation the errors any route may answer, so a client knows every
/// status it can meet: 400 for what it sent, 401 and 502 where the caller's token is checked
/// with the homeserver, 413 for bodies, 500 and 503 everywhere.
struct ErrorResponses;

impl utoipa::Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for operation in operations_mut(item) {
                let signed_in = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let has_body = operation.request_body.is_some();
                let has_input =
                    has_body || operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let statuses = [
                    (
                        "400",
                        has_input,
                        "The request is not valid: `M_BAD_JSON`, `M_NOT_JSON`, `M_INVALID_PARAM`",
                    ),
                    ("401", signed_in, "Not signed in, or the token is not valid"),
                    ("413", has_body, "The body is too large (`M_TOO_LARGE`)"),
                    (
                        "500",
                        true,
                        "Parvis failed; the message gives a reference for its log",
                    ),
                    (
                        "502",
                        signed_in,
                        "The homeserver could not be reached or failed",
                    ),
                    (
                        "503",
                        true,
                        "The index or the homeserver is busy or unavailable; try again",
                    ),
                ];
                for (status, applies, description) in statuses {
                    if applies {
                        operation
                            .responses
                            .responses
                            .entry(status.to_owned())
                            .or_insert_with(|| error(description).into());
                    }
                }
            }
        }
    }
}

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

/// The operations of a path, whichever methods it has.
fn operations_mut(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

/// The description of Parvis's API and of every tool's routes.
pub fn openapi_description(tools: &[ToolRoutes]) -> utoipa::openapi::OpenApi {
    let mut description = <ApiDoc as utoipa::OpenApi>::openapi();
    for tool in tools {
        let mut paths = (tool.openapi)();
        for item in paths.paths.paths.values_mut() {
            for operation in operations_mut(item) {
                operation.tags = Some(vec![tool.tag.to_owned()]);
            }
        }
        description.merge(paths);
    }
    utoipa::Modify::modify(&ErrorResponses, &mut description);
    description
}

/// The OpenAPI description as `parvis openapi` writes it: pretty JSON ending with a newline.
pub fn openapi_document(tools: &[ToolRoutes]) -> String {
    let mut text = serde_json::to_string_pretty(&openapi_description(tools))
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// The REST routes: Parvis's own and those of `tools`.
pub fn api_router(state: Arc<ApiState>, tools: &[ToolRoutes]) -> Router {
    // `GET /api/v1/openapi.json` — this API's OpenAPI description.
    let description = Arc::new(openapi_description(tools));
    let openapi = move || {
        let description = description.clone();
        async move { Json(description.as_ref().clone()) }
    };
    let mut router = Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/info", get(info))
        .route("/metrics", get(metrics))
        .route("/api/v1/auth/openid", post(openid_login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/communities/mine", get(my_communities))
        .route("/api/v1/communities/{space}", get(community_overview))
        .route(
            "/api/v1/communities/{space}/avatars/{user}",
            get(member_avatar),
        )
        .route("/api/v1/render", post(render))
        .route(
            "/api/v1/communities",
            get(list_communities).post(create_community),
        )
        .with_state(state.clone());
    for tool in tools {
        router = router.merge((tool.router)(state.clone()));
    }
    router
        .fallback(unknown_route)
        .layer(axum::middleware::from_fn(matrix_method_not_allowed))
}

/// `GET /health` — answers 200 when Parvis is up and its index readable.
#[utoipa::path(get, path = "/health", responses((status = 200, description = "`{\"status\": \"ok\"}`", body = Object)))]
async fn health(State(state): State<Arc<ApiState>>) -> Result<Json<Value>, ApiError> {
    state.index.next_job_due().await.map_err(|error| {
        tracing::error!(%error, "health check: the index cannot be read");
        MatrixErrorBody::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ORG.PARVIS_INDEX_UNAVAILABLE",
            "the index database cannot be read: see Parvis's log",
        )
    })?;
    Ok(Json(json!({"status": "ok"})))
}

/// `GET /ready` — answers 200 when Parvis can take its part: its index is readable and the
/// homeserver has reached it since it started (the appservice ping answered, or a transaction
/// delivered). A load balancer or an orchestrator sends traffic only then; `/health` says
/// whether the process is alive at all.
#[utoipa::path(get, path = "/ready", responses((status = 200, description = "`{\"status\": \"ready\"}`", body = Object), (status = 503, description = "Not ready: the index cannot be read, or the homeserver has not reached Parvis yet", body = ErrorBody)))]
async fn ready(state: State<Arc<ApiState>>) -> Result<Json<Value>, ApiError> {
    let _alive = health(State(state.0.clone())).await?;
    if !state.metrics.has_homeserver_reached() {
        return Err(MatrixErrorBody::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ORG.PARVIS_NOT_READY",
            "the homeserver has not reached Parvis yet: check that it loaded the registration and \
             that appservice.url is where it reaches Parvis (`parvis doctor` says)",
        )
        .into());
    }
    Ok(Json(json!({"status": "ready"})))
}

/// `GET /metrics` — Parvis's metrics in OpenMetrics text.
async fn metrics(
    State(state): State<Arc<ApiState>>,
) -> ([(http::HeaderName, &'static str); 1], String) {
    // The job queue as it is now (due or retrying later; parked ones do not count).
    match state.index.job_queue().await {
        Ok((queued, first_due)) => {
            let now = crate::store::now_ms();
            let oldest = first_due
                .filter(|due| *due <= now)
                .map(|due| Duration::from_millis(u64::try_from(now - due).unwrap_or(0)));
            state.metrics.job_queue(queued, oldest);
        }
        Err(error) => tracing::warn!(%error, "the job queue could not be read for /metrics"),
    }
    (
        [(http::header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
}

/// A caller presenting the configuration's `api.admin_token`.
#[derive(Debug)]
pub struct AdminCaller;

impl FromRequestParts<Arc<ApiState>> for AdminCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ApiState>,
    ) -> Result<Self, Self::Rejection> {
        let Some(expected) = state.admin_token.as_deref() else {
            return Err(MatrixErrorBody::forbidden(
                "administrative calls are disabled: set api.admin_token",
            )
            .into());
        };
        let presented = bearer_token(&parts.headers).ok_or_else(|| {
            MatrixErrorBody::new(
                StatusCode::UNAUTHORIZED,
                "M_MISSING_TOKEN",
                "send `Authorization: Bearer <admin token>`",
            )
        })?;
        if token_matches(expected, presented) {
            Ok(Self)
        } else {
            Err(MatrixErrorBody::new(
                StatusCode::UNAUTHORIZED,
                "M_UNKNOWN_TOKEN",
                "the admin token is not valid",
            )
            .into())
        }
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
    _admin: AdminCaller,
    ApiJson(body): ApiJson<CreateCommunityBody>,
) -> Result<(StatusCode, Json<CreatedCommunity>), ApiError> {
    command::validate_name(&body.name).map_err(|e| {
        MatrixErrorBody::new(StatusCode::BAD_REQUEST, "M_INVALID_PARAM", e.to_string())
    })?;
    let tools = match &body.tools {
        None => crate::tools::tool_rooms(),
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
            tracing::warn!(%error, "community not created");
            MatrixErrorBody::new(
                StatusCode::BAD_GATEWAY,
                "ORG.PARVIS_HOMESERVER",
                "the homeserver did not create the community: see Parvis's log",
            )
        })?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /api/v1/communities` — the communities in the index (admin token).
#[utoipa::path(get, path = "/api/v1/communities", security(("admin_token" = [])),
    responses((status = 200, body = Vec<CommunitySummary>), (status = 401, body = ErrorBody)))]
async fn list_communities(
    State(state): State<Arc<ApiState>>,
    _admin: AdminCaller,
) -> Result<Json<Vec<CommunitySummary>>, ApiError> {
    let communities = state.index.communities().await?;
    Ok(Json(communities))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn openapi_describes_every_route_and_schema() {
        let doc = serde_json::to_value(openapi_description(crate::server::TOOL_ROUTES)).unwrap();
        for path in [
            "/health",
            "/ready",
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
