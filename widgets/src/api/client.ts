/**
 * The Parvis REST API client. Every call sends `Authorization: Bearer <token>`; every failure
 * becomes an `ApiError` carrying the server's `errcode` and its message for a person (`error`).
 */
import type {
  Comment,
  CommunityOverview,
  CommunitySummary,
  DiffLine,
  OpenIdToken,
  Publication,
  PublicationView,
  PublishingTool,
  Revision,
  SearchHit,
  SearchParams,
  ServerInfo,
  WidgetSessionGrant,
  WriteResult,
} from "./types";

/** A failed call: HTTP status (0 when the server could not be reached), code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Error codes the client makes up when the server gave none. */
export const CLIENT_ERRCODES = {
  network: "ORG.PARVIS_NETWORK",
  http: "ORG.PARVIS_HTTP",
  badResponse: "ORG.PARVIS_BAD_RESPONSE",
} as const;

/** The `fetch` this client uses (injected in tests). */
export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** Options of one request. */
export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  /** Bearer token for this call; defaults to the client's. `null`: none. */
  token?: string | null;
}

/**
 * Sends one JSON request and decodes the answer; any failure is an `ApiError`. Shared with the
 * homeserver client of the standalone sign-in, whose errors have the same `{errcode, error}` shape.
 */
export async function requestJson<T>(
  fetchFn: Fetch,
  method: string,
  url: string,
  options: RequestOptions & { token?: string | null } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetchFn(url, { method, headers, body, signal: options.signal });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, CLIENT_ERRCODES.network, error instanceof Error ? error.message : String(error));
  }
  const text = await response.text().catch(() => "");
  let json: unknown = undefined;
  if (text !== "") {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  if (!response.ok) {
    throw errorFromResponse(response.status, response.statusText, json, text);
  }
  if (json === undefined && text !== "") {
    throw new ApiError(response.status, CLIENT_ERRCODES.badResponse, `the server's answer is not JSON: ${text.slice(0, 120)}`);
  }
  return json as T;
}

/** The error of a failed response: the server's `{errcode, error}` when it sent one. */
export function errorFromResponse(status: number, statusText: string, json: unknown, text: string): ApiError {
  if (json && typeof json === "object") {
    const { errcode, error } = json as Partial<Record<string, unknown>>;
    if (typeof error === "string" && error !== "") {
      return new ApiError(status, typeof errcode === "string" ? errcode : CLIENT_ERRCODES.http, error);
    }
    if (typeof errcode === "string") return new ApiError(status, errcode, errcode);
  }
  const detail = text.trim().slice(0, 200);
  return new ApiError(status, CLIENT_ERRCODES.http, `HTTP ${status}${statusText ? ` ${statusText}` : ""}${detail ? `: ${detail}` : ""}`);
}

/** Where the API is and how the client signs its calls. */
export interface ApiClientOptions {
  /** Origin (and prefix) of Parvis: `""` for the same origin. */
  baseUrl: string;
  /** The current bearer token. */
  token: () => string | null;
  fetch?: Fetch;
  /**
   * Called once when a call is refused with 401 `M_UNKNOWN_TOKEN` (an expired widget session):
   * resolves `true` when a new token was obtained and the call should be retried.
   */
  renewToken?: () => Promise<boolean>;
}

const enc = encodeURIComponent;

/**
 * An API path from its segments, each percent-encoded: `apiPath("communities", space, tool,
 * id, what)` → `/api/v1/communities/!s%3Ahs/wiki/p1/likes`. With `ApiClient.request`, how a
 * tool makes calls of its own without adding methods to this client.
 */
export function apiPath(...segments: string[]): string {
  return `/api/v1/${segments.map(enc).join("/")}`;
}

/** The Parvis REST API. */
export class ApiClient {
  readonly #options: ApiClientOptions;
  readonly #fetch: Fetch;

  constructor(options: ApiClientOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /**
   * One call (`path` from `apiPath`), signed with the session's token; retried once after a
   * token renewal when the session has expired. Failures are `ApiError`s.
   */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = this.url(path, options.query);
    return this.#renewing(options.token, (token) => requestJson<T>(this.#fetch, method, url, { ...options, token }));
  }

