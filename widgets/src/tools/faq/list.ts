/**
 * The FAQ's list: its questions by category (the unnamed one last), each in its order.
 * Loaded with the list page (`PublicationExtras.listLayout` in `tool.ts`).
 */
import type { Publication } from "../../api/types";
import { h } from "../../app/dom";
import { itemLink, type ListLayout } from "../../publishing/list-layout";

const faqList: ListLayout = (app, tool, space, items) => {
  const categories = new Map<string, Publication[]>();
  for (const item of items) categories.set(item.category, [...(categories.get(item.category) ?? []), item]);
  const names = [...categories.keys()].sort((a, b) => (a === "" ? 1 : b === "" ? -1 : a.localeCompare(b)));
  return names.map((name, index) => {
    const id = `faq-category-${index}`;
    const entries = (categories.get(name) ?? []).sort((a, b) => a.position - b.position || a.title.localeCompare(b.title));
    return h(
      "section",
      { "aria-labelledby": id },
      h("h2", { id }, name || app.t("faq.general")),
      h("ul", { class: "plain-list" }, entries.map((entry) => h("li", null, itemLink(app, tool, space, entry)))),
    );
  });
};

export default faqList;
