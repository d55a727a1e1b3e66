//! REST routes of tasks: a community's boards and their cards, read from the index and written
//! as the caller (so the homeserver's power levels judge them too), the Gantt view of dated
//! cards, a board's CSV export, and the caller's own open cards across their communities.

use std::{collections::HashMap, sync::Arc, time::Instant};

use axum::{
    Json, Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use parvis_homeserver_bridge::MatrixErrorBody;
use ruma::{
    OwnedEventId, OwnedRoomId, OwnedTransactionId, OwnedUserId, RoomId, UserId,
    api::client::{message::send_message_event, state::send_state_event},
    events::{
        AnyStateEventContent,
        relation::Thread,
        room::message::{Relation, RoomMessageEventContent},
    },
    serde::Raw,
};
use serde::{Deserialize, Serialize};

use super::{
    CardContext, CardProblem, ChecklistItem, KanbanBoardEventContent, KanbanCardEventContent,
    KanbanColumn, check_card, column_positions,
    date::CalendarDate,
    dependencies_of, end_of_column,
    gantt::{self, GanttError, PlannedCard},
    index::{
        ASSIGNED_CARDS, BOARD, BOARD_CARDS, BOARD_EVENT, CARD, CARD_COMMENTS, CARD_EVENT,
        IndexedBoard, IndexedCard, MOVE_PLACE, ROOM_BOARDS, ROOM_CARDS, RowError, board_of,
        card_of, sort_cards,
    },
    position,
};
use crate::{
    api::{
        ApiState, SignedInUser, ToolRoutes, community_room,
        extract::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody, homeserver_error},
        kept_answers::JsonBytes,
    },
    events::RoomPurpose,
    permission::{RoomAccess, check_member},
    projection::CommentRow,
    publishing::api::encrypted_room_refusal,
    store::IndexStore,
    tools::{SqlValue, ToolRow},
};

/// The routes of the tasks tool, for [`crate::server::TOOL_ROUTES`].
pub const ROUTES: ToolRoutes = ToolRoutes {
    tag: "tasks",
    router,
    openapi: <TasksDoc as utoipa::OpenApi>::openapi,
};

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    boards,
    create_board,
    board,
    create_card,
    edit_card,
    move_card,
    gantt_view,
    export_csv,
    card_comments,
    comment_card,
    my_tasks
))]
struct TasksDoc;

fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route(
            "/api/v1/communities/{space}/tasks/boards",
            get(boards).post(create_board),
        )
        .route(
            "/api/v1/communities/{space}/tasks/boards/{board}",
            get(board),
        )
        .route(
            "/api/v1/communities/{space}/tasks/boards/{board}/cards",
            post(create_card),
        )
        .route(
            "/api/v1/communities/{space}/tasks/boards/{board}/export.csv",
            get(export_csv),
        )
        .route(
            "/api/v1/communities/{space}/tasks/cards/{card}",
            axum::routing::put(edit_card),
        )
        .route(
            "/api/v1/communities/{space}/tasks/cards/{card}/move",
            post(move_card),
        )
        .route(
            "/api/v1/communities/{space}/tasks/cards/{card}/comments",
            get(card_comments).post(comment_card),
        )
        .route("/api/v1/communities/{space}/tasks/gantt", get(gantt_view))
        .route("/api/v1/tasks/mine", get(my_tasks))
        .with_state(state)
}

impl From<RowError> for ApiError {
    fn from(error: RowError) -> Self {
        tracing::error!(%error, "the tasks index holds a row it cannot read");
        MatrixErrorBody::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "M_UNKNOWN",
            "the tasks index could not be read",
        )
        .into()
    }
}

fn problem(problem: &CardProblem) -> ApiError {
    MatrixErrorBody::new(
        StatusCode::BAD_REQUEST,
        problem.errcode(),
        problem.to_string(),
    )
    .into()
}

/// The tasks room of a community and the caller's access to it, the caller a member of it.
async fn readable_room(
    state: &ApiState,
    space: &str,
    user: &UserId,
) -> Result<(OwnedRoomId, RoomAccess), ApiError> {
    let room = community_room(state, space, RoomPurpose::Tasks).await?;
    let access = RoomAccess::load(&state.index, &room, user).await?;
    access.member()?;
    Ok((room, access))
}

/// The tasks room of a community, with the caller allowed to send `event_type` there (a state
/// event when `is_state`) and the room not end-to-end encrypted (Parvis cannot encrypt as the
/// caller).
async fn writable_room(
    state: &ApiState,
    space: &str,
    user: &UserId,
    (event_type, is_state): (&str, bool),
) -> Result<OwnedRoomId, ApiError> {
    let room = community_room(state, space, RoomPurpose::Tasks).await?;
    let access = RoomAccess::load(&state.index, &room, user).await?;
    access.may_send(event_type, is_state)?;
    if access.encrypted {
        return Err(encrypted_room_refusal("change boards and cards"));
    }
    Ok(room)
}

async fn load_boards(state: &ApiState, room: &RoomId) -> Result<Vec<IndexedBoard>, ApiError> {
    let rows = state
        .index
        .tool_rows(ROOM_BOARDS, vec![room.as_str().into()])
        .await?;
    Ok(rows.into_iter().map(board_of).collect::<Result<_, _>>()?)
}

async fn load_board(
    state: &ApiState,
    room: &RoomId,
    board: &str,
) -> Result<Option<IndexedBoard>, ApiError> {
    let rows = state
        .index
        .tool_rows(BOARD, vec![room.as_str().into(), board.into()])
        .await?;
    Ok(rows.into_iter().next().map(board_of).transpose()?)
}

fn cards_of(rows: Vec<Vec<SqlValue>>) -> Result<Vec<IndexedCard>, ApiError> {
    Ok(rows
        .into_iter()
        .map(|row| card_of(&mut ToolRow::new(row)))
        .collect::<Result<_, _>>()?)
}

