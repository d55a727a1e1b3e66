//! REST API of published objects, under `/api/v1/communities/{spaceId}/{tool}` for every
//! publishing tool, and `/api/v1/search`. Callers sign in with their own Matrix access token;
//! reads need membership of the tool's room, writes the power level the room sets for the event
//! type — and writes are sent **as the user**, with their token, so the room's history says who
//! wrote what and the homeserver enforces the same rule again.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use parvis_homeserver_bridge::MatrixErrorBody;
use ruma::{
    OwnedEventId, OwnedRoomId, OwnedTransactionId, OwnedUserId, RoomId, UserId,
    api::client::{media::create_content, message::send_message_event, state::send_state_event},
    events::{AnyStateEventContent, StateEventType},
    events::{
        relation::Thread,
        room::message::{Relation, RoomMessageEventContent},
    },
    serde::Raw,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{
    diff::{DiffLine, diff_lines},
    index::PublicationIndex,
    kind::PublicationKind,
    publication::{
        PublicationChange, PublicationJson, PublicationRow, PublishingEvent, publication_change,
    },
    render::{self, RenderedHtml},
};
use crate::{
    api::{
        ApiState, SignedInUser, ToolRoutes,
        extract::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody, homeserver_error},
    },
    events::RoomPurpose,
    permission::{check_member, check_sender, check_writer},
    projection::{CommentRow, RevisionRow},
    store::{IndexStore, SearchHit, SearchQuery},
    tools,
};

/// The routes of every publishing tool's objects, for [`crate::server::TOOL_ROUTES`].
pub const ROUTES: ToolRoutes = ToolRoutes {
    tag: "publishing",
    router: publishing_router,
    openapi: <PublishingDoc as utoipa::OpenApi>::openapi,
};

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list, read, create, update, revisions, diff, restore, search, comments, comment
))]
struct PublishingDoc;

/// The publishing routes.
fn publishing_router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/api/v1/search", get(search))
        .route("/api/v1/communities/{space}/{tool}", get(list).post(create))
        .route(
            "/api/v1/communities/{space}/{tool}/{id}",
            get(read).put(update),
        )
        .route(
            "/api/v1/communities/{space}/{tool}/{id}/revisions",
            get(revisions),
        )
        .route("/api/v1/communities/{space}/{tool}/{id}/diff", get(diff))
        .route(
            "/api/v1/communities/{space}/{tool}/{id}/restore",
            post(restore),
        )
        .route(
            "/api/v1/communities/{space}/{tool}/{id}/comments",
            get(comments).post(comment),
        )
        .with_state(state)
}

/// The kind of published object of the tool named in the path, and the room it lives in.
fn tool_kind(tool: &str) -> Result<(PublicationKind, RoomPurpose), ApiError> {
    let kind = tools::publication_kind_of_tool(tool).ok_or_else(|| {
        let known: Vec<&str> = tools::publication_kinds()
            .map(PublicationKind::tool)
            .collect();
        MatrixErrorBody::not_found(format!("unknown tool `{tool}`: use {}", known.join(", ")))
    })?;
    Ok((kind, kind.spec().room))
}

/// Refuses a write the REST API would make in clear in an end-to-end encrypted room: Parvis
/// holds no device of the user's, only their own client can encrypt as them. `what` is the
/// verb the message uses (`comment`, `react`).
pub(crate) async fn refuse_in_encrypted_room(
    state: &ApiState,
    room: &RoomId,
    what: &str,
) -> Result<(), ApiError> {
    let encrypted = state
        .index
        .state_content(room, &StateEventType::RoomEncryption, "")
        .await?
        .is_some();
    if encrypted {
        return Err(encrypted_room_refusal(what));
    }
    Ok(())
}

/// The refusal of a write through the REST API in an end-to-end encrypted room: Parvis cannot
/// encrypt as the caller.
pub(crate) fn encrypted_room_refusal(what: &str) -> ApiError {
    MatrixErrorBody::new(
        StatusCode::FORBIDDEN,
        "ORG.PARVIS_ENCRYPTED_ROOM",
        format!(
            "this room is end-to-end encrypted: {what} from a Matrix client with encryption \
             (Element, or the Parvis widget inside it), not through the REST API"
        ),
    )
    .into()
}

