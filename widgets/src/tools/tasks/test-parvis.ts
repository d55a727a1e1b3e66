/**
 * For the tool's tests: a Parvis that answers the tasks endpoints from memory, laying boards out
 * as the server does (columns in order, cards by position then ID, archived ones left out, a
 * column over its limit flagged, a move placed between its new neighbours), and a card's comments
 * (oldest first; a new one in the thread of the card's current event, an empty one refused),
 * members' avatars, and whether the caller may write (a reader may not), recording each call;
 * and the app around it, as pages get it.
 */
import { generateKeyBetween } from "fractional-indexing";
import { ApiClient } from "../../api/client";
import type { App, PageContext } from "../../app/context";
import { RouteRegistry } from "../../app/registry";
import { I18n, translate, type MessageKey, type MessageParams } from "../../i18n";
import { LiveFeed } from "../../session/live";
import { registerTools } from "../index";
import type {
  BoardView,
  CardComment,
  CardInput,
  CardMove,
  CardView,
  GanttView,
  KanbanBoardContent,
  KanbanCardContent,
  MyTask,
} from "./types";

/** A call the pages made. */
export interface Call {
  method: string;
  url: string;
  body: unknown;
}

/** What the fake Parvis holds. */
export interface TasksData {
  boards: (KanbanBoardContent & { id: string })[];
  cards: (KanbanCardContent & { id: string })[];
  /** The schedule, or a function of the cards (so a write shows), or a refusal. */
  gantt?: GanttView | ((cards: TasksData["cards"]) => GanttView) | { errcode: string; error: string; status: number };
  mine?: MyTask[];
  /** Cards due before this day are late (unless in a done column). */
  today?: string;
  /** The comments the index has, by card ID (any order: listed oldest first). */
  comments?: Record<string, CardComment[]>;
  /** The members who have an avatar, by Matrix ID: its media type (the others' answer 404). */
  avatars?: Record<string, string>;
}

export class TestParvis {
  readonly calls: Call[] = [];
  #events = 0;
  /** The next write fails with this answer. */
  failNext: { status: number; errcode: string; error: string } | null = null;
  /** Warnings of the next write. */
  warnNext: string[] = [];
  #hold: Promise<void> | null = null;
  /** Who the API's caller is: the author of the comments it posts. */
  user = "@alice:hs";
  /** Whether the caller may write in the tasks room (`may_write` of the board view): `false`, a reader. */
  mayWrite = true;
  /** Comments posted through the API are indexed at once unless this is `false` (then `indexComment`). */
  indexComments = true;
  /** Comments posted while `indexComments` was `false`, waiting to be indexed. */
  readonly unindexed: CardComment[] = [];