async fn load_cards(
    state: &ApiState,
    room: &RoomId,
    board: Option<&str>,
) -> Result<Vec<IndexedCard>, ApiError> {
    let rows = match board {
        Some(board) => {
            state
                .index
                .tool_rows(BOARD_CARDS, vec![room.as_str().into(), board.into()])
                .await?
        }
        None => {
            state
                .index
                .tool_rows(ROOM_CARDS, vec![room.as_str().into()])
                .await?
        }
    };
    cards_of(rows)
}

fn no_board(board: &str) -> ApiError {
    MatrixErrorBody::not_found(format!("there is no board {board} in this community")).into()
}

fn new_id() -> String {
    let mut id = uuid::Uuid::new_v4().simple().to_string();
    id.truncate(12);
    id
}

/// A board in the list of a community's boards.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BoardSummary {
    /// Its ID.
    pub id: String,
    /// Its content: name, columns, archived.
    #[serde(flatten)]
    pub board: KanbanBoardEventContent,
    /// Its cards that are not archived.
    pub cards: usize,
}

/// `GET /api/v1/communities/{space}/tasks/boards` — the community's boards.
#[utoipa::path(get, path = "/api/v1/communities/{space}/tasks/boards", params(("space" = String, Path, description = "The community's space ID")), security(("matrix_token" = [])), responses((status = 200, body = Vec<BoardSummary>), (status = 403, description = "Not a member of the tasks room", body = ErrorBody), (status = 404, description = "No such community, or it has no tasks", body = ErrorBody)))]
async fn boards(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath(space): ApiPath<String>,
) -> Result<Json<Vec<BoardSummary>>, ApiError> {
    let (room, _) = readable_room(&state, &space, &user.user_id).await?;
    let cards = load_cards(&state, &room, None).await?;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for card in cards.iter().filter(|card| !card.content.archived) {
        *counts.entry(card.content.board.as_str()).or_default() += 1;
    }
    let mut boards: Vec<BoardSummary> = load_boards(&state, &room)
        .await?
        .into_iter()
        .map(|indexed| BoardSummary {
            cards: counts.get(indexed.id.as_str()).copied().unwrap_or(0),
            id: indexed.id,
            board: indexed.content,
        })
        .collect();
    boards.sort_by(|a, b| {
        (a.board.archived, &a.board.name, &a.id).cmp(&(b.board.archived, &b.board.name, &b.id))
    });
    Ok(Json(boards))
}

/// A new board.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewBoard {
    /// Its name.
    pub name: String,
    /// Its columns, in order; "To do", "In progress" and "Done" when absent.
    #[serde(default)]
    pub columns: Option<Vec<NewColumn>>,
}

/// A column of a new board.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewColumn {
    /// Its name.
    pub name: String,
    /// The most cards it should hold.
    #[serde(default)]
    pub wip_limit: Option<u32>,
    /// Its cards are done.
    #[serde(default)]
    pub done: bool,
}

/// What a write sent, as the caller.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Written {
    /// The board's or card's ID.
    pub id: String,
    /// The state event sent.
    pub event_id: String,
    /// What the write warns of without being refused (a column over its limit…).
    pub warnings: Vec<String>,
}

/// A state event sent as the caller, and where the request's time went, for the
/// `Server-Timing` header: Parvis's own (from the request to the event handed to the
/// homeserver), the homeserver's, and reading the event back into the index.
struct Sent {
    event_id: String,
    server_timing: String,
}

async fn send_as(
    state: &ApiState,
    user: &SignedInUser,
    room: &RoomId,
    (event_type, id): (&str, &str),
    content: &impl Serialize,
    started: Instant,
) -> Result<Sent, ApiError> {
    let raw: Raw<AnyStateEventContent> = Raw::new(content)?.cast_unchecked();
    let request = send_state_event::v3::Request::new_raw(
        room.to_owned(),
        event_type.into(),
        id.to_owned(),
        raw,
    );
    let token = user.write_token()?;
    let own = started.elapsed();
    let sending = Instant::now();
    let response = state
        .client
        .send_with_user_token(request, token)
        .await
        .map_err(|error| homeserver_error("change", error))?;
    let homeserver = sending.elapsed();
    // The caller reads their own write next: index it now rather than when it is delivered.
    let reading = Instant::now();
    if let Err(error) = state.bot.index_sent(room, &response.event_id).await {
        tracing::warn!(%error, event_id = %response.event_id, "a write is indexed when the homeserver delivers it");
    }
    let ms = |elapsed: std::time::Duration| elapsed.as_secs_f64() * 1000.0;
    Ok(Sent {
        event_id: response.event_id.to_string(),
        server_timing: format!(
            "parvis;dur={:.3}, homeserver;dur={:.3}, readback;dur={:.3}",
            ms(own),
            ms(homeserver),
            ms(reading.elapsed())
        ),
    })
}

/// A write's answer with its `Server-Timing`.
type WrittenResponse = (StatusCode, [(header::HeaderName, String); 1], Json<Written>);

fn answered(status: StatusCode, (written, server_timing): (Written, String)) -> WrittenResponse {
    (
        status,
        [(
            header::HeaderName::from_static("server-timing"),
            server_timing,
        )],
        Json(written),
    )
}

