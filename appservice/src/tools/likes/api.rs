//! REST routes of likes: the counts of an object, the caller's own reaction sent or redacted
//! as them, and a community's most recommended objects.

use std::sync::Arc;

use axum::{Json, Router, extract::State, routing::get};
use parvis_homeserver_bridge::MatrixErrorBody;
use ruma::{
    EventId, OwnedEventId, OwnedTransactionId, RoomId,
    api::client::{message::send_message_event, redact::redact_event},
    events::{reaction::ReactionEventContent, relation::Annotation},
};
use serde::{Deserialize, Serialize};

use super::{MOST_RECOMMENDED, Reaction, object_counts_query, own_reactions_query};
use crate::{
    api::{
        ApiState, SignedInUser, ToolRoutes,
        extract::{ApiError, ApiPath, ApiQuery, ErrorBody, homeserver_error},
    },
    permission::{check_member, check_sender},
    publishing::{
        api::{load_readable, refuse_in_encrypted_room},
        kind::PublicationKind,
    },
    store::IndexStore,
    tools::{self, SqlValue},
};

/// The routes of the likes tool, for [`crate::server::TOOL_ROUTES`].
pub const ROUTES: ToolRoutes = ToolRoutes {
    tag: "likes",
    router,
    openapi: <LikesDoc as utoipa::OpenApi>::openapi,
};

#[derive(utoipa::OpenApi)]
#[openapi(paths(likes, like, unlike, recommended))]
struct LikesDoc;

fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/api/v1/communities/{space}/{tool}/{id}/likes", get(likes))
        .route(
            "/api/v1/communities/{space}/{tool}/{id}/likes/{reaction}",
            axum::routing::put(like).delete(unlike),
        )
        .route("/api/v1/communities/{space}/recommended", get(recommended))
        .with_state(state)
}

/// The caller's own reactions to an object.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct OwnReactions {
    /// Their 👍, if they liked it.
    pub like: Option<String>,
    /// Their ⭐, if they recommend it.
    pub recommend: Option<String>,
}

/// What people think of an object.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LikeSummary {
    /// How many people liked it (👍).
    pub likes: i64,
    /// How many people recommend it (⭐).
    pub recommendations: i64,
    /// The caller's own reactions: their event IDs.
    pub mine: OwnReactions,
}

/// A recommended object of a community.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecommendedObject {
    /// Its tool in the API's paths (`wiki`, `blog`, `faq`, `guides`).
    pub tool: String,
    /// Its ID.
    pub id: String,
    /// Its title (an FAQ entry's question).
    pub title: String,
    /// How many people liked it.
    pub likes: i64,
    /// How many people recommend it.
    pub recommendations: i64,
}

/// A community's most recommended objects.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Recommended {
    /// Most recommended first, then most liked.
    pub objects: Vec<RecommendedObject>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RecommendedQuery {
    /// Most objects returned (10 by default, at most 100).
    #[serde(default)]
    limit: Option<u32>,
}

fn object_args(room: &str, kind: PublicationKind, id: &str) -> Vec<SqlValue> {
    vec![room.into(), kind.as_str().into(), id.into()]
}

async fn summary(
    state: &ApiState,
    room: &str,
    kind: PublicationKind,
    id: &str,
    user: &str,
) -> Result<LikeSummary, ApiError> {
    let counts = state
        .index
        .tool_rows(&object_counts_query(), object_args(room, kind, id))
        .await?;
    let count_of = |reaction: Reaction| {
        counts
            .iter()
            .find(|row| row.first().and_then(SqlValue::as_text) == Some(reaction.as_str()))
            .and_then(|row| row.get(1).and_then(SqlValue::as_integer))
            .unwrap_or(0)
    };
    let mut mine = OwnReactions::default();
    let mut args = object_args(room, kind, id);
    args.push(user.into());
    for row in state.index.tool_rows(&own_reactions_query(), args).await? {
        let (Some(reaction), Some(event_id)) = (
            row.first()
                .and_then(SqlValue::as_text)
                .and_then(Reaction::parse),
            row.get(1).and_then(SqlValue::as_text),
        ) else {
            continue;
        };
        let slot = match reaction {
            Reaction::Like => &mut mine.like,
            Reaction::Recommend => &mut mine.recommend,
        };
        slot.get_or_insert_with(|| event_id.to_owned());
    }
    Ok(LikeSummary {
        likes: count_of(Reaction::Like),
        recommendations: count_of(Reaction::Recommend),
        mine,
    })
}

