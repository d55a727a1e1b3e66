/**
 * The FAQ's entries, as the shared publishing pages see them: `org.parvis.faq.entry`, whose
 * content is declared in `appservice/src/tools/faq/`. An entry has no slug.
 */
import { baseOf, commonValues, type PublicationToolDef } from "../../publishing/tools";

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