/// `POST /api/v1/communities/{space}/tasks/boards` — creates a board, sent as the caller.
#[utoipa::path(post, path = "/api/v1/communities/{space}/tasks/boards", params(("space" = String, Path, description = "The community's space ID")), request_body = NewBoard, security(("matrix_token" = [])), responses((status = 201, body = Written), (status = 403, description = "Not a member, may not write, or the room is encrypted", body = ErrorBody), (status = 404, description = "No such community, or it has no tasks", body = ErrorBody)))]
async fn create_board(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath(space): ApiPath<String>,
    ApiJson(new): ApiJson<NewBoard>,
) -> Result<WrittenResponse, ApiError> {
    let started = Instant::now();
    let name = new.name.trim();
    if name.is_empty() {
        return Err(MatrixErrorBody::new(
            StatusCode::BAD_REQUEST,
            "M_INVALID_PARAM",
            "the board has no name",
        )
        .into());
    }
    let board = match new.columns {
        None => KanbanBoardEventContent::starter(name),
        Some(columns) if columns.is_empty() => {
            return Err(MatrixErrorBody::new(
                StatusCode::BAD_REQUEST,
                "M_INVALID_PARAM",
                "a board needs at least one column",
            )
            .into());
        }
        Some(columns) => KanbanBoardEventContent::new(
            name,
            columns
                .into_iter()
                .enumerate()
                .map(|(at, column)| {
                    let mut made = KanbanColumn::new(format!("col{at}"), column.name.trim());
                    made.wip_limit = column.wip_limit;
                    made.done = column.done;
                    made
                })
                .collect(),
        ),
    };
    let room = writable_room(&state, &space, &user.user_id, (BOARD_EVENT, true)).await?;
    let id = new_id();
    let sent = send_as(&state, &user, &room, (BOARD_EVENT, &id), &board, started).await?;
    Ok(answered(
        StatusCode::CREATED,
        (
            Written {
                id,
                event_id: sent.event_id,
                warnings: Vec::new(),
            },
            sent.server_timing,
        ),
    ))
}

/// A card as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CardView {
    /// Its ID.
    pub id: String,
    /// Its content.
    #[serde(flatten)]
    pub card: KanbanCardEventContent,
    /// Due before today and not done.
    pub late: bool,
    /// The state event that holds it.
    pub event_id: String,
    /// Who wrote it last.
    pub updated_by: String,
    /// When, in milliseconds since the epoch.
    pub updated_at: i64,
}

/// A column of a board, with its cards in order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ColumnView {
    /// The column.
    #[serde(flatten)]
    pub column: KanbanColumn,
    /// Holds more cards than its limit.
    pub over_limit: bool,
    /// Its cards, in order.
    pub cards: Vec<CardView>,
}

/// A board with its cards.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BoardView {
    /// Its ID.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Archived.
    pub archived: bool,
    /// Its columns, in order.
    pub columns: Vec<ColumnView>,
    /// Cards naming a column the board no longer has, in order.
    pub unplaced: Vec<CardView>,
    /// The caller may add, move and edit cards and comment them (a reader may not).
    pub may_write: bool,
}

fn today() -> CalendarDate {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    CalendarDate::from_days(i64::try_from(seconds / 86_400).unwrap_or(0))
}

fn view(card: IndexedCard, done: bool, today: CalendarDate) -> CardView {
    CardView {
        late: !done && card.content.due.is_some_and(|due| due < today),
        id: card.id,
        card: card.content,
        event_id: card.event_id,
        updated_by: card.sender,
        updated_at: card.updated_at,
    }
}

/// Lays a board's cards out in its columns, each in order; archived cards left out.
fn board_view(
    board: IndexedBoard,
    mut cards: Vec<IndexedCard>,
    today: CalendarDate,
    may_write: bool,
) -> BoardView {
    cards.retain(|card| !card.content.archived);
    sort_cards(&mut cards);
    let mut by_column: HashMap<String, Vec<IndexedCard>> = HashMap::new();
    for card in cards {
        by_column
            .entry(card.content.column.clone())
            .or_default()
            .push(card);
    }
    let columns: Vec<ColumnView> = board
        .content
        .columns
        .into_iter()
        .map(|column| {
            let cards: Vec<CardView> = by_column
                .remove(&column.id)
                .unwrap_or_default()
                .into_iter()
                .map(|card| view(card, column.done, today))
                .collect();
            ColumnView {
                over_limit: column.wip_limit.is_some_and(|limit| {
                    cards.len() > usize::try_from(limit).unwrap_or(usize::MAX)
                }),
                column,
                cards,
            }
        })
        .collect();
    let mut unplaced: Vec<IndexedCard> = by_column.into_values().flatten().collect();
    sort_cards(&mut unplaced);
    BoardView {
        id: board.id,
        name: board.content.name,
        archived: board.content.archived,
        columns,
        unplaced: unplaced
            .into_iter()
            .map(|card| view(card, false, today))
            .collect(),
        may_write,
    }
}

/// `GET /api/v1/communities/{space}/tasks/boards/{board}` — a board with its cards, column by
/// column in order (by position, then ID). The answer is kept, serialized, until the room
/// changes: a board of thousands of cards is read far more often than it is written.
#[utoipa::path(get, path = "/api/v1/communities/{space}/tasks/boards/{board}", params(("space" = String, Path, description = "The community's space ID"), ("board" = String, Path, description = "The board's ID")), security(("matrix_token" = [])), responses((status = 200, body = BoardView), (status = 403, description = "Not a member of the tasks room", body = ErrorBody), (status = 404, description = "No such community or board", body = ErrorBody)))]
async fn board(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath((space, board)): ApiPath<(String, String)>,
) -> Result<JsonBytes, ApiError> {
    let (room, access) = readable_room(&state, &space, &user.user_id).await?;
    let may_write = access.may_send(CARD_EVENT, true).is_ok();
    let today = today();
    // What the answer depends on besides the room: the board, the day (late cards) and
    // whether the caller may write.
    let key = format!("tasks/board/{board}/{today}/{may_write}");
    if let Some(kept) = access
        .stamp
        .and_then(|stamp| state.answers.get(&room, &key, stamp))
    {
        return Ok(JsonBytes(kept));
    }
    let indexed = load_board(&state, &room, &board)
        .await?
        .ok_or_else(|| no_board(&board))?;
    let cards = load_cards(&state, &room, Some(&board)).await?;
    let body = axum::body::Bytes::from(serde_json::to_vec(&board_view(
        indexed, cards, today, may_write,
    ))?);
    if let Some(stamp) = access.stamp {
        state.answers.keep(&room, &key, stamp, body.clone());
    }
    Ok(JsonBytes(body))
}