  /**
   * One `GET` whose answer is a file rather than JSON (a member's picture, a board's CSV), signed
   * and renewed as `request`'s calls are, since an `<img src>` or a link would carry no token:
   * the successful response, its body unread. Failures are `ApiError`s, with the server's
   * `{errcode, error}` when it sent one.
   */
  async download(path: string, options: { accept?: string; signal?: AbortSignal } = {}): Promise<Response> {
    const url = this.url(path);
    return this.#renewing(undefined, async (token) => {
      const headers: Record<string, string> = { Accept: options.accept ?? "*/*" };
      if (token) headers.Authorization = `Bearer ${token}`;
      let response: Response;
      try {
        response = await this.#fetch(url, { method: "GET", headers, signal: options.signal });
      } catch (error) {
        if (error instanceof DOMException && error.name === "AbortError") throw error;
        throw new ApiError(0, CLIENT_ERRCODES.network, error instanceof Error ? error.message : String(error));
      }
      if (response.ok) return response;
      const text = await response.text().catch(() => "");
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      throw errorFromResponse(response.status, response.statusText, json, text);
    });
  }

  /**
   * `send` with the call's token (`explicit`, else the session's), sent once more after a token
   * renewal when the session has expired (401 `M_UNKNOWN_TOKEN`); never for an explicit token.
   */
  async #renewing<T>(explicit: string | null | undefined, send: (token: string | null) => Promise<T>): Promise<T> {
    const attempt = () => send(explicit === undefined ? this.#options.token() : explicit);
    try {
      return await attempt();
    } catch (error) {
      if (
        error instanceof ApiError &&
        error.status === 401 &&
        error.errcode === "M_UNKNOWN_TOKEN" &&
        explicit === undefined &&
        this.#options.renewToken &&
        (await this.#options.renewToken())
      ) {
        return attempt();
      }
      throw error;
    }
  }

  /** The absolute URL of an API path with its query. */
  url(path: string, query: Record<string, string | number | undefined> = {}): string {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== "") search.set(name, String(value));
    }
    const queryString = search.toString();
    return `${this.#options.baseUrl}${path}${queryString ? `?${queryString}` : ""}`;
  }

  /** `GET /api/v1/info` (no sign-in needed). */
  info(signal?: AbortSignal): Promise<ServerInfo> {
    return this.request("GET", "/api/v1/info", { signal, token: null });
  }

  /** `POST /api/v1/auth/openid`: a widget's OpenID token for a session token. */
  exchangeOpenId(token: OpenIdToken): Promise<WidgetSessionGrant> {
    return this.request("POST", "/api/v1/auth/openid", { body: token, token: null });
  }

  /** `GET /api/v1/communities/mine` */
  myCommunities(signal?: AbortSignal): Promise<CommunitySummary[]> {
    return this.request("GET", "/api/v1/communities/mine", { signal });
  }

  /** `GET /api/v1/communities/{space}`: members, roles and recent activity. */
  overview(space: string, signal?: AbortSignal): Promise<CommunityOverview> {
    return this.request("GET", `/api/v1/communities/${enc(space)}`, { signal });
  }

  #tool(space: string, tool: PublishingTool): string {
    return `/api/v1/communities/${enc(space)}/${tool}`;
  }

  /** `GET /api/v1/communities/{space}/{tool}` */
  list(space: string, tool: PublishingTool, signal?: AbortSignal): Promise<Publication[]> {
    return this.request("GET", this.#tool(space, tool), { signal });
  }

  /** `GET /api/v1/communities/{space}/{tool}/{id}` */
  read(space: string, tool: PublishingTool, id: string, signal?: AbortSignal): Promise<PublicationView> {
    return this.request("GET", `${this.#tool(space, tool)}/${enc(id)}`, { signal });
  }

  /** `GET …/{id}/revisions`, oldest first. */
  revisions(space: string, tool: PublishingTool, id: string, signal?: AbortSignal): Promise<Revision[]> {
    return this.request("GET", `${this.#tool(space, tool)}/${enc(id)}/revisions`, { signal });
  }

  /** `GET …/{id}/diff?from=&to=` */
  diff(space: string, tool: PublishingTool, id: string, from: string, to: string, signal?: AbortSignal): Promise<DiffLine[]> {
    return this.request("GET", `${this.#tool(space, tool)}/${enc(id)}/diff`, { query: { from, to }, signal });
  }

  /** `GET …/{id}/comments`, oldest first. */
  comments(space: string, tool: PublishingTool, id: string, signal?: AbortSignal): Promise<Comment[]> {
    return this.request("GET", `${this.#tool(space, tool)}/${enc(id)}/comments`, { signal });
  }

  /** `GET /api/v1/search` */
  search(params: SearchParams, signal?: AbortSignal): Promise<SearchHit[]> {
    return this.request("GET", "/api/v1/search", { query: { ...params }, signal });
  }

  /** `POST /api/v1/render`: the server's rendering of markdown, for the live preview. */
  render(markdown: string, signal?: AbortSignal): Promise<{ html: string }> {
    return this.request("POST", "/api/v1/render", { body: { markdown }, signal });
  }

  /** `POST /api/v1/communities/{space}/{tool}`: created as the user (standalone mode). */
  create(space: string, tool: PublishingTool, content: Record<string, unknown>): Promise<WriteResult> {
    return this.request("POST", this.#tool(space, tool), { body: content });
  }

  /** `PUT …/{id}`: a new revision, as the user (standalone mode). */
  update(space: string, tool: PublishingTool, id: string, content: Record<string, unknown>): Promise<WriteResult> {
    return this.request("PUT", `${this.#tool(space, tool)}/${enc(id)}`, { body: content });
  }

  /** `POST …/{id}/restore {event_id}` (standalone mode). */
  restore(space: string, tool: PublishingTool, id: string, eventId: string): Promise<WriteResult> {
    return this.request("POST", `${this.#tool(space, tool)}/${enc(id)}/restore`, { body: { event_id: eventId } });
  }

  /** `POST …/{id}/comments {body}` (standalone mode). */
  comment(space: string, tool: PublishingTool, id: string, body: string): Promise<{ event_id: string }> {
    return this.request("POST", `${this.#tool(space, tool)}/${enc(id)}/comments`, { body: { body } });
  }
}
