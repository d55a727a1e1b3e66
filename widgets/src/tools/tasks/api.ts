/**
 * The tasks API, through the app's `ApiClient` (its token, renewal and `{errcode, error}`
 * errors): a community's boards and their cards, the Gantt view, a board's CSV, the user's own
 * open cards, a card's comments. The writes are `writer.ts`'s, which uses these in standalone mode.
 */
import { apiPath, type ApiClient } from "../../api/client";
import type { BoardSummary, BoardView, CardComment, CardInput, CardMove, CommentSent, GanttView, MyTask, NewBoard, Written } from "./types";

const tasksPath = (space: string, ...rest: string[]) => apiPath("communities", space, "tasks", ...rest);

/** `GET /api/v1/communities/{space}/tasks/boards`: open boards first, by name. */
export function listBoards(api: ApiClient, space: string, signal?: AbortSignal): Promise<BoardSummary[]> {
  return api.request("GET", tasksPath(space, "boards"), { signal });
}

/** `GET …/tasks/boards/{board}`: its columns in order, each with its cards in order. */
export function loadBoard(api: ApiClient, space: string, board: string, signal?: AbortSignal): Promise<BoardView> {
  return api.request("GET", tasksPath(space, "boards", board), { signal });
}

/** `POST …/tasks/boards`, sent by Parvis as the user (standalone mode). */
export function postBoard(api: ApiClient, space: string, board: NewBoard): Promise<Written> {
  return api.request("POST", tasksPath(space, "boards"), { body: board });
}

/** `POST …/tasks/boards/{board}/cards`: a card at the end of its column (standalone mode). */
export function postCard(api: ApiClient, space: string, board: string, card: CardInput): Promise<Written> {
  return api.request("POST", tasksPath(space, "boards", board, "cards"), { body: card });
}

/** `PUT …/tasks/cards/{card}`: the card's new fields; a new column puts it at that column's end (standalone mode). */
export function putCard(api: ApiClient, space: string, card: string, input: CardInput): Promise<Written> {
  return api.request("PUT", tasksPath(space, "cards", card), { body: input });
}

/** `POST …/tasks/cards/{card}/move`: right after `after` in `column`, at its top without it (standalone mode). */
export function postMove(api: ApiClient, space: string, card: string, move: CardMove): Promise<Written> {
  return api.request("POST", tasksPath(space, "cards", card, "move"), { body: move });
}

/** `GET …/tasks/cards/{card}/comments`: the messages in the threads of the card's events, oldest first. */
export function cardComments(api: ApiClient, space: string, card: string, signal?: AbortSignal): Promise<CardComment[]> {
  return api.request("GET", tasksPath(space, "cards", card, "comments"), { signal });
}

/** `POST …/tasks/cards/{card}/comments`: a message in the thread of the card's current event, sent as the user (standalone mode). */
export function postComment(api: ApiClient, space: string, card: string, body: string): Promise<CommentSent> {
  return api.request("POST", tasksPath(space, "cards", card, "comments"), { body: { body } });
}

/** `GET …/tasks/gantt?board=`: one board's dated cards, or every board's. */
export function loadGantt(api: ApiClient, space: string, board: string | undefined, signal?: AbortSignal): Promise<GanttView> {
  return api.request("GET", tasksPath(space, "gantt"), { query: { board }, signal });
}

/** `GET /api/v1/tasks/mine`: the user's open cards in all their communities, soonest due first. */
export function myTasks(api: ApiClient, signal?: AbortSignal): Promise<MyTask[]> {
  return api.request("GET", apiPath("tasks", "mine"), { signal });
}

/** The address of `GET …/tasks/boards/{board}/export.csv`. */
export function exportPath(space: string, board: string): string {
  return tasksPath(space, "boards", board, "export.csv");
}

/**
 * A board's CSV, downloaded with the user's token (a plain link would carry none): fetched, then
 * saved under the name the server gives (`board-{id}.csv`). Failures are `ApiError`s.
 */
export async function downloadCsv(api: ApiClient, space: string, board: string): Promise<void> {
  const response = await api.download(exportPath(space, board), { accept: "text/csv" });
  const blob = await response.blob();
  const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "")?.[1] ?? `board-${board}.csv`;
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the click; the blob can go once it has been read.
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}