/// A card's fields as a member writes them.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CardInput {
    /// Its title.
    pub title: String,
    /// Its description, in markdown.
    #[serde(default)]
    pub description: String,
    /// Its column; the board's first when absent (for a new card).
    #[serde(default)]
    pub column: Option<String>,
    /// Who does it.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub assignees: Vec<OwnedUserId>,
    /// Its labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Its first day.
    #[serde(default)]
    pub start: Option<CalendarDate>,
    /// Its last day.
    #[serde(default)]
    pub due: Option<CalendarDate>,
    /// Its checklist.
    #[serde(default)]
    pub checklist: Vec<ChecklistItem>,
    /// The cards that must be done before it.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Archived: off the board.
    #[serde(default)]
    pub archived: bool,
}

/// The room's cards as the domain's helpers read them: ID and content.
fn pairs(cards: &[IndexedCard]) -> impl Iterator<Item = (&str, &KanbanCardEventContent)> {
    cards.iter().map(|card| (card.id.as_str(), &card.content))
}

fn bad_position(error: position::PositionError) -> ApiError {
    problem(&CardProblem::BadPosition(error))
}

/// What a card is checked against besides its board: the other cards in its column, and every
/// other card's dependencies (empty when the write changes no dependency).
struct Neighbourhood {
    others_in_column: usize,
    dependencies: Vec<(String, Vec<String>)>,
}

impl Neighbourhood {
    /// From every card of the room, for card `id`.
    fn of(cards: &[IndexedCard], id: &str, card: &KanbanCardEventContent) -> Self {
        Self {
            others_in_column: column_positions(pairs(cards), &card.board, &card.column, id).len(),
            dependencies: dependencies_of(pairs(cards)),
        }
    }
}

/// Checks a card against the room's board and its neighbourhood and sends it as the caller.
async fn write_card(
    state: &ApiState,
    user: &SignedInUser,
    room: &RoomId,
    id: &str,
    card: &KanbanCardEventContent,
    around: &Neighbourhood,
    started: Instant,
) -> Result<(Written, String), ApiError> {
    let board = load_board(state, room, &card.board).await?;
    let warnings = check_card(
        id,
        card,
        &CardContext {
            board: board.as_ref().map(|board| &board.content),
            others_in_column: around.others_in_column,
            dependencies: &around.dependencies,
        },
    )
    .map_err(|refused| problem(&refused))?;
    let sent = send_as(state, user, room, (CARD_EVENT, id), card, started).await?;
    Ok((
        Written {
            id: id.to_owned(),
            event_id: sent.event_id,
            warnings: warnings.iter().map(ToString::to_string).collect(),
        },
        sent.server_timing,
    ))
}

/// `POST /api/v1/communities/{space}/tasks/boards/{board}/cards` — adds a card at the end of its
/// column, sent as the caller.
#[utoipa::path(post, path = "/api/v1/communities/{space}/tasks/boards/{board}/cards", params(("space" = String, Path, description = "The community's space ID"), ("board" = String, Path, description = "The board's ID")), request_body = CardInput, security(("matrix_token" = [])), responses((status = 201, body = Written), (status = 400, description = "The card names what is wrong: ORG.PARVIS_UNKNOWN_BOARD, ORG.PARVIS_UNKNOWN_COLUMN, ORG.PARVIS_ARCHIVED_BOARD, ORG.PARVIS_DUE_BEFORE_START, ORG.PARVIS_DEPENDENCY_CYCLE, M_INVALID_PARAM", body = ErrorBody), (status = 403, description = "Not a member, may not write, or the room is encrypted", body = ErrorBody), (status = 404, description = "No such community", body = ErrorBody)))]
async fn create_card(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath((space, board)): ApiPath<(String, String)>,
    ApiJson(input): ApiJson<CardInput>,
) -> Result<WrittenResponse, ApiError> {
    let started = Instant::now();
    let room = writable_room(&state, &space, &user.user_id, (CARD_EVENT, true)).await?;
    let column = match input.column.clone() {
        Some(column) => column,
        None => load_board(&state, &room, &board)
            .await?
            .and_then(|board| {
                board
                    .content
                    .columns
                    .first()
                    .map(|column| column.id.clone())
            })
            .ok_or_else(|| problem(&CardProblem::UnknownBoard(board.clone())))?,
    };
    let cards = load_cards(&state, &room, None).await?;
    let positions = column_positions(pairs(&cards), &board, &column, "");
    let position = end_of_column(&positions).map_err(bad_position)?;
    let card = content_of(input, board, column, position);
    let id = new_id();
    let around = Neighbourhood::of(&cards, &id, &card);
    let written = write_card(&state, &user, &room, &id, &card, &around, started).await?;
    Ok(answered(StatusCode::CREATED, written))
}

fn content_of(
    input: CardInput,
    board: String,
    column: String,
    position: String,
) -> KanbanCardEventContent {
    let mut card = KanbanCardEventContent::new(input.title.trim(), board, column, position);
    card.description = input.description;
    card.assignees = input.assignees;
    card.labels = input.labels;
    card.start = input.start;
    card.due = input.due;
    card.checklist = input.checklist;
    card.depends_on = input.depends_on;
    card.archived = input.archived;
    card
}

fn no_card(card: &str) -> ApiError {
    MatrixErrorBody::not_found(format!("there is no card {card} in this community")).into()
}

