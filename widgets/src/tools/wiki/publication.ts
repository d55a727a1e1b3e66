/**
 * The wiki's pages, as the shared publishing pages see them: `org.parvis.wiki.page`, whose
 * content is declared in `appservice/src/tools/wiki/`. Pages sit under pages (`parent`, picked
 * among the wiki's own), and `[[links]]` in any rendered body lead to them.
 */
import { baseOf, commonValues, withBody, withSlug, type PublicationToolDef } from "../../publishing/tools";

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
  pagesFrom: "wiki",
  linkTarget: true,
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
