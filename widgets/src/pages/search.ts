/** `#/c/{space}/search?q=`: full-text search of the community. */
import type { App, PageContext } from "../app/context";
import { h, setTrustedHtml } from "../app/dom";
import { hashFor } from "../app/router";
import { field, pageHeader, person, time } from "../app/ui";
import { publicationToolOfKind } from "../publishing/lookup";

/** The search form; submitting goes to the search route. */
export function searchForm(app: App, space: string, q: string): HTMLFormElement {
  const input = h("input", { type: "search", name: "q", value: q, required: true, autocomplete: "off" });
  return h(
    "form",
    {
      class: "search-form",
      role: "search",
      onsubmit: (event: Event) => {
        event.preventDefault();
        const value = input.value.trim();
        if (value) app.navigate(hashFor("/c/:space/search", { space }, { q: value }));
      },
    },
    field(app.t("search.label"), input),
    h("button", { type: "submit" }, app.t("search.submit")),
  );
}

export default async function search({ app, main, params, query, signal }: PageContext): Promise<void> {
  const space = params.space as string;
  const q = query.get("q")?.trim() ?? "";
  app.setTitle(q ? app.t("search.titleFor", { q }) : app.t("search.title"));
  main.append(pageHeader(app.t("search.title")), searchForm(app, space, q));
  if (!q) return;
  const hits = await app.api.search({ q, community: space, limit: 50 }, signal);
  if (signal.aborted) return;
  const summary = h("p", { role: "status" }, app.t("search.count", { count: hits.length, q }));
  main.append(summary);
  if (hits.length === 0) return;
  main.append(
    h(
      "ol",
      { class: "results" },
      hits.map((hit) => {
        const tool = publicationToolOfKind(hit.kind);
        const title = hit.title || hit.slug || hit.object_id;
        const snippet = h("p", { class: "snippet" });
        setTrustedHtml(snippet, hit.snippet);
        return h(
          "li",
          null,
          h(
            "h2",
            null,
            tool ? h("a", { href: hashFor(`/c/:space/${tool.tool}/:id`, { space, id: hit.object_id }) }, title) : title,
          ),
          h(
            "p",
            { class: "meta" },
            tool ? h("span", { class: "badge" }, app.t(tool.labels.name)) : null,
            " ",
            person(hit.author),
            " · ",
            time(app, hit.updated_at),
          ),
          snippet,
        );
      }),
    ),
  );
}