/// `PUT /api/v1/communities/{space}/tasks/cards/{card}` — edits a card, sent as the caller. A
/// new column puts it at the end of that column; otherwise it keeps its place.
#[utoipa::path(put, path = "/api/v1/communities/{space}/tasks/cards/{card}", params(("space" = String, Path, description = "The community's space ID"), ("card" = String, Path, description = "The card's ID")), request_body = CardInput, security(("matrix_token" = [])), responses((status = 200, body = Written), (status = 400, description = "The card names what is wrong", body = ErrorBody), (status = 403, description = "Not a member, may not write, or the room is encrypted", body = ErrorBody), (status = 404, description = "No such community or card", body = ErrorBody)))]
async fn edit_card(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath((space, id)): ApiPath<(String, String)>,
    ApiJson(input): ApiJson<CardInput>,
) -> Result<WrittenResponse, ApiError> {
    let started = Instant::now();
    let room = writable_room(&state, &space, &user.user_id, (CARD_EVENT, true)).await?;
    let cards = load_cards(&state, &room, None).await?;
    let current = cards
        .iter()
        .find(|card| card.id == id)
        .ok_or_else(|| no_card(&id))?;
    let column = input
        .column
        .clone()
        .unwrap_or_else(|| current.content.column.clone());
    let position = if column == current.content.column {
        current.content.position.clone()
    } else {
        let positions = column_positions(pairs(&cards), &current.content.board, &column, &id);
        end_of_column(&positions).map_err(bad_position)?
    };
    let mut card = content_of(input, current.content.board.clone(), column, position);
    card.requested_by = None;
    let around = Neighbourhood::of(&cards, &id, &card);
    let written = write_card(&state, &user, &room, &id, &card, &around, started).await?;
    Ok(answered(StatusCode::OK, written))
}

/// Where to move a card.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CardMove {
    /// The column it goes to (its own to reorder it).
    pub column: String,
    /// The card it goes right after; absent or null: the top of the column.
    #[serde(default)]
    pub after: Option<String>,
}

/// `POST /api/v1/communities/{space}/tasks/cards/{card}/move` — moves a card: only this card is
/// written, with a position between its new neighbours'.
#[utoipa::path(post, path = "/api/v1/communities/{space}/tasks/cards/{card}/move", params(("space" = String, Path, description = "The community's space ID"), ("card" = String, Path, description = "The card's ID")), request_body = CardMove, security(("matrix_token" = [])), responses((status = 200, body = Written), (status = 400, description = "Unknown column, archived board…", body = ErrorBody), (status = 403, description = "Not a member, may not write, or the room is encrypted", body = ErrorBody), (status = 404, description = "No such community or card", body = ErrorBody)))]
async fn move_card(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath((space, id)): ApiPath<(String, String)>,
    ApiJson(to): ApiJson<CardMove>,
) -> Result<WrittenResponse, ApiError> {
    let started = Instant::now();
    let room = writable_room(&state, &space, &user.user_id, (CARD_EVENT, true)).await?;
    // One read: this card, and of its new column only the count and the two positions the
    // new one goes between — a move is the board's most frequent write, and no other card's
    // content matters to it.
    let row = state
        .index
        .tool_rows(
            MOVE_PLACE,
            vec![
                room.as_str().into(),
                id.as_str().into(),
                to.column.as_str().into(),
                to.after.as_deref().unwrap_or("").into(),
            ],
        )
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| no_card(&id))?;
    let mut row = ToolRow::new(row);
    let mut card = card_of(&mut row)?.content;
    let others_in_column = usize::try_from(row.integer().map_err(RowError::from)?).unwrap_or(0);
    let after_position = row.optional_text().map_err(RowError::from)?;
    let next_position = row.optional_text().map_err(RowError::from)?;
    let low = match &to.after {
        Some(after) => Some(after_position.ok_or_else(|| {
            MatrixErrorBody::new(
                StatusCode::BAD_REQUEST,
                "M_INVALID_PARAM",
                format!("the card {after} is not in that column"),
            )
        })?),
        None => None,
    };
    let (low, high) = (low.as_deref(), next_position.as_deref());
    card.position = position::key_between(low, high).map_err(bad_position)?;
    card.column = to.column;
    card.requested_by = None;
    // A move changes no dependency: no circle can be new.
    let around = Neighbourhood {
        others_in_column,
        dependencies: Vec::new(),
    };
    let written = write_card(&state, &user, &room, &id, &card, &around, started).await?;
    Ok(answered(StatusCode::OK, written))
}

/// The card `id` of `room`, as the index holds it.
async fn load_card(state: &ApiState, room: &RoomId, id: &str) -> Result<IndexedCard, ApiError> {
    let row = state
        .index
        .tool_rows(CARD, vec![room.as_str().into(), id.into()])
        .await?;
    cards_of(row)?.pop().ok_or_else(|| no_card(id))
}

fn comment_of(row: Vec<SqlValue>) -> Result<CommentRow, ApiError> {
    let mut row = ToolRow::new(row);
    let mut text = || row.text().map_err(RowError::from);
    let (event_id, room_id, thread_root, sender, body) =
        (text()?, text()?, text()?, text()?, text()?);
    let origin_server_ts = row.integer().map_err(RowError::from)?;
    Ok(CommentRow {
        event_id: event_id.try_into()?,
        room_id: room_id.try_into()?,
        thread_root: thread_root.try_into()?,
        sender: sender.try_into()?,
        body,
        origin_server_ts,
    })
}

/// `GET /api/v1/communities/{space}/tasks/cards/{card}/comments` — the comments on a card, oldest
/// first: messages in the Matrix thread of any of its events, as any client writes them.
#[utoipa::path(get, path = "/api/v1/communities/{space}/tasks/cards/{card}/comments", params(("space" = String, Path, description = "The community's space ID"), ("card" = String, Path, description = "The card's ID")), security(("matrix_token" = [])), responses((status = 200, body = Vec<CommentRow>), (status = 403, description = "Not a member of the tasks room", body = ErrorBody), (status = 404, description = "No such community or card", body = ErrorBody)))]
async fn card_comments(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath((space, id)): ApiPath<(String, String)>,
) -> Result<Json<Vec<CommentRow>>, ApiError> {
    let (room, _) = readable_room(&state, &space, &user.user_id).await?;
    load_card(&state, &room, &id).await?;
    let rows = state
        .index
        .tool_rows(
            CARD_COMMENTS,
            vec![room.as_str().into(), id.as_str().into()],
        )
        .await?;
    Ok(Json(
        rows.into_iter().map(comment_of).collect::<Result<_, _>>()?,
    ))
}