  /** The writes wait until the returned function is called: what the page shows meanwhile. */
  holdWrites(): () => void {
    let release: () => void = () => undefined;
    this.#hold = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.#hold = null;
      release();
    };
  }

  constructor(readonly data: TasksData) {}

  /** Adds a comment to the index, as the homeserver's push of its message would. */
  indexComment(card: string, comment: CardComment): void {
    const comments = (this.data.comments ??= {});
    (comments[card] ??= []).push(comment);
  }

  /** The event ID the board view gives a card: its current event. */
  cardEventId(id: string): string {
    const card = this.data.cards.find((candidate) => candidate.id === id) as { rev?: number } | undefined;
    return `$${id}-${card?.rev ?? 0}`;
  }

  /** The board as `GET …/boards/{board}` lays it out. */
  boardView(id: string): BoardView | null {
    const board = this.data.boards.find((candidate) => candidate.id === id);
    if (!board) return null;
    const today = this.data.today ?? "2026-12-16";
    const byPlace = (a: { position: string; id: string }, b: { position: string; id: string }) =>
      a.position < b.position ? -1 : a.position > b.position ? 1 : a.id < b.id ? -1 : 1;
    const cards = this.data.cards.filter((card) => card.board === id && !card.archived).sort(byPlace);
    const view = (card: KanbanCardContent & { id: string }, done: boolean): CardView => ({
      ...card,
      late: !done && card.due !== undefined && card.due < today,
      event_id: this.cardEventId(card.id),
      updated_by: "@alice:hs",
      updated_at: 1,
    });
    const columns = (board.columns ?? []).map((column) => {
      const own = cards.filter((card) => card.column === column.id).map((card) => view(card, column.done ?? false));
      return { ...column, cards: own, over_limit: column.wip_limit != null && own.length > column.wip_limit };
    });
    const known = new Set((board.columns ?? []).map((column) => column.id));
    return {
      id,
      name: board.name,
      archived: board.archived ?? false,
      may_write: this.mayWrite,
      columns,
      unplaced: cards.filter((card) => !known.has(card.column)).map((card) => view(card, false)),
    };
  }

  #written(id: string) {
    const card = this.data.cards.find((candidate) => candidate.id === id) as (KanbanCardContent & { id: string; rev?: number }) | undefined;
    if (card) card.rev = (card.rev ?? 0) + 1;
    this.#events += 1;
    const warnings = this.warnNext;
    this.warnNext = [];
    return { id, event_id: card ? `$${id}-${card.rev}` : `$e${this.#events}`, warnings };
  }

  #content(input: CardInput, board: string, column: string, position: string): KanbanCardContent {
    const card: KanbanCardContent = { title: input.title.trim(), board, column, position };
    if (input.description) card.description = input.description;
    if (input.assignees?.length) card.assignees = input.assignees;
    if (input.labels?.length) card.labels = input.labels;
    if (input.start) card.start = input.start;
    if (input.due) card.due = input.due;
    if (input.checklist?.length) card.checklist = input.checklist;
    if (input.depends_on?.length) card.depends_on = input.depends_on;
    if (input.archived) card.archived = true;
    return card;
  }

  #positions(board: string, column: string, except: string): string[] {
    return this.data.cards
      .filter((card) => card.board === board && card.column === column && card.id !== except && !card.archived)
      .map((card) => card.position)
      .sort();
  }

  /** The `fetch` of the pages' `ApiClient`. */
  readonly fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    const method = init?.method ?? "GET";
    const body = typeof init?.body === "string" ? JSON.parse(init.body) : undefined;
    this.calls.push({ method, url, body });
    const json = (value: unknown, status = 200) => new Response(JSON.stringify(value), { status });
    const path = url.split("?")[0] ?? url;
    const parts = path.split("/").map(decodeURIComponent);
    if (method !== "GET" && this.#hold) await this.#hold;
    if (method !== "GET" && this.failNext) {
      const failure = this.failNext;
      this.failNext = null;
      return json({ errcode: failure.errcode, error: failure.error }, failure.status);
    }
    // /api/v1/tasks/mine
    if (path === "/api/v1/tasks/mine") return json(this.data.mine ?? []);
    // /api/v1/communities/{space}/avatars/{user}: a few bytes of the type given, or 404.
    if (parts[5] === "avatars" && method === "GET") {
      const type = this.data.avatars?.[parts[6] ?? ""];
      if (!type) return json({ errcode: "M_NOT_FOUND", error: "no avatar" }, 404);
      return new Response(new Uint8Array([137, 80, 78, 71]), { headers: { "Content-Type": type, "Cache-Control": "private, max-age=3600" } });
    }
    // /api/v1/communities/{space}/tasks/…
    const rest = parts.slice(6);
    if (parts[5] !== "tasks") return json({ errcode: "M_UNRECOGNIZED", error: `${method} ${url}` }, 404);
    if (rest[0] === "boards" && rest.length === 1) {
      if (method === "GET") {
        return json(
          this.data.boards.map((board) => ({
            ...board,
            cards: this.data.cards.filter((card) => card.board === board.id && !card.archived).length,
          })),
        );
      }
      const id = `b${this.data.boards.length + 1}`;
      this.data.boards.push({
        id,
        name: body.name,
        columns: (body.columns ?? []).map((column: { name: string; done?: boolean }, at: number) => ({ id: `col${at}`, ...column })),
      });
      return json(this.#written(id), 201);
    }
    if (rest[0] === "boards" && rest.length === 2 && method === "GET") {
      const view = this.boardView(rest[1] as string);
      return view ? json(view) : json({ errcode: "M_NOT_FOUND", error: "no such board" }, 404);
    }
    if (rest[0] === "boards" && rest[2] === "cards" && method === "POST") {
      const board = rest[1] as string;
      const input = body as CardInput;
      const column = input.column ?? this.data.boards.find((candidate) => candidate.id === board)?.columns?.[0]?.id ?? "";
      const positions = this.#positions(board, column, "");
      const id = `c${this.data.cards.length + 1}`;
      this.data.cards.push({ id, ...this.#content(input, board, column, generateKeyBetween(positions[positions.length - 1] ?? null, null)) });
      return json(this.#written(id), 201);
    }
    if (rest[0] === "cards" && rest.length === 2 && method === "PUT") {
      const card = this.data.cards.find((candidate) => candidate.id === rest[1]);
      if (!card) return json({ errcode: "M_NOT_FOUND", error: "no such card" }, 404);
      const input = body as CardInput;
      const column = input.column ?? card.column;
      const positions = this.#positions(card.board, column, card.id);
      const position = column === card.column ? card.position : generateKeyBetween(positions[positions.length - 1] ?? null, null);
      const index = this.data.cards.indexOf(card);
      this.data.cards[index] = { id: card.id, ...this.#content(input, card.board, column, position), ...{ rev: (card as { rev?: number }).rev } };
      return json(this.#written(card.id));
    }
    if (rest[0] === "cards" && rest[2] === "move" && method === "POST") {
      const card = this.data.cards.find((candidate) => candidate.id === rest[1]);
      if (!card) return json({ errcode: "M_NOT_FOUND", error: "no such card" }, 404);
      const move = body as CardMove;
      const view = this.boardView(card.board);
      const neighbours = view?.columns.find((column) => column.id === move.column)?.cards.filter((other) => other.id !== card.id) ?? [];
      const low = move.after ? (neighbours.find((other) => other.id === move.after)?.position ?? null) : null;
      const high = neighbours.map((other) => other.position).find((position) => low === null || position > low) ?? null;
      card.position = generateKeyBetween(low, high);
      card.column = move.column;
      return json(this.#written(card.id));
    }
    if (rest[0] === "cards" && rest[2] === "comments" && rest.length === 3) {
      const id = rest[1] as string;
      if (!this.data.cards.some((candidate) => candidate.id === id)) return json({ errcode: "M_NOT_FOUND", error: "no such card" }, 404);
      if (method === "GET") {
        const comments = [...(this.data.comments?.[id] ?? [])];
        comments.sort((a, b) => a.origin_server_ts - b.origin_server_ts || (a.event_id < b.event_id ? -1 : 1));
        return json(comments);
      }
      const text = typeof body?.body === "string" ? body.body : "";
      if (text.trim() === "") return json({ errcode: "M_INVALID_PARAM", error: "the comment is empty" }, 400);
      this.#events += 1;
      const comment: CardComment = {
        event_id: `$comment${this.#events}`,
        room_id: "!tasks:hs",
        thread_root: this.cardEventId(id),
        sender: this.user,
        body: text,
        origin_server_ts: 100_000 + this.#events,
      };
      if (this.indexComments) this.indexComment(id, comment);
      else this.unindexed.push(comment);
      return json({ event_id: comment.event_id }, 201);
    }
    if (rest[0] === "gantt" && method === "GET") {
      const gantt = this.data.gantt;
      if (typeof gantt === "function") return json(gantt(this.data.cards));
      if (gantt && "errcode" in gantt) return json({ errcode: gantt.errcode, error: gantt.error }, gantt.status);
      return json(gantt ?? { cards: [], critical_path: [], undated: [] });
    }
    return json({ errcode: "M_UNRECOGNIZED", error: `${method} ${url}` }, 404);
  };
}

/** Lets Preact draw what the last events changed (it redraws after the event, as a browser's next task would see it). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The app around a fake Parvis, as pages get it, and what it announced. */
export function testApp(parvis: TestParvis, options: { lang?: "en" | "fr"; userId?: string } = {}) {
  const registry = new RouteRegistry<PageContext>();
  registerTools(registry);
  const announced: string[] = [];
  const navigated: string[] = [];
  const i18n = new I18n(options.lang ?? "en");
  const app = {
    i18n,
    t: (key: MessageKey, params?: MessageParams) => translate(options.lang ?? "en", key, params),
    api: new ApiClient({ baseUrl: "", token: () => "tok", fetch: (input, init) => parvis.fetch(String(input), init) }),
    identity: { mode: "standalone", userId: () => options.userId ?? "@alice:hs", token: () => "tok" },
    registry,
    live: new LiveFeed(),
    announce: (message: string) => announced.push(message),
    navigate: (hash: string) => navigated.push(hash),
    setTitle: () => undefined,
    community: async () => ({ space_id: "!s:hs", name: "Projet", tools: ["tasks"], rooms: [["!tasks:hs", "tasks"]] }),
  } as unknown as App;
  const controller = new AbortController();
  const main = document.createElement("div");
  document.body.append(main);
  const context = (params: Record<string, string> = { space: "!s:hs" }, query = "") =>
    ({ app, main, params, query: new URLSearchParams(query), signal: controller.signal }) as unknown as PageContext;
  return { app, announced, navigated, controller, main, context };
}
