/**
 * The likes API's shapes: the schemas of the OpenAPI description Parvis generates from its
 * handlers (`widgets/openapi.json` → `api/schema.d.ts`), so a change of the API that this tool
 * does not follow fails the type check; narrowed where OpenAPI says less than the handlers, and
 * the bodies it documents as plain objects written here (as `api/types.ts` does).
 */
import type { components } from "../../api/schema";

type Schemas = components["schemas"];

/** The user's two reactions, as the API's paths name them (`…/likes/{reaction}`). */
export type Reaction = "like" | "recommend";

/** `GET /api/v1/communities/{space}/{tool}/{id}/likes`, as the server sends it (`mine`'s keys may be absent). */
export type LikeSummary = Schemas["LikeSummary"];

/** The same, `mine` complete: the signed-in user's reaction events, `null` where they have none. */
export type ObjectLikes = Omit<LikeSummary, "mine"> & { mine: Record<Reaction, string | null> };

/** `PUT …/likes/{reaction}` (standalone mode): the `m.reaction` Parvis sent as the user (or the one already there). */
export interface ReactionSent {
  event_id: string;
}

/** `DELETE …/likes/{reaction}` (standalone mode): the user's reactions of that kind, redacted. */
export interface ReactionsRedacted {
  redacted: string[];
}

/** An item of `GET /api/v1/communities/{space}/recommended`; `tool` as in the API's paths (`wiki`). */
export type RecommendedObject = Schemas["RecommendedObject"];

/** `GET /api/v1/communities/{space}/recommended?limit=`: most recommended first, then most liked. */
export type RecommendedObjects = Schemas["Recommended"];