/// A comment to post.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewComment {
    /// Its text.
    pub body: String,
}

/// `POST /api/v1/communities/{space}/tasks/cards/{card}/comments` — comments a card: a message in
/// the thread of its current event, sent as the caller.
#[utoipa::path(post, path = "/api/v1/communities/{space}/tasks/cards/{card}/comments", params(("space" = String, Path, description = "The community's space ID"), ("card" = String, Path, description = "The card's ID")), request_body = NewComment, security(("matrix_token" = [])), responses((status = 201, description = "`{event_id}`", body = Object), (status = 400, description = "The comment is empty", body = ErrorBody), (status = 403, description = "Not a member, may not write, or the room is encrypted", body = ErrorBody), (status = 404, description = "No such community or card", body = ErrorBody)))]
async fn comment_card(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath((space, id)): ApiPath<(String, String)>,
    ApiJson(comment): ApiJson<NewComment>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    if comment.body.trim().is_empty() {
        return Err(MatrixErrorBody::new(
            StatusCode::BAD_REQUEST,
            "M_INVALID_PARAM",
            "the comment is empty",
        )
        .into());
    }
    let room = writable_room(&state, &space, &user.user_id, ("m.room.message", false)).await?;
    let card = load_card(&state, &room, &id).await?;
    let root = OwnedEventId::try_from(card.event_id)?;
    let mut content = RoomMessageEventContent::text_plain(comment.body);
    content.relates_to = Some(Relation::Thread(Thread::plain(root.clone(), root)));
    let txn_id: OwnedTransactionId = uuid::Uuid::new_v4().to_string().into();
    let request = send_message_event::v3::Request::new(room.clone(), txn_id, &content)?;
    let response = state
        .client
        .send_with_user_token(request, user.write_token()?)
        .await
        .map_err(|error| homeserver_error("comment", error))?;
    if let Err(error) = state.bot.index_sent(&room, &response.event_id).await {
        tracing::warn!(%error, event_id = %response.event_id, "a comment is indexed when the homeserver delivers it");
    }
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"event_id": response.event_id})),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct GanttQuery {
    /// One board's cards; every board's when absent.
    #[serde(default)]
    board: Option<String>,
}

/// A dated card in the Gantt view.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GanttCard {
    /// Its ID.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its board.
    pub board: String,
    /// Its column.
    pub column: String,
    /// In a column of done cards.
    pub done: bool,
    /// Its planned first day (its due date when it has none).
    pub start: CalendarDate,
    /// Its planned last day.
    pub due: CalendarDate,
    /// The dated cards it depends on.
    pub depends_on: Vec<String>,
    /// The first day its dependencies allow.
    pub earliest_start: CalendarDate,
    /// Its last day if it starts then.
    pub earliest_finish: CalendarDate,
    /// The last day it may start without delaying the end.
    pub latest_start: CalendarDate,
    /// The last day it may finish without delaying the end.
    pub latest_finish: CalendarDate,
    /// Days it may slip without delaying the end.
    pub slack: i64,
    /// Days its dependencies push it past its planned start.
    pub pushed_by: i64,
    /// On the critical path.
    pub critical: bool,
}

/// A card without a due date, listed apart.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UndatedCard {
    /// Its ID.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its board.
    pub board: String,
}

/// The Gantt view of a board, or of every board of a community.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GanttView {
    /// Dated cards, each after those it depends on.
    pub cards: Vec<GanttCard>,
    /// The cards without slack, in order.
    pub critical_path: Vec<String>,
    /// The last day of the plan.
    pub end: Option<CalendarDate>,
    /// Cards without a due date.
    pub undated: Vec<UndatedCard>,
}

/// The Gantt view of cards (archived ones left out) and the done columns of their boards.
pub fn gantt_of(
    cards: Vec<IndexedCard>,
    done_columns: &[(String, String)],
) -> Result<GanttView, GanttError> {
    let mut dated = Vec::new();
    let mut undated = Vec::new();
    for card in cards.into_iter().filter(|card| !card.content.archived) {
        match card.content.due {
            Some(due) => dated.push((card.content.start.unwrap_or(due), due, card)),
            None => undated.push(UndatedCard {
                id: card.id,
                title: card.content.title,
                board: card.content.board,
            }),
        }
    }
    undated.sort_by(|a, b| (&a.title, &a.id).cmp(&(&b.title, &b.id)));
    let planned: Vec<PlannedCard> = dated
        .iter()
        .map(|(start, due, card)| PlannedCard {
            id: card.id.clone(),
            start: *start,
            due: *due,
            depends_on: card.content.depends_on.clone(),
        })
        .collect();
    let schedule = gantt::schedule(&planned)?;
    let mut by_id: HashMap<String, (CalendarDate, CalendarDate, IndexedCard)> = dated
        .into_iter()
        .map(|(start, due, card)| (card.id.clone(), (start, due, card)))
        .collect();
    let cards = schedule
        .cards
        .into_iter()
        .filter_map(|scheduled| {
            let (start, due, card) = by_id.remove(&scheduled.id)?;
            let done = done_columns.iter().any(|(board, column)| {
                *board == card.content.board && *column == card.content.column
            });
            let depends_on = card
                .content
                .depends_on
                .into_iter()
                .filter(|other| planned.iter().any(|planned| planned.id == *other))
                .collect();
            Some(GanttCard {
                critical: schedule.critical_path.contains(&scheduled.id),
                id: scheduled.id,
                title: card.content.title,
                board: card.content.board,
                column: card.content.column,
                done,
                start,
                due,
                depends_on,
                earliest_start: scheduled.earliest_start,
                earliest_finish: scheduled.earliest_finish,
                latest_start: scheduled.latest_start,
                latest_finish: scheduled.latest_finish,
                slack: scheduled.slack,
                pushed_by: scheduled.pushed_by,
            })
        })
        .collect();
    Ok(GanttView {
        cards,
        critical_path: schedule.critical_path,
        end: schedule.end,
        undated,
    })
}