/// The answer when the homeserver refuses what Parvis sent as the user: its refusal is passed
/// on (403 when it is a permission), a failure to reach it is 502 without internals.
fn refused(
    what: &'static str,
) -> impl Fn(parvis_homeserver_bridge::ClientError) -> MatrixErrorBody {
    move |error| homeserver_error(what, error)
}

async fn require_member(
    state: &ApiState,
    room_id: &RoomId,
    user_id: &UserId,
) -> Result<(), ApiError> {
    check_member(&state.index, room_id, user_id)
        .await?
        .map_err(ApiError::from)
}

async fn require_writer(
    state: &ApiState,
    room_id: &RoomId,
    user_id: &UserId,
    event_type: &str,
) -> Result<(), ApiError> {
    check_writer(&state.index, room_id, user_id, event_type)
        .await?
        .map_err(ApiError::from)
}

/// A published object as the API returns it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicationView {
    /// The object.
    #[serde(flatten)]
    pub publication: PublicationJson,
    /// Its body rendered to sanitized HTML, wiki links resolved.
    pub html: String,
    /// Objects linking to it: `[kind, id]`.
    #[schema(value_type = Vec<Vec<String>>)]
    pub backlinks: Vec<(String, String)>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Most objects returned.
    #[serde(default)]
    limit: Option<usize>,
}

/// `GET /api/v1/communities/{space}/{tool}` — the tool's objects.
#[utoipa::path(get, path = "/api/v1/communities/{space}/{tool}", params(("space" = String, Path, description = "The community's space ID"), ("tool" = String, Path, description = "wiki, blog, faq or guides"), ListQuery), security(("matrix_token" = [])), responses((status = 200, body = Vec<PublicationJson>), (status = 401, description = "Not signed in", body = ErrorBody), (status = 403, description = "Not a member, or may not write", body = ErrorBody), (status = 404, description = "No such community, tool or object", body = ErrorBody)))]
async fn list(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath((space, tool)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Vec<PublicationJson>>, ApiError> {
    let (kind, purpose) = tool_kind(&tool)?;
    let room = crate::api::community_room(&state, &space, purpose).await?;
    require_member(&state, &room, &user.user_id).await?;
    let mut items = state.index.publications(&room, kind).await?;
    items.retain(|item| item.status == "published" || item.author == user.user_id.as_str());
    for item in &mut items {
        item.body.clear();
    }
    items.truncate(query.limit.unwrap_or(1000));
    Ok(Json(items.into_iter().map(PublicationJson::from).collect()))
}

/// An object `user` may read, with its room and kind: a member of its room, and the object
/// published or theirs.
pub(crate) async fn load_readable(
    state: &ApiState,
    space: &str,
    tool: &str,
    id: &str,
    user: &UserId,
) -> Result<(OwnedRoomId, PublicationKind, PublicationRow), ApiError> {
    let (kind, purpose) = tool_kind(tool)?;
    let room = crate::api::community_room(state, space, purpose).await?;
    require_member(state, &room, user).await?;
    let item = state
        .index
        .publication(&room, kind, id)
        .await?
        .filter(|item| item.status == "published" || item.author == user.as_str())
        .ok_or_else(|| {
            MatrixErrorBody::not_found(format!("no {} {id} in this community", kind.as_str()))
        })?;
    Ok((room, kind, item))
}

/// Renders a body with `[[links]]` resolved against the objects links lead to (the kind whose
/// spec says `link_target`) in the same community.
async fn render_body(state: &ApiState, space: &str, body: &str) -> Result<RenderedHtml, ApiError> {
    let mut targets = HashMap::new();
    let linked = tools::publication_kinds().find(|kind| kind.spec().link_target);
    if let Some(linked) = linked
        && let Ok(room) = crate::api::community_room(state, space, linked.spec().room).await
    {
        for object in state.index.publications(&room, linked).await? {
            targets.insert(render::slugify(&object.title), object.object_id.clone());
            targets.insert(object.slug.clone(), object.object_id);
        }
    }
    let tool = linked.map_or("", PublicationKind::tool);
    let rendered = render::render_off_thread(body.to_owned(), move |link| {
        targets
            .get(&render::slugify(&link.target))
            .map(|id| format!("#/{tool}/{id}"))
    })
    .await;
    // A body that cannot be rendered in time is still shown: as escaped text.
    Ok(rendered.unwrap_or_else(|error| {
        tracing::warn!(%error, "page shown as plain text");
        RenderedHtml {
            html: format!("<pre>{}</pre>", render::escape_html(body)),
            links: Vec::new(),
        }
    }))
}

/// `GET /api/v1/communities/{space}/{tool}/{id}` — one object, rendered, with its backlinks.
#[utoipa::path(get, path = "/api/v1/communities/{space}/{tool}/{id}", params(("space" = String, Path, description = "The community's space ID"), ("tool" = String, Path, description = "wiki, blog, faq or guides"), ("id" = String, Path, description = "The object's ID")), security(("matrix_token" = [])), responses((status = 200, body = PublicationView), (status = 401, description = "Not signed in", body = ErrorBody), (status = 403, description = "Not a member, or may not write", body = ErrorBody), (status = 404, description = "No such community, tool or object", body = ErrorBody)))]
async fn read(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath((space, tool, id)): ApiPath<(String, String, String)>,
) -> Result<Json<PublicationView>, ApiError> {
    let (room, _, publication) = load_readable(&state, &space, &tool, &id, &user.user_id).await?;
    let html = render_body(&state, &space, &publication.body).await?.html;
    let mut backlinks = state.index.backlinks(&room, &publication.slug).await?;
    let title_slug = render::slugify(&publication.title);
    if title_slug != publication.slug {
        backlinks.extend(state.index.backlinks(&room, &title_slug).await?);
    }
    backlinks.sort();
    backlinks.dedup();
    Ok(Json(PublicationView {
        publication: publication.into(),
        html,
        backlinks,
    }))
}

/// The object a write is for.
#[derive(Clone, Copy, Debug)]
struct WriteTarget<'a> {
    space: &'a str,
    kind: PublicationKind,
    purpose: RoomPurpose,
    id: &'a str,
}

/// Where the body of a write comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodySource {
    /// The caller's content: its `body_media`, if any, is dropped (the caller cannot point
    /// Parvis at media of their choosing).
    Given,
    /// An earlier revision, restored as it was, media reference included.
    Restored,
}

