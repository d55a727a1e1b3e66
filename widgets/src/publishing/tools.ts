/**
 * The publishing tools (wiki, blog, FAQ) as the pages see them: which event type each writes,
 * which fields its editor has, and how the editor's values become the event content declared
 * in `appservice/src/events.rs`. Without I/O, so each mapping is unit-tested.
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
  /** Path segment of the API and of the app's routes. */
  tool: "wiki" | "blog" | "faq" | "guides";
  /** The community's room for it (its purpose): guides live in the wiki's room. */
  room: "wiki" | "blog" | "faq";
  kind: PublicationKind;
  /** The state event type, for widget-mode writes. */
  eventType: string;
  /** Interface strings of this tool. */
  labels: {
    name: MessageKey;
    create: MessageKey;
    title: MessageKey;
    body: MessageKey;
    empty: MessageKey;
  };
  fields: readonly EditorField[];
  /** Whether the content has a slug (FAQ entries have none). */
  hasSlug: boolean;
  /** Whether two objects may not share a slug (wiki pages: the server refuses it). */
  uniqueSlugs: boolean;
  /** The editor's values for an existing object. */
  valuesOf(view: PublicationView): EditorValues;
  /** The event content for the editor's values. */
  contentOf(values: EditorValues, context: ContentContext): Record<string, unknown>;
}

/** Fields Parvis sets, never the editor: dropped from a base content before it is sent again. */
const SERVER_ONLY = ["requested_by"];

function baseOf(context: ContentContext): Record<string, unknown> {
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

function commonValues(view: PublicationView): EditorValues {
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
function withBody(content: Record<string, unknown>, body: string): void {
  content.body = body;
  delete content.body_media;
}

function withSlug(content: Record<string, unknown>, context: ContentContext): void {
  if (context.slug) content.slug = context.slug;
  else delete content.slug;
}

/** `org.parvis.wiki.page` */
export const WIKI: PublicationToolDef = {
  tool: "wiki",
  room: "wiki",
  kind: "wiki_page",
  eventType: "org.parvis.wiki.page",
  labels: {
    name: "tool.wiki",
    create: "wiki.new",
    title: "field.title",
    body: "field.body",
    empty: "wiki.empty",
  },
  fields: ["title", "body", "tags", "parent"],
  hasSlug: true,
  uniqueSlugs: true,
  valuesOf: commonValues,
  contentOf(values, context) {
    const content = baseOf(context);
    content.title = values.title.trim();
    withSlug(content, context);
    withBody(content, values.body);
    if (values.parent) content.parent = values.parent;
    else delete content.parent;
    if (values.tags.length > 0) content.tags = values.tags;
    else delete content.tags;
    return content;
  },
};

/** `org.parvis.blog.post` */
export const BLOG: PublicationToolDef = {
  tool: "blog",
  room: "blog",
  kind: "blog_post",
  eventType: "org.parvis.blog.post",
  labels: {
    name: "tool.blog",
    create: "blog.new",
    title: "field.title",
    body: "field.body",
    empty: "blog.empty",
  },
  fields: ["title", "body", "tags", "status"],
  hasSlug: true,
  uniqueSlugs: false,
  valuesOf: commonValues,
  contentOf(values, context) {
    const content = baseOf(context);
    content.title = values.title.trim();
    withSlug(content, context);
    withBody(content, values.body);
    content.status = values.status;
    // First publication: when it went out.
    if (values.status === "published" && typeof content.published_at !== "number") content.published_at = context.now;
    if (values.tags.length > 0) content.tags = values.tags;
    else delete content.tags;
    return content;
  },
};

/** `org.parvis.faq.entry` */
export const FAQ: PublicationToolDef = {
  tool: "faq",
  room: "faq",
  kind: "faq_entry",
  eventType: "org.parvis.faq.entry",
  labels: {
    name: "tool.faq",
    create: "faq.new",
    title: "field.question",
    body: "field.answer",
    empty: "faq.empty",
  },
  fields: ["title", "body", "category", "order"],
  hasSlug: false,
  uniqueSlugs: false,
  valuesOf: commonValues,
  contentOf(values, context) {
    const content = baseOf(context);
    content.question = values.title.trim();
    content.answer = values.body;
    if (values.category.trim()) content.category = values.category.trim();
    else delete content.category;
    content.order = Number.isFinite(values.order) ? Math.trunc(values.order) : 0;
    return content;
  },
};

/** `org.parvis.guide`: an ordered reading path through wiki pages, in the wiki's room. */
export const GUIDES: PublicationToolDef = {
  tool: "guides",
  room: "wiki",
  kind: "guide",
  eventType: "org.parvis.guide",
  labels: {
    name: "tool.guides",
    create: "guides.new",
    title: "field.title",
    body: "field.description",
    empty: "guides.empty",
  },
  fields: ["title", "body", "pages"],
  hasSlug: true,
  uniqueSlugs: false,
  valuesOf: commonValues,
  contentOf(values, context) {
    const content = baseOf(context);
    content.title = values.title.trim();
    withSlug(content, context);
    content.description = values.body;
    content.pages = [...values.pages];
    return content;
  },
};

/** Every publishing tool, by path segment. */
export const PUBLICATION_TOOLS: Record<PublicationToolDef["tool"], PublicationToolDef> = {
  wiki: WIKI,
  blog: BLOG,
  faq: FAQ,
  guides: GUIDES,
};

/** The tool whose objects have this `kind` (search hits, backlinks). */
export function toolOfKind(kind: string): PublicationToolDef | null {
  return Object.values(PUBLICATION_TOOLS).find((tool) => tool.kind === kind) ?? null;
}

/** Events over this size are refused by the homeserver; the server moves such bodies to media. */
export const MAX_INLINE_CONTENT_BYTES = 48 * 1024;

/** Size of a content as sent (UTF-8 JSON). */
export function contentBytes(content: Record<string, unknown>): number {
  return new TextEncoder().encode(JSON.stringify(content)).length;
}