fn done_columns(boards: &[IndexedBoard]) -> Vec<(String, String)> {
    boards
        .iter()
        .flat_map(|board| {
            board
                .content
                .columns
                .iter()
                .filter(|column| column.done)
                .map(|column| (board.id.clone(), column.id.clone()))
        })
        .collect()
}

/// `GET /api/v1/communities/{space}/tasks/gantt` — the dated cards of a board (or of every
/// board) with their dependencies, each card's slack and the critical path; undated cards apart.
#[utoipa::path(get, path = "/api/v1/communities/{space}/tasks/gantt", params(("space" = String, Path, description = "The community's space ID"), GanttQuery), security(("matrix_token" = [])), responses((status = 200, body = GanttView), (status = 403, description = "Not a member of the tasks room", body = ErrorBody), (status = 404, description = "No such community or board", body = ErrorBody), (status = 409, description = "The room's cards depend on each other in a circle (ORG.PARVIS_DEPENDENCY_CYCLE, the cards named), or one is due before it starts", body = ErrorBody)))]
async fn gantt_view(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath(space): ApiPath<String>,
    ApiQuery(query): ApiQuery<GanttQuery>,
) -> Result<Json<GanttView>, ApiError> {
    let (room, _) = readable_room(&state, &space, &user.user_id).await?;
    let boards = load_boards(&state, &room).await?;
    if let Some(board) = &query.board
        && !boards.iter().any(|indexed| indexed.id == *board)
    {
        return Err(no_board(board));
    }
    let cards = load_cards(&state, &room, query.board.as_deref()).await?;
    gantt_of(cards, &done_columns(&boards))
        .map(Json)
        .map_err(|error| {
            let errcode = match error {
                GanttError::Cycle(_) => "ORG.PARVIS_DEPENDENCY_CYCLE",
                GanttError::DueBeforeStart { .. } => "ORG.PARVIS_DUE_BEFORE_START",
            };
            MatrixErrorBody::new(StatusCode::CONFLICT, errcode, error.to_string()).into()
        })
}

/// One CSV field: quoted when it must be (RFC 4180), and a leading `=`, `+`, `-`, `@`, tab or
/// carriage return disarmed with a `'` so a spreadsheet shows it rather than running it.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// A board as CSV: one line per card, column by column in order.
pub fn board_csv(view: &BoardView) -> String {
    let mut csv = String::from("title,column,assignees,labels,start,due,done,id\r\n");
    let placed = view.columns.iter().flat_map(|column| {
        column
            .cards
            .iter()
            .map(move |card| (Some(&column.column), card))
    });
    let unplaced = view.unplaced.iter().map(|card| (None, card));
    for (column, card) in placed.chain(unplaced) {
        let assignees: Vec<&str> = card
            .card
            .assignees
            .iter()
            .map(|user| user.as_str())
            .collect();
        let date =
            |date: Option<CalendarDate>| date.map(|date| date.to_string()).unwrap_or_default();
        let fields = [
            csv_field(&card.card.title),
            csv_field(column.map_or(card.card.column.as_str(), |column| column.name.as_str())),
            csv_field(&assignees.join(" ")),
            csv_field(&card.card.labels.join(", ")),
            date(card.card.start),
            date(card.card.due),
            if column.is_some_and(|column| column.done) {
                "yes"
            } else {
                "no"
            }
            .to_owned(),
            csv_field(&card.id),
        ];
        csv.push_str(&fields.join(","));
        csv.push_str("\r\n");
    }
    csv
}

/// `GET /api/v1/communities/{space}/tasks/boards/{board}/export.csv` — the board's cards as CSV
/// (title, column, assignees, labels, dates), for a spreadsheet.
#[utoipa::path(get, path = "/api/v1/communities/{space}/tasks/boards/{board}/export.csv", params(("space" = String, Path, description = "The community's space ID"), ("board" = String, Path, description = "The board's ID")), security(("matrix_token" = [])), responses((status = 200, content_type = "text/csv", body = String), (status = 403, description = "Not a member of the tasks room", body = ErrorBody), (status = 404, description = "No such community or board", body = ErrorBody)))]
async fn export_csv(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
    ApiPath((space, board)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let (room, _) = readable_room(&state, &space, &user.user_id).await?;
    let indexed = load_board(&state, &room, &board)
        .await?
        .ok_or_else(|| no_board(&board))?;
    let cards = load_cards(&state, &room, Some(&board)).await?;
    let csv = board_csv(&board_view(indexed, cards, today(), false));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"board-{board}.csv\""),
            ),
        ],
        csv,
    )
        .into_response())
}

/// An open card assigned to the caller.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MyTask {
    /// Its community's space.
    pub space: String,
    /// Its community's name.
    pub community: String,
    /// Its board's name.
    pub board_name: String,
    /// The card.
    #[serde(flatten)]
    pub card: CardView,
}

