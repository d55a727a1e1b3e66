/**
 * The guides, as the shared publishing pages see them: `org.parvis.guide`, whose content is
 * declared in `appservice/src/tools/guides/`. A guide is an ordered reading path through wiki
 * pages (`pages`, picked among the wiki's), and lives in the wiki's room.
 */
import { baseOf, commonValues, withSlug, type PublicationToolDef } from "../../publishing/tools";

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
    addPage: "guides.addPage",
  },
  fields: ["title", "body", "pages"],
  hasSlug: true,
  uniqueSlugs: false,
  pagesFrom: "wiki",
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
