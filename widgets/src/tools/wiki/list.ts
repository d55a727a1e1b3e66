/**
 * The wiki's list: its pages as a tree (by `parent`), beside the ten most recently changed.
 * Loaded with the list page (`PublicationExtras.listLayout` in `tool.ts`).
 */
import type { Publication } from "../../api/types";
import { h } from "../../app/dom";
import { person, time } from "../../app/ui";
import { itemLink, type ListLayout } from "../../publishing/list-layout";
import { pageTree, type TreeNode } from "../../publishing/tree";

const wikiList: ListLayout = (app, tool, space, items) => {
  const tree = (nodes: TreeNode<Publication>[]): HTMLElement =>
    h(
      "ul",
      { class: "tree" },
      nodes.map((node) => h("li", null, itemLink(app, tool, space, node.item), node.children.length ? tree(node.children) : null)),
    );
  const recent = [...items].sort((a, b) => b.updated_at - a.updated_at).slice(0, 10);
  return [
    h(
      "div",
      { class: "columns" },
      h("section", { "aria-labelledby": "tree-title" }, h("h2", { id: "tree-title" }, app.t("wiki.tree")), tree(pageTree(items))),
      h(
        "section",
        { "aria-labelledby": "recent-title" },
        h("h2", { id: "recent-title" }, app.t("wiki.recent")),
        h(
          "ol",
          { class: "plain-list" },
          recent.map((item) =>
            h("li", null, itemLink(app, tool, space, item), h("p", { class: "meta" }, person(item.author), " · ", time(app, item.updated_at))),
          ),
        ),
      ),
    ),
  ];
};

export default wikiList;
