/**
 * The shapes of the Parvis REST API (`/api/v1/…`), written by hand from the handlers in
 * `appservice/src/api.rs` and `appservice/src/publishing/api.rs` until the OpenAPI description
 * is checked in as `widgets/openapi.json`; `npm run gen:api` then writes `schema.d.ts` from it
 * and these aliases can point at the generated `components["schemas"]` one by one.
 */

/** Every failing call: `{errcode, error}` (like the Matrix spec). */
export interface ErrorBody {
  errcode: string;
  error: string;
}

/** `GET /api/v1/info` */
export interface ServerInfo {
  server_name: string;
  homeserver_url: string;
  version?: string;
}

/** `POST /api/v1/auth/openid` request: what `requestOpenIDConnectToken` gives. */
export interface OpenIdToken {
  access_token: string;
  token_type: string;
  matrix_server_name: string;
  expires_in: number;
}

/** `POST /api/v1/auth/openid` answer. */
export interface WidgetSessionGrant {
  session_token: string;
  user_id: string;
  /** Seconds. */
  expires_in: number;
}

/** The tools a community may enable (room purposes). */
export type ToolName = "documents" | "wiki" | "blog" | "faq" | "calendar" | "polls" | "tasks";

/** `GET /api/v1/communities/mine` item. */
export interface CommunitySummary {
  space_id: string;
  name: string;
  description: string;
  tools: string[];
  requested_by: string;
  /** `[room ID, purpose]`: purpose is `home`, `discussion` or a tool name. */
  rooms: [string, string][];
}

/** A member of a community (`GET /api/v1/communities/{space}`). */
export interface CommunityMember {
  user_id: string;
  display_name: string | null;
  role: "owner" | "moderator" | "member" | "reader";
  /** `null` for a creator with unlimited power. */
  power_level: number | null;
}

/** A recent change in a community. */
export interface CommunityActivity {
  room_id: string;
  kind: PublicationKind;
  object_id: string;
  title: string;
  author: string;
  updated_at: number;
}

/** `GET /api/v1/communities/{space}` */
export interface CommunityOverview extends CommunitySummary {
  members: CommunityMember[];
  activity: CommunityActivity[];
}

/** The tools of the publishing API, as they appear in its paths. */
export type PublishingTool = "wiki" | "blog" | "faq" | "guides";

/** `kind` of a published object, as the API and search name it. */
export type PublicationKind = "wiki_page" | "blog_post" | "faq_entry" | "guide";

/** A published object: list items (with `body` empty) and the base of a read. */
export interface Publication {
  room_id: string;
  kind: PublicationKind;
  object_id: string;
  /** The state event of the current revision. */
  event_id: string;
  author: string;
  /** The question, for FAQ entries. */
  title: string;
  slug: string;
  /** Markdown (the answer, for FAQ entries); empty in lists. */
  body: string;
  body_media: string | null;
  parent: string | null;
  tags: string[];
  pages: string[];
  category: string;
  position: number;
  /** `draft` or `published`. */
  status: string;
  /** Milliseconds since the epoch. */
  updated_at: number;
  links: string[];
}

/** `GET …/{tool}/{id}`: with sanitized HTML and backlinks `[kind, id]`. */
export interface PublicationView extends Publication {
  /** Sanitized by the server; wiki links are `#/wiki/{id}`. */
  html: string;
  backlinks: [string, string][];
}

/** `GET …/{id}/revisions` item, oldest first. */
export interface Revision {
  event_id: string;
  sender: string;
  origin_server_ts: number;
  replaces: string | null;
  /** The event content; empty when the revision was redacted. */
  content: Record<string, unknown>;
}

/** `GET …/{id}/diff` line. */
export interface DiffLine {
  op: "same" | "added" | "removed";
  text: string;
}

/** `GET …/{id}/comments` item. */
export interface Comment {
  event_id: string;
  room_id: string;
  thread_root: string;
  sender: string;
  body: string;
  origin_server_ts: number;
}

/** `GET /api/v1/search` item. */
export interface SearchHit {
  room_id: string;
  kind: string;
  object_id: string;
  title: string;
  slug: string;
  author: string;
  updated_at: number;
  /** Escaped by the server, matches in `<mark>`. */
  snippet: string;
  score: number;
}

/** `GET /api/v1/search` parameters. */
export interface SearchParams {
  q: string;
  community?: string;
  kind?: string;
  tag?: string;
  author?: string;
  limit?: number;
}

/** What a write through the API answers (`POST`, `PUT`, `restore`). */
export interface WriteResult {
  room_id?: string;
  id?: string;
  event_id: string;
}