/// Checks a content for `kind`, fills in the slug, and sends it as the user.
async fn write(
    state: &ApiState,
    target: &WriteTarget<'_>,
    mut content: Map<String, Value>,
    user: &SignedInUser,
    body: BodySource,
) -> Result<Json<Value>, ApiError> {
    let WriteTarget {
        space,
        kind,
        purpose,
        id,
    } = *target;
    let room = crate::api::community_room(state, space, purpose).await?;
    require_writer(state, &room, &user.user_id, kind.event_type()).await?;
    let encrypts_state = state
        .index
        .state_content(&room, &StateEventType::RoomEncryption, "")
        .await?
        .is_some_and(|(_, encryption)| crate::encrypted_state::encrypts_state(&encryption));
    if content
        .get("body")
        .and_then(Value::as_str)
        .is_some_and(|body| body.len() > crate::events::MAX_BODY_BYTES)
    {
        return Err(MatrixErrorBody::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "M_TOO_LARGE",
            format!(
                "the body is over {} KiB: split it into several pages",
                crate::events::MAX_BODY_BYTES / 1024
            ),
        )
        .into());
    }
    if encrypts_state {
        // Parvis holds no device of the user's: only the user's own client can encrypt as them.
        return Err(MatrixErrorBody::new(
            StatusCode::FORBIDDEN,
            "ORG.PARVIS_ENCRYPTED_ROOM",
            "this community's rooms are end-to-end encrypted: write from a Matrix client with \
             encryption (Element, or the Parvis widget inside it), not through the REST API",
        )
        .into());
    }
    content.remove("requested_by");
    // A body in the media repository is only taken from a revision being restored: the
    // index checked it when it read it (size and SHA-256 from the event).
    if body == BodySource::Given
        || content
            .get("body")
            .and_then(Value::as_str)
            .is_some_and(|body| !body.is_empty())
    {
        content.remove("body_media");
    }
    let long_body = content
        .get("body")
        .and_then(Value::as_str)
        .filter(|body| body.len() > crate::events::MAX_INLINE_BODY_BYTES)
        .map(str::to_owned);
    if let Some(body) = long_body
        && kind.spec().media_bodies
    {
        // Over the event size limit: the body goes to the media repository, uploaded as the user.
        let bytes = body.into_bytes();
        let media = json!({
            "size": bytes.len(),
            "sha256": hex::encode(Sha256::digest(&bytes)),
        });
        let mut upload = create_content::v3::Request::new(bytes);
        upload.content_type = Some("text/markdown; charset=utf-8".to_owned());
        upload.filename = Some(format!("{id}.md"));
        let uploaded = state
            .client
            .send_with_user_token(upload, user.write_token()?)
            .await
            .map_err(refused("upload of the body"))?;
        let mut media = media;
        media["url"] = json!(uploaded.content_uri);
        content.insert("body".to_owned(), json!(""));
        content.insert("body_media".to_owned(), media);
    }
    if kind.spec().slugged
        && content
            .get("slug")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        let title = content
            .get(kind.spec().title_field)
            .and_then(Value::as_str)
            .unwrap_or_default();
        content.insert("slug".to_owned(), Value::String(render::slugify(title)));
    }
    let valid = publication_change(PublishingEvent {
        room_id: &room,
        event_type: kind.event_type(),
        object_id: id,
        event_id: ruma::event_id!("$unsent"),
        sender: &user.user_id,
        sent_by_parvis: false,
        origin_server_ts: 0,
        content: &content,
    });
    let Some(PublicationChange::Put(row)) = valid else {
        return Err(MatrixErrorBody::bad_json(format!(
            "not a valid {}: see the OpenAPI description",
            kind.as_str()
        ))
        .into());
    };
    if row.title.trim().is_empty() {
        return Err(MatrixErrorBody::new(
            StatusCode::BAD_REQUEST,
            "M_INVALID_PARAM",
            "the title is empty",
        )
        .into());
    }
    if kind.spec().unique_slugs {
        let taken = state.index.publications(&room, kind).await?;
        if let Some(other) = taken
            .iter()
            .find(|page| page.slug == row.slug && page.object_id != id)
        {
            return Err(MatrixErrorBody::new(
                StatusCode::CONFLICT,
                "ORG.PARVIS_SLUG_TAKEN",
                format!(
                    "the {} {} already uses the slug `{}`",
                    kind.spec().noun,
                    other.object_id,
                    row.slug
                ),
            )
            .into());
        }
    }
    let size = serde_json::to_vec(&content)
        .map(|bytes| bytes.len())
        .unwrap_or(usize::MAX);
    if size > crate::events::MAX_INLINE_BODY_BYTES {
        return Err(MatrixErrorBody::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "M_TOO_LARGE",
            format!(
                "the content is {size} bytes; bodies over 48 KiB are not accepted by this version"
            ),
        )
        .into());
    }
    let raw: Raw<AnyStateEventContent> = Raw::new(&content)?.cast_unchecked();
    let request = send_state_event::v3::Request::new_raw(
        room.clone(),
        kind.event_type().into(),
        id.to_owned(),
        raw,
    );
    let response = state
        .client
        .send_with_user_token(request, user.write_token()?)
        .await
        .map_err(refused("change"))?;
    Ok(Json(
        json!({"room_id": room, "id": id, "event_id": response.event_id}),
    ))
}