/// `GET /api/v1/tasks/mine` — every open card assigned to the caller (not archived, not in a
/// done column) across their communities, the latest due first, undated last.
#[utoipa::path(get, path = "/api/v1/tasks/mine", security(("matrix_token" = [])), responses((status = 200, body = Vec<MyTask>)))]
async fn my_tasks(
    State(state): State<Arc<ApiState>>,
    user: SignedInUser,
) -> Result<Json<Vec<MyTask>>, ApiError> {
    let communities = state.index.communities().await?;
    let rows = state
        .index
        .tool_rows(ASSIGNED_CARDS, vec![user.user_id.as_str().into()])
        .await?;
    let mut by_room: HashMap<String, Vec<IndexedCard>> = HashMap::new();
    for row in rows {
        let mut row = ToolRow::new(row);
        let room = row.text().map_err(RowError::from)?;
        by_room.entry(room).or_default().push(card_of(&mut row)?);
    }
    let today = today();
    let mut tasks = Vec::new();
    for (room, cards) in by_room {
        let Some(community) = communities
            .iter()
            .find(|community| community.rooms.iter().any(|(id, _)| id.as_str() == room))
        else {
            continue;
        };
        let Ok(room_id) = <&RoomId>::try_from(room.as_str()) else {
            continue;
        };
        if check_member(&state.index, room_id, &user.user_id)
            .await?
            .is_err()
        {
            continue;
        }
        let boards = load_boards(&state, room_id).await?;
        for card in cards {
            let board = boards.iter().find(|board| board.id == card.content.board);
            let done = board
                .and_then(|board| board.content.column(&card.content.column))
                .is_some_and(|column| column.done);
            if done {
                continue;
            }
            tasks.push(MyTask {
                space: community.space_id.to_string(),
                community: community.name.clone(),
                board_name: board
                    .map(|board| board.content.name.clone())
                    .unwrap_or_default(),
                card: view(card, false, today),
            });
        }
    }
    tasks.sort_by(|a, b| {
        let due = |task: &MyTask| task.card.card.due.map_or(i64::MAX, CalendarDate::days);
        (due(a), &a.card.card.title, &a.card.id).cmp(&(due(b), &b.card.card.title, &b.card.id))
    });
    Ok(Json(tasks))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn card(id: &str, column: &str, position: &str) -> IndexedCard {
        IndexedCard {
            id: id.to_owned(),
            event_id: format!("${id}"),
            sender: "@alice:hs".to_owned(),
            updated_at: 0,
            content: KanbanCardEventContent::new(format!("Carte {id}"), "b1", column, position),
        }
    }

    fn indexed_board() -> IndexedBoard {
        IndexedBoard {
            id: "b1".to_owned(),
            event_id: "$b1".to_owned(),
            content: KanbanBoardEventContent::starter("Projet"),
        }
    }

    #[test]
    fn a_board_lays_its_cards_out_by_column_and_position() {
        let mut late = card("late", "todo", "a1");
        late.content.due = CalendarDate::parse("2026-12-01").ok();
        let mut finished = card("finished", "done", "a0");
        finished.content.due = CalendarDate::parse("2026-12-01").ok();
        let mut archived = card("archived", "todo", "a2");
        archived.content.archived = true;
        let cards = vec![
            late,
            card("first", "todo", "a0"),
            finished,
            archived,
            card("lost", "gone", "a0"),
        ];
        let view = board_view(
            indexed_board(),
            cards,
            CalendarDate::parse("2026-12-06").unwrap(),
            true,
        );
        let ids = |column: &ColumnView| -> Vec<String> {
            column.cards.iter().map(|card| card.id.clone()).collect()
        };
        assert_eq!(ids(&view.columns[0]), ["first", "late"]);
        assert!(view.columns[0].cards[1].late);
        assert!(!view.columns[0].cards[0].late);
        assert_eq!(ids(&view.columns[2]), ["finished"]);
        assert!(!view.columns[2].cards[0].late, "a done card is never late");
        assert_eq!(view.unplaced.len(), 1);
        assert_eq!(view.unplaced[0].id, "lost");
    }

    #[test]
    fn csv_quotes_what_it_must_and_disarms_formulas() {
        assert_eq!(csv_field("Appeler"), "Appeler");
        assert_eq!(csv_field("Achats, devis"), "\"Achats, devis\"");
        assert_eq!(csv_field("Le \"bon\""), "\"Le \"\"bon\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-2"), "'-2");
        let mut assigned = card("c1", "doing", "a0");
        assigned.content.assignees = vec!["@alice:hs".try_into().unwrap()];
        assigned.content.labels = vec!["achats".to_owned(), "urgent".to_owned()];
        assigned.content.due = CalendarDate::parse("2026-12-18").ok();
        let view = board_view(
            indexed_board(),
            vec![assigned, card("c2", "done", "a0")],
            CalendarDate::parse("2026-12-06").unwrap(),
            true,
        );
        assert_eq!(
            board_csv(&view),
            "title,column,assignees,labels,start,due,done,id\r\n\
             Carte c1,In progress,'@alice:hs,\"achats, urgent\",,2026-12-18,no,c1\r\n\
             Carte c2,Done,,,,,yes,c2\r\n"
        );
    }

    #[test]
    fn the_gantt_view_lists_undated_cards_apart_and_marks_the_critical_ones() {
        let dated = |id: &str, start: &str, due: &str, depends_on: &[&str]| {
            let mut card = card(id, "todo", "a0");
            card.content.start = CalendarDate::parse(start).ok();
            card.content.due = CalendarDate::parse(due).ok();
            card.content.depends_on = depends_on.iter().map(|id| (*id).to_owned()).collect();
            card
        };
        let cards = vec![
            dated("a", "2026-12-01", "2026-12-02", &[]),
            dated("b", "2026-12-01", "2026-12-05", &["a", "u"]),
            dated("c", "2026-12-01", "2026-12-01", &[]),
            card("u", "todo", "a1"),
        ];
        let view = gantt_of(cards, &[]).unwrap();
        assert_eq!(view.critical_path, ["a", "b"]);
        assert_eq!(view.undated.len(), 1);
        assert_eq!(view.undated[0].id, "u");
        let b = view.cards.iter().find(|card| card.id == "b").unwrap();
        assert_eq!(b.depends_on, ["a"], "only dated dependencies are drawn");
        assert_eq!(b.earliest_start.to_string(), "2026-12-03");
        assert!(b.critical);
        let c = view.cards.iter().find(|card| card.id == "c").unwrap();
        assert!(!c.critical);
        assert!(c.slack > 0);
    }
}
