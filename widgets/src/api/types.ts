/**
 * The shapes of the Parvis REST API (`/api/v1/…`). Most are the schemas of the OpenAPI
 * description Parvis generates from its handlers (`widgets/openapi.json`, checked current by a
 * Rust test; `npm run gen:api` turns it into `schema.d.ts`), so a change of the API that the app
 * does not follow fails the type check. A few are narrowed where OpenAPI cannot say more (pairs,
 * free-form objects), and the bodies the API documents as plain objects are written here.
 */
import type { components } from "./schema";

type Schemas = components["schemas"];

/** Every failing call: `{errcode, error}` (like the Matrix spec). */
export type ErrorBody = Schemas["ErrorBody"];

/** `GET /api/v1/info` (a free-form object in the OpenAPI description). */
export interface ServerInfo {
  server_name: string;
  homeserver_url: string;
  version?: string;
  /**
   * The look the deployment chose in Parvis's config: `neutral` or `dsfr` (a State deployment);
   * absent from older servers, and any other value, is neutral (`app/theme.ts`).
   */
  theme?: string;
  /** The deployment serves its own `brand/brand.css` and `brand/logo.svg` beside the build. */
  brand?: boolean;
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

/** `GET /api/v1/communities/mine` item; `rooms` are `[room ID, purpose]` pairs. */
export type CommunitySummary = Omit<Schemas["CommunitySummary"], "rooms"> & { rooms: [string, string][] };

/** A member of a community (`GET /api/v1/communities/{space}`). */
export type CommunityMember = Schemas["CommunityMember"];

/** A recent change in a community. */
export type CommunityActivity = Schemas["CommunityActivity"];

/** `GET /api/v1/communities/{space}` */
export type CommunityOverview = Omit<Schemas["CommunityOverview"], "rooms"> & CommunitySummary;

/**
 * A tool of the publishing API, as it appears in its paths: a publishing tool's name
 * (`PublicationToolDef.tool`), declared by its folder `src/tools/<name>/`.
 */
export type PublishingTool = string;

/** `kind` of a published object, as the API and search name it. */
export type PublicationKind = Schemas["PublicationKind"];

/** A published object: list items (with `body` empty) and the base of a read. */
export type Publication = Schemas["PublicationRow"];

/** `GET …/{tool}/{id}`: with sanitized HTML and backlinks `[kind, id]`. */
export type PublicationView = Omit<Schemas["PublicationView"], "backlinks"> & { backlinks: [string, string][] };

/** `GET …/{id}/revisions` item, oldest first; `content` is empty when the revision was redacted. */
export type Revision = Omit<Schemas["RevisionView"], "content"> & { content: Record<string, unknown> };

/** `GET …/{id}/diff` line. */
export type DiffLine = Schemas["DiffLine"];

/** `GET …/{id}/comments` item. */
export type Comment = Schemas["CommentRow"];

/** `GET /api/v1/search` item; `snippet` is escaped by the server, matches in `<mark>`. */
export type SearchHit = Schemas["SearchHit"];

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
