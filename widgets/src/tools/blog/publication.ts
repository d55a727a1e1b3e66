/**
 * The blog's posts, as the shared publishing pages see them: `org.parvis.blog.post`, whose
 * content is declared in `appservice/src/tools/blog/`.
 */
import { baseOf, commonValues, withBody, withSlug, type PublicationToolDef } from "../../publishing/tools";

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