/// `POST /api/v1/communities/{space}/{tool}` — creates an object (body: its event content).
#[utoipa::path(post, path = "/api/v1/communities/{space}/{tool}", params(("space" = String, Path, description = "The community's space ID"), ("tool" = String, Path, description = "wiki, blog, faq or guides")), request_body(content = Object, description = "The event content: see org.parvis.wiki.page, org.parvis.blog.post, org.parvis.faq.entry, org.parvis.guide"), security(("matrix_token" = [])), responses((status = 201, description = "Sent as the user: `{room_id, id, event_id}`", body = Object), (status = 401, description = "Not signed in", body = ErrorBody), (status = 403, description = "Not a member, or may not write", body = ErrorBody), (status = 404, description = "No such community, tool or object", body = ErrorBody)))]
async fn create(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath((space, tool)): ApiPath<(String, String)>,
    ApiJson(content): ApiJson<Map<String, Value>>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (kind, purpose) = tool_kind(&tool)?;
    let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    let answer = write(
        &state,
        &WriteTarget {
            space: &space,
            kind,
            purpose,
            id: &id,
        },
        content,
        &user,
        BodySource::Given,
    )
    .await?;
    Ok((StatusCode::CREATED, answer))
}

/// `PUT /api/v1/communities/{space}/{tool}/{id}` — a new revision of an object.
#[utoipa::path(put, path = "/api/v1/communities/{space}/{tool}/{id}", params(("space" = String, Path, description = "The community's space ID"), ("tool" = String, Path, description = "wiki, blog, faq or guides"), ("id" = String, Path, description = "The object's ID")), request_body(content = Object, description = "The new event content"), security(("matrix_token" = [])), responses((status = 200, description = "Sent as the user: `{room_id, id, event_id}`", body = Object), (status = 401, description = "Not signed in", body = ErrorBody), (status = 403, description = "Not a member, or may not write", body = ErrorBody), (status = 404, description = "No such community, tool or object", body = ErrorBody)))]
async fn update(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath((space, tool, id)): ApiPath<(String, String, String)>,
    ApiJson(content): ApiJson<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let (kind, purpose) = tool_kind(&tool)?;
    load_readable(&state, &space, &tool, &id, &user.user_id).await?;
    write(
        &state,
        &WriteTarget {
            space: &space,
            kind,
            purpose,
            id: &id,
        },
        content,
        &user,
        BodySource::Given,
    )
    .await
}

