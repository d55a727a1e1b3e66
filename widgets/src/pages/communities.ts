/** `#/`: the communities the user has joined. */
import type { PageContext } from "../app/context";
import { h } from "../app/dom";
import { hashFor } from "../app/router";
import { pageHeader } from "../app/ui";

export default async function communities({ app, main, signal }: PageContext): Promise<void> {
  app.setTitle(app.t("communities.title"));
  const list = await app.communities({ refresh: true });
  if (signal.aborted) return;
  main.append(pageHeader(app.t("communities.title")));
  if (list.length === 0) {
    main.append(h("p", null, app.t("communities.empty")), h("pre", { class: "command" }, app.t("communities.howTo")));
    return;
  }
  main.append(
    h(
      "ul",
      { class: "cards" },
      list.map((community) =>
        h(
          "li",
          { class: "card" },
          h("h2", null, h("a", { href: hashFor("/c/:space", { space: community.space_id }) }, community.name)),
          community.description ? h("p", null, community.description) : null,
        ),
      ),
    ),
  );
}
