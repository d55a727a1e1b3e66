/**
 * `#/c/{space}/{wiki|blog|faq}`: the wiki as a page tree plus recent changes, the blog as
 * posts newest first, the FAQ by category. `?tag=` keeps only objects with that tag.
 */
import type { Publication } from "../api/types";
import type { App, PageContext } from "../app/context";
import { h } from "../app/dom";
import { pageHeader, person, tagList, time } from "../app/ui";
import { pageTree, type TreeNode } from "../publishing/tree";
import type { PublicationToolDef } from "../publishing/tools";
import { links, toolOf } from "../publishing/workflow";

export default async function publicationList(context: PageContext): Promise<void> {
  const { app, main, params, query, signal } = context;
  const tool = toolOf(context);
  const space = params.space as string;
  const tag = query.get("tag") ?? "";
  app.setTitle(app.t(tool.labels.name));
  let items = await app.api.list(space, tool.tool, signal);
  if (signal.aborted) return;
  if (tag) items = items.filter((item) => item.tags.includes(tag));

  main.append(
    pageHeader(app.t(tool.labels.name), h("a", { class: "button", href: links.create(tool, space) }, app.t(tool.labels.create))),
  );
  if (tag) {
    main.append(
      h("p", { class: "filter" }, app.t("list.taggedWith", { tag }), " ", h("a", { href: links.list(tool, space) }, app.t("list.allItems"))),
    );
  }
  if (items.length === 0) {
    main.append(h("p", { class: "empty" }, app.t(tool.labels.empty)));
    return;
  }
  if (tool.tool === "wiki") main.append(...wikiList(app, tool, space, items));
  else if (tool.tool === "faq") main.append(...faqList(app, tool, space, items));
  else main.append(postList(app, tool, space, items));
}

function itemLink(app: App, tool: PublicationToolDef, space: string, item: Publication): HTMLElement {
  return h("a", { href: links.read(tool, space, item.object_id) }, item.title || app.t("common.untitled"));
}

function wikiList(app: App, tool: PublicationToolDef, space: string, items: Publication[]): HTMLElement[] {
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
}

function postList(app: App, tool: PublicationToolDef, space: string, items: Publication[]): HTMLElement {
  const posts = [...items].sort((a, b) => b.updated_at - a.updated_at);
  return h(
    "ol",
    { class: "plain-list posts" },
    posts.map((post) =>
      h(
        "li",
        null,
        h("h2", null, itemLink(app, tool, space, post)),
        h(
          "p",
          { class: "meta" },
          post.status === "draft" ? h("span", { class: "badge draft" }, app.t("blog.draft")) : null,
          post.status === "draft" ? " " : null,
          person(post.author),
          " · ",
          time(app, post.updated_at),
        ),
        tagLinks(app, tool, space, post.tags),
      ),
    ),
  );
}

function tagLinks(app: App, tool: PublicationToolDef, space: string, tags: string[]): HTMLElement | null {
  const list = tagList(app, tags);
  list?.querySelectorAll("li").forEach((li) => {
    const tag = li.textContent ?? "";
    li.replaceChildren(h("a", { href: links.list(tool, space, { tag }) }, tag));
  });
  return list;
}

function faqList(app: App, tool: PublicationToolDef, space: string, items: Publication[]): HTMLElement[] {
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
}