/// A revision as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RevisionView {
    /// Its state event.
    #[schema(value_type = String)]
    pub event_id: OwnedEventId,
    /// Who sent it.
    #[schema(value_type = String)]
    pub sender: OwnedUserId,
    /// When.
    pub origin_server_ts: i64,
    /// The revision it replaced.
    #[schema(value_type = Option<String>)]
    pub replaces: Option<OwnedEventId>,
    /// Its content.
    #[schema(value_type = Object)]
    pub content: Map<String, Value>,
}

impl From<RevisionRow> for RevisionView {
    fn from(row: RevisionRow) -> Self {
        Self {
            event_id: row.event_id,
            sender: row.sender,
            origin_server_ts: row.origin_server_ts,
            replaces: row.replaces,
            content: row.content,
        }
    }
}

/// `GET /api/v1/communities/{space}/{tool}/{id}/revisions` — every revision, oldest first.
#[utoipa::path(get, path = "/api/v1/communities/{space}/{tool}/{id}/revisions", params(("space" = String, Path, description = "The community's space ID"), ("tool" = String, Path, description = "wiki, blog, faq or guides"), ("id" = String, Path, description = "The object's ID")), security(("matrix_token" = [])), responses((status = 200, body = Vec<RevisionView>), (status = 401, description = "Not signed in", body = ErrorBody), (status = 403, description = "Not a member, or may not write", body = ErrorBody), (status = 404, description = "No such community, tool or object", body = ErrorBody)))]
async fn revisions(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath((space, tool, id)): ApiPath<(String, String, String)>,
) -> Result<Json<Vec<RevisionView>>, ApiError> {
    let (room, kind, _) = load_readable(&state, &space, &tool, &id, &user.user_id).await?;
    let rows = state.index.revisions(&room, kind, &id).await?;
    Ok(Json(rows.into_iter().map(RevisionView::from).collect()))
}

