/**
 * On the community's home: its most recommended objects, each linking to its page, with its
 * counts. Nothing is shown while nothing has been recommended.
 */
import type { App, PageContext } from "../../app/context";
import { h } from "../../app/dom";
import type { CommunityRef } from "../../app/registry";
import { mostRecommended } from "./api";
import { reactionDef } from "./reactions";
import type { RecommendedObject } from "./types";
import "./likes.css";

/** How many objects the section lists. */
const LIMIT = 10;

export default async function mostRecommendedSection(context: PageContext, community: CommunityRef, container: HTMLElement): Promise<void> {
  const { app, signal } = context;
  const { objects } = await mostRecommended(app.api, community.space, LIMIT, signal);
  if (signal.aborted || objects.length === 0) return;
  container.append(
    h(
      "section",
      { class: "most-recommended", "aria-labelledby": "recommended-title" },
      h("h2", { id: "recommended-title" }, app.t("likes.mostRecommended")),
      h(
        "ol",
        { class: "plain-list" },
        objects.map((item) => {
          const title = item.title || app.t("common.untitled");
          const href = app.registry.objectLink(item.tool, community.space, item.id);
          const label = app.registry.tool(item.tool)?.label;
          return h(
            "li",
            null,
            href ? h("a", { href }, title) : title,
            h("p", { class: "meta" }, label ? h("span", { class: "badge" }, app.t(label)) : null, " ", counts(app, item)),
          );
        }),
      ),
    ),
  );
}

/** `⭐ 3 recommendations · 👍 5 likes`, the emoji hidden from screen readers (the words say it). */
function counts(app: App, item: RecommendedObject): HTMLElement {
  const parts = (["recommend", "like"] as const).map((reaction) => {
    const def = reactionDef(reaction);
    return h(
      "span",
      { class: "reaction-total", "data-reaction": reaction },
      h("span", { "aria-hidden": "true" }, def.key),
      " ",
      app.t(def.countText, { count: item[def.count] }),
    );
  });
  return h("span", { class: "reaction-totals" }, parts[0], " · ", parts[1]);
}