/// `GET /api/v1/communities/{space}/{tool}/{id}/likes` — who liked and recommends an object.
#[utoipa::path(get, path = "/api/v1/communities/{space}/{tool}/{id}/likes", params(("space" = String, Path, description = "The community's space ID"), ("tool" = String, Path, description = "wiki, blog, faq or guides"), ("id" = String, Path, description = "The object's ID")), security(("matrix_token" = [])), responses((status = 200, body = LikeSummary), (status = 403, description = "Not a member of the object's room", body = ErrorBody), (status = 404, description = "No such community, tool or object", body = ErrorBody)))]
async fn likes(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath((space, tool, id)): ApiPath<(String, String, String)>,
) -> Result<Json<LikeSummary>, ApiError> {
    let (room, kind, _) = load_readable(&state, &space, &tool, &id, &user.user_id).await?;
    Ok(Json(
        summary(&state, room.as_str(), kind, &id, user.user_id.as_str()).await?,
    ))
}

fn reaction_of(name: &str) -> Result<Reaction, ApiError> {
    Reaction::parse(name).ok_or_else(|| {
        MatrixErrorBody::not_found(format!("unknown reaction `{name}`: use like or recommend"))
            .into()
    })
}

fn new_txn_id() -> OwnedTransactionId {
    uuid::Uuid::new_v4().to_string().into()
}

