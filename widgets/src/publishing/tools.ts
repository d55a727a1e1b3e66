/**
 * What a publishing tool is to the shared pages (`PublicationToolDef`): which event type it
 * writes, which fields its editor has, and how the editor's values become its event content.
 * Each tool declares its own in its folder (`src/tools/<name>/publication.ts`, the event
 * contents being declared in `appservice/src/tools/<name>/`), and `publishing/lookup.ts` finds
 * them; this module has the types and the helpers those declarations share. Without I/O, so
 * each mapping is unit-tested.
 */
import type { PublicationKind, PublicationView } from "../api/types";
import type { MessageKey } from "../i18n";

/** The editor's fields. */
export type EditorField = "title" | "body" | "tags" | "parent" | "status" | "category" | "order" | "pages";

/** What the editor holds. */
export interface EditorValues {
  title: string;
  body: string;
  tags: string[];
  /** Parent page ID, `""` for none. */
  parent: string;
  status: "draft" | "published";
  category: string;
  order: number;
  /** Wiki page IDs in reading order (guides). */
  pages: string[];
}

/** Context of a content being built. */
export interface ContentContext {
  /** The slug to keep (edits keep their slug, so links and URLs stay valid); absent for a new object. */
  slug?: string;
  /** The current revision's content, whose fields the editor does not show are kept. */
  base?: Record<string, unknown>;
  /** Milliseconds since the epoch. */
  now: number;
}

/** A publishing tool. */
export interface PublicationToolDef {
  /** Path segment of the API and of the app's routes: its folder's name and its `ToolDef.id`. */
  tool: string;
  /** The community's room for it (its purpose): its own name, or another tool's whose room it shares. */
  room: string;
  /** `kind` of its objects, as the API and search name it: unique among the tools. */
  kind: PublicationKind;
  /** The state event type, for widget-mode writes. */
  eventType: string;
  /**
   * Interface strings of this tool, shown by the shared pages (which name no key of a tool):
   * keys of its own `messages.ts`, or shared ones (`field.title`).
   */
  labels: {
    /** Its name: navigation, page titles. */
    name: MessageKey;
    /** Its "new" button and the editor's heading for a new object. */
    create: MessageKey;
    /** The editor's `title` and `body` fields. */
    title: MessageKey;
    body: MessageKey;
    /** Its list when it has no object. */
    empty: MessageKey;
    /** The `pages` picker's select, which adds one of `pagesFrom`'s objects (required with `pages`). */
    addPage?: MessageKey;
  };
  fields: readonly EditorField[];
  /** Whether the content has a slug (FAQ entries have none). */
  hasSlug: boolean;
  /** Whether two objects may not share a slug (the server refuses it). */
  uniqueSlugs: boolean;
  /**
   * The publishing tool whose objects the `parent` and `pages` fields name (required with
   * either): the editor's pickers list them, and an object's page shows their titles in its
   * breadcrumbs, reading path and backlinks, and links its reading path to them.
   */
  pagesFrom?: string;
  /**
   * Whether `[[links]]` in rendered bodies lead to its objects: the server renders them as
   * `#/{tool}/{id}` (it does not know the app's routes), which the pages turn into its routes.
   */
  linkTarget?: boolean;
  /** The editor's values for an existing object. */
  valuesOf(view: PublicationView): EditorValues;
  /** The event content for the editor's values. */
  contentOf(values: EditorValues, context: ContentContext): Record<string, unknown>;
}

/** Fields Parvis sets, never the editor: dropped from a base content before it is sent again. */
const SERVER_ONLY = ["requested_by"];

/** The base content of an edit, without the fields Parvis sets. */
export function baseOf(context: ContentContext): Record<string, unknown> {
  const base: Record<string, unknown> = { ...(context.base ?? {}) };
  for (const key of SERVER_ONLY) delete base[key];
  return base;
}

/** `tag1, tag2 ,, tag1` → `["tag1", "tag2"]`. */
export function parseTags(input: string): string[] {
  const tags: string[] = [];
  for (const raw of input.split(",")) {
    const tag = raw.trim();
    if (tag !== "" && !tags.includes(tag)) tags.push(tag);
  }
  return tags;
}

/** The editor's values for an object, from the fields every publication has. */
export function commonValues(view: PublicationView): EditorValues {
  return {
    title: view.title,
    body: view.body,
    tags: [...view.tags],
    parent: view.parent ?? "",
    status: view.status === "draft" ? "draft" : "published",
    category: view.category,
    order: view.position,
    pages: [...view.pages],
  };
}

/** Sets the body; a body held in the media repository is replaced by the inline one. */
export function withBody(content: Record<string, unknown>, body: string): void {
  content.body = body;
  delete content.body_media;
}

/** Keeps the slug of an edit; a new object's slug is the writer's (the server's rule). */
export function withSlug(content: Record<string, unknown>, context: ContentContext): void {
  if (context.slug) content.slug = context.slug;
  else delete content.slug;
}

/** Events over this size are refused by the homeserver; the server moves such bodies to media. */
export const MAX_INLINE_CONTENT_BYTES = 48 * 1024;

/** Size of a content as sent (UTF-8 JSON). */
export function contentBytes(content: Record<string, unknown>): number {
  return new TextEncoder().encode(JSON.stringify(content)).length;
}