fn body_of(kind: PublicationKind, content: &Map<String, Value>) -> String {
    content
        .get(kind.spec().body_field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DiffQuery {
    /// The older revision's event ID.
    from: String,
    /// The newer revision's event ID.
    to: String,
}

/// `GET /api/v1/communities/{space}/{tool}/{id}/diff?from=$a&to=$b` — line diff of two revisions' bodies.
#[utoipa::path(get, path = "/api/v1/communities/{space}/{tool}/{id}/diff", params(("space" = String, Path, description = "The community's space ID"), ("tool" = String, Path, description = "wiki, blog, faq or guides"), ("id" = String, Path, description = "The object's ID"), DiffQuery), security(("matrix_token" = [])), responses((status = 200, body = Vec<DiffLine>), (status = 401, description = "Not signed in", body = ErrorBody), (status = 403, description = "Not a member, or may not write", body = ErrorBody), (status = 404, description = "No such community, tool or object", body = ErrorBody)))]
async fn diff(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath((space, tool, id)): ApiPath<(String, String, String)>,
    ApiQuery(query): ApiQuery<DiffQuery>,
) -> Result<Json<Vec<DiffLine>>, ApiError> {
    let (room, kind, _) = load_readable(&state, &space, &tool, &id, &user.user_id).await?;
    let rows = state.index.revisions(&room, kind, &id).await?;
    let mut bodies = Vec::with_capacity(2);
    for event_id in [&query.from, &query.to] {
        let revision = rows
            .iter()
            .find(|row| &row.event_id == event_id)
            .ok_or_else(|| {
                MatrixErrorBody::not_found(format!("{event_id} is not a revision of {id}"))
            })?;
        bodies.push(revision_body(&state, kind, revision).await?);
    }
    Ok(Json(diff_lines(&bodies[0], &bodies[1])))
}

/// The body of a revision: in its content, or — over the event size limit — in the media
/// repository, read and checked against the size and SHA-256 the revision gives.
async fn revision_body(
    state: &ApiState,
    kind: PublicationKind,
    revision: &RevisionRow,
) -> Result<String, ApiError> {
    let inline = body_of(kind, &revision.content);
    let media: Option<crate::events::MediaBody> = revision
        .content
        .get("body_media")
        .cloned()
        .and_then(|value| serde_json::from_value(value).ok());
    match media {
        Some(media) if inline.is_empty() => Ok(state
            .bot
            .read_media_body(&media)
            .await
            .map_err(|error| {
                tracing::warn!(%error, event_id = %revision.event_id, "revision body not read");
                MatrixErrorBody::new(
                    StatusCode::BAD_GATEWAY,
                    "M_UNKNOWN",
                    "the body of this revision is in the media repository, which could not be \
                     read; try again",
                )
            })?
            .unwrap_or_default()),
        _ => Ok(inline),
    }
}

/// Body of a restore.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct RestoreBody {
    /// The revision to make current again.
    event_id: String,
}

/// `POST /api/v1/communities/{space}/{tool}/{id}/restore` — makes an earlier revision current
/// again, as a new revision.
#[utoipa::path(post, path = "/api/v1/communities/{space}/{tool}/{id}/restore", params(("space" = String, Path, description = "The community's space ID"), ("tool" = String, Path, description = "wiki, blog, faq or guides"), ("id" = String, Path, description = "The object's ID")), request_body = RestoreBody, security(("matrix_token" = [])), responses((status = 200, description = "Sent as the user: `{room_id, id, event_id}`", body = Object), (status = 401, description = "Not signed in", body = ErrorBody), (status = 403, description = "Not a member, or may not write", body = ErrorBody), (status = 404, description = "No such community, tool or object", body = ErrorBody)))]
async fn restore(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath((space, tool, id)): ApiPath<(String, String, String)>,
    ApiJson(body): ApiJson<RestoreBody>,
) -> Result<Json<Value>, ApiError> {
    let (room, kind, _) = load_readable(&state, &space, &tool, &id, &user.user_id).await?;
    let (_, purpose) = tool_kind(&tool)?;
    let rows = state.index.revisions(&room, kind, &id).await?;
    let revision = rows
        .into_iter()
        .find(|row| row.event_id == body.event_id)
        .ok_or_else(|| {
            MatrixErrorBody::not_found(format!("{} is not a revision of {id}", body.event_id))
        })?;
    if revision.content.is_empty() {
        return Err(MatrixErrorBody::new(
            StatusCode::GONE,
            "ORG.PARVIS_REDACTED",
            "that revision was redacted",
        )
        .into());
    }
    write(
        &state,
        &WriteTarget {
            space: &space,
            kind,
            purpose,
            id: &id,
        },
        revision.content,
        &user,
        BodySource::Restored,
    )
    .await
}

/// `GET /api/v1/communities/{space}/{tool}/{id}/comments` — the comments on an object (on any
/// of its revisions), oldest first.
#[utoipa::path(get, path = "/api/v1/communities/{space}/{tool}/{id}/comments", params(("space" = String, Path, description = "The community's space ID"), ("tool" = String, Path, description = "wiki, blog, faq or guides"), ("id" = String, Path, description = "The object's ID")), security(("matrix_token" = [])), responses((status = 200, body = Vec<CommentRow>), (status = 401, description = "Not signed in", body = ErrorBody), (status = 403, description = "Not a member, or may not write", body = ErrorBody), (status = 404, description = "No such community, tool or object", body = ErrorBody)))]
async fn comments(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath((space, tool, id)): ApiPath<(String, String, String)>,
) -> Result<Json<Vec<CommentRow>>, ApiError> {
    let (room, kind, _) = load_readable(&state, &space, &tool, &id, &user.user_id).await?;
    Ok(Json(state.index.comments(&room, kind, &id).await?))
}

/// Body of a comment.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct CommentBody {
    /// The comment's text.
    pub body: String,
}