/// `PUT /api/v1/communities/{space}/{tool}/{id}/likes/{reaction}` — likes (`like`) or
/// recommends (`recommend`) an object: the reaction is sent as the caller, on its current
/// revision. Already done, the existing reaction is answered.
#[utoipa::path(put, path = "/api/v1/communities/{space}/{tool}/{id}/likes/{reaction}", params(("space" = String, Path, description = "The community's space ID"), ("tool" = String, Path, description = "wiki, blog, faq or guides"), ("id" = String, Path, description = "The object's ID"), ("reaction" = String, Path, description = "like or recommend")), security(("matrix_token" = [])), responses((status = 200, description = "The reaction's event", body = inline(Object), example = json!({"event_id": "$reaction"})), (status = 403, description = "Not a member, may not react, or the room is encrypted", body = ErrorBody), (status = 404, description = "No such community, tool, object or reaction", body = ErrorBody)))]
async fn like(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath((space, tool, id, reaction)): ApiPath<(String, String, String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let reaction = reaction_of(&reaction)?;
    let (room, kind, publication) =
        load_readable(&state, &space, &tool, &id, &user.user_id).await?;
    let current = summary(&state, room.as_str(), kind, &id, user.user_id.as_str()).await?;
    let existing = match reaction {
        Reaction::Like => current.mine.like,
        Reaction::Recommend => current.mine.recommend,
    };
    if let Some(event_id) = existing {
        return Ok(Json(serde_json::json!({ "event_id": event_id })));
    }
    check_sender(&state.index, &room, &user.user_id, "m.reaction")
        .await?
        .map_err(|refusal| MatrixErrorBody::forbidden(refusal.to_string()))?;
    refuse_in_encrypted_room(&state, &room, "react").await?;
    let revision = OwnedEventId::try_from(publication.event_id.as_str())?;
    let content = ReactionEventContent::new(Annotation::new(revision, reaction.key().to_owned()));
    let request = send_message_event::v3::Request::new(room.clone(), new_txn_id(), &content)?;
    let response = state
        .client
        .send_with_user_token(request, user.write_token()?)
        .await
        .map_err(|error| homeserver_error("reaction", error))?;
    index_sent(&state, &room, &response.event_id).await;
    Ok(Json(serde_json::json!({ "event_id": response.event_id })))
}

/// Counts what was just sent at once, so the caller sees their own reaction in the counts they
/// read next. Not fatal: the homeserver's delivery of the event counts it later.
async fn index_sent(state: &ApiState, room: &RoomId, event_id: &EventId) {
    if let Err(error) = state.bot.index_sent(room, event_id).await {
        tracing::warn!(%error, %event_id, "a reaction sent is counted only when the homeserver delivers it");
    }
}

/// `DELETE /api/v1/communities/{space}/{tool}/{id}/likes/{reaction}` — takes the caller's
/// like or recommendation back: their reactions of that kind on the object are redacted, as them.
#[utoipa::path(delete, path = "/api/v1/communities/{space}/{tool}/{id}/likes/{reaction}", params(("space" = String, Path, description = "The community's space ID"), ("tool" = String, Path, description = "wiki, blog, faq or guides"), ("id" = String, Path, description = "The object's ID"), ("reaction" = String, Path, description = "like or recommend")), security(("matrix_token" = [])), responses((status = 200, description = "The reactions redacted", body = inline(Object), example = json!({"redacted": ["$reaction"]})), (status = 403, description = "Not a member of the object's room", body = ErrorBody), (status = 404, description = "No such community, tool, object or reaction", body = ErrorBody)))]
async fn unlike(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath((space, tool, id, reaction)): ApiPath<(String, String, String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let reaction = reaction_of(&reaction)?;
    let (room, kind, _) = load_readable(&state, &space, &tool, &id, &user.user_id).await?;
    let mut args = object_args(room.as_str(), kind, &id);
    args.push(user.user_id.as_str().into());
    let own: Vec<String> = state
        .index
        .tool_rows(&own_reactions_query(), args)
        .await?
        .into_iter()
        .filter(|row| row.first().and_then(SqlValue::as_text) == Some(reaction.as_str()))
        .filter_map(|row| row.get(1).and_then(SqlValue::as_text).map(str::to_owned))
        .collect();
    let mut redacted = Vec::new();
    for event_id in own {
        let Ok(event_id) = OwnedEventId::try_from(event_id) else {
            continue;
        };
        let request = redact_event::v3::Request::new(room.clone(), event_id.clone(), new_txn_id());
        let response = state
            .client
            .send_with_user_token(request, user.write_token()?)
            .await
            .map_err(|error| homeserver_error("redaction of the reaction", error))?;
        index_sent(&state, &room, &response.event_id).await;
        redacted.push(event_id);
    }
    Ok(Json(serde_json::json!({ "redacted": redacted })))
}

/// `GET /api/v1/communities/{space}/recommended` — the community's published objects most
/// recommended, then most liked, among those the caller may read.
#[utoipa::path(get, path = "/api/v1/communities/{space}/recommended", params(("space" = String, Path, description = "The community's space ID"), RecommendedQuery), security(("matrix_token" = [])), responses((status = 200, body = Recommended), (status = 403, description = "Not a member of the community", body = ErrorBody), (status = 404, description = "No such community", body = ErrorBody)))]
async fn recommended(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath(space): ApiPath<String>,
    ApiQuery(query): ApiQuery<RecommendedQuery>,
) -> Result<Json<Recommended>, ApiError> {
    let space_id = state
        .index
        .communities()
        .await?
        .into_iter()
        .map(|community| community.space_id)
        .find(|space_id| *space_id == space)
        .ok_or_else(|| MatrixErrorBody::not_found(format!("no community {space}")))?;
    check_member(&state.index, &space_id, &user.user_id)
        .await?
        .map_err(|refusal| MatrixErrorBody::forbidden(refusal.to_string()))?;
    let limit = i64::from(query.limit.unwrap_or(10).clamp(1, 100));
    // Read more than asked: rooms the caller is not in are left out afterwards.
    let rows = state
        .index
        .tool_rows(
            MOST_RECOMMENDED,
            vec![space.as_str().into(), (limit * 4).into()],
        )
        .await?;
    let mut objects = Vec::new();
    for row in rows {
        let text = |column: usize| row.get(column).and_then(SqlValue::as_text);
        let integer = |column: usize| row.get(column).and_then(SqlValue::as_integer);
        let (Some(room), Some(kind), Some(id), Some(title)) = (
            text(0),
            text(1).and_then(tools::publication_kind),
            text(2),
            text(3),
        ) else {
            continue;
        };
        let Ok(room_id) = <&RoomId>::try_from(room) else {
            continue;
        };
        let readable = check_member(&state.index, room_id, &user.user_id)
            .await?
            .is_ok();
        if readable {
            objects.push(RecommendedObject {
                tool: kind.tool().to_owned(),
                id: id.to_owned(),
                title: title.to_owned(),
                recommendations: integer(4).unwrap_or(0),
                likes: integer(5).unwrap_or(0),
            });
        }
        if objects.len() as i64 == limit {
            break;
        }
    }
    Ok(Json(Recommended { objects }))
}

#[cfg(test)]
mod tests;
