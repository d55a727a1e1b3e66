/**
 * The likes API, through the app's `ApiClient` (its token, renewal and `{errcode, error}`
 * errors): the counts of an object, the standalone-mode writes, the most recommended objects.
 */
import { apiPath, type ApiClient } from "../../api/client";
import type { ObjectRef } from "../../app/registry";
import type { LikeSummary, ObjectLikes, Reaction, ReactionSent, ReactionsRedacted, RecommendedObjects } from "./types";

type ObjectKey = Pick<ObjectRef, "space" | "tool" | "id">;

const likesPath = (object: ObjectKey, ...rest: string[]) =>
  apiPath("communities", object.space, object.tool, object.id, "likes", ...rest);

/** `GET /api/v1/communities/{space}/{tool}/{id}/likes` */
export async function likesOf(api: ApiClient, object: ObjectKey, signal?: AbortSignal): Promise<ObjectLikes> {
  return completeMine(await api.request<LikeSummary>("GET", likesPath(object), { signal }));
}

/** A summary whose `mine` has both reactions: an absent one is none (`null`). */
export function completeMine(summary: LikeSummary): ObjectLikes {
  return { ...summary, mine: { like: summary.mine?.like ?? null, recommend: summary.mine?.recommend ?? null } };
}

/** `PUT …/likes/{reaction}`: Parvis sends the `m.reaction` as the user on the current revision (standalone mode). */
export function sendReaction(api: ApiClient, object: ObjectKey, reaction: Reaction): Promise<ReactionSent> {
  return api.request("PUT", likesPath(object, reaction));
}

/** `DELETE …/likes/{reaction}`: Parvis redacts the user's reactions of that kind (standalone mode). */
export function withdrawReaction(api: ApiClient, object: ObjectKey, reaction: Reaction): Promise<ReactionsRedacted> {
  return api.request("DELETE", likesPath(object, reaction));
}

/** `GET /api/v1/communities/{space}/recommended?limit=`, most recommended first. */
export function mostRecommended(api: ApiClient, space: string, limit: number, signal?: AbortSignal): Promise<RecommendedObjects> {
  return api.request("GET", apiPath("communities", space, "recommended"), { query: { limit }, signal });
}