/// `POST /api/v1/communities/{space}/{tool}/{id}/comments` — comments on an object: a message, sent
/// as the user, in the thread of the object's current revision, so any Matrix client shows it.
#[utoipa::path(post, path = "/api/v1/communities/{space}/{tool}/{id}/comments", params(("space" = String, Path, description = "The community's space ID"), ("tool" = String, Path, description = "wiki, blog, faq or guides"), ("id" = String, Path, description = "The object's ID")), request_body = CommentBody, security(("matrix_token" = [])), responses((status = 201, description = "`{event_id}`", body = Object), (status = 401, description = "Not signed in", body = ErrorBody), (status = 403, description = "Not a member, or may not write", body = ErrorBody), (status = 404, description = "No such community, tool or object", body = ErrorBody)))]
async fn comment(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath((space, tool, id)): ApiPath<(String, String, String)>,
    ApiJson(body): ApiJson<CommentBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (room, _, publication) = load_readable(&state, &space, &tool, &id, &user.user_id).await?;
    if body.body.trim().is_empty() {
        return Err(MatrixErrorBody::new(
            StatusCode::BAD_REQUEST,
            "M_INVALID_PARAM",
            "the comment is empty",
        )
        .into());
    }
    check_sender(&state.index, &room, &user.user_id, "m.room.message")
        .await?
        .map_err(|refusal| MatrixErrorBody::forbidden(refusal.to_string()))?;
    // Sent from here it would be in clear, in a room whose members expect encryption.
    refuse_in_encrypted_room(&state, &room, "comment").await?;
    let root = OwnedEventId::try_from(publication.event_id.as_str())?;
    let mut content = RoomMessageEventContent::text_plain(body.body);
    content.relates_to = Some(Relation::Thread(Thread::plain(root.clone(), root)));
    let txn_id: OwnedTransactionId = uuid::Uuid::new_v4().to_string().into();
    let request = send_message_event::v3::Request::new(room, txn_id, &content)?;
    let response = state
        .client
        .send_with_user_token(request, user.write_token()?)
        .await
        .map_err(refused("comment"))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"event_id": response.event_id})),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchParams {
    /// The words searched.
    q: String,
    /// Only this community (its space ID).
    community: Option<String>,
    /// Only this kind: `wiki_page`, `blog_post`, `faq_entry`, `guide`.
    kind: Option<String>,
    /// Only objects with this tag.
    tag: Option<String>,
    /// Only objects by this author.
    author: Option<String>,
    /// Most results (default 20, at most 200).
    limit: Option<i64>,
}

/// `GET /api/v1/search?q=…[&community=&kind=&tag=&author=&limit=]` — full-text search over what
/// the signed-in user may read.
#[utoipa::path(get, path = "/api/v1/search", params(SearchParams), security(("matrix_token" = [])), responses((status = 200, body = Vec<SearchHit>), (status = 401, description = "Not signed in", body = ErrorBody)))]
async fn search(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Json<Vec<SearchHit>>, ApiError> {
    if let Some(kind) = &params.kind
        && tools::publication_kind(kind).is_none()
    {
        return Err(MatrixErrorBody::new(
            StatusCode::BAD_REQUEST,
            "M_INVALID_PARAM",
            format!("unknown kind `{kind}`"),
        )
        .into());
    }
    let text = SearchQuery::bounded_text(&params.q).map_err(|too_long| {
        MatrixErrorBody::new(
            StatusCode::BAD_REQUEST,
            "M_INVALID_PARAM",
            too_long.to_string(),
        )
    })?;
    let query = SearchQuery {
        text,
        user_id: user.user_id.into(),
        kind: params.kind,
        tag: params.tag,
        author: params.author,
        community: params.community,
        limit: params.limit.unwrap_or(20).clamp(1, 200),
    };
    Ok(Json(state.index.search(&query).await?))
}
