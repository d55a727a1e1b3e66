/**
 * `#/c/{space}/{wiki|blog|faq}/{id}`: one object, rendered by the server, with the panels tools
 * add to every object (`ToolDef.objectPanels`), its backlinks, its revisions (compare, restore)
 * and its comments (a Matrix thread any client can answer).
 */
import type { Comment, Publication, PublicationView, Revision } from "../api/types";
import type { App, PageContext } from "../app/context";
import { append, h, setTrustedHtml } from "../app/dom";
import { renderSlots } from "../app/slots";
import { busy, errorBox, field, pageHeader, person, tagList, time } from "../app/ui";
import { adjustRenderedLinks } from "../publishing/links";
import { ancestors } from "../publishing/tree";
import { toolOfKind, WIKI, type PublicationToolDef } from "../publishing/tools";
import { links, toolOf, waitForComment, waitForRevision, writeTarget } from "../publishing/workflow";

export default async function publicationRead(context: PageContext): Promise<void> {
  const { app, main, params, signal } = context;
  const tool = toolOf(context);
  const space = params.space as string;
  const id = params.id as string;
  const [view, revisions, comments, wikiPages, community] = await Promise.all([
    app.api.read(space, tool.tool, id, signal),
    app.api.revisions(space, tool.tool, id, signal),
    app.api.comments(space, tool.tool, id, signal),
    // Titles for the breadcrumbs and backlinks of wiki pages.
    tool.room === "wiki" ? app.api.list(space, "wiki", signal).catch(() => []) : Promise.resolve([] as Publication[]),
    // Its enabled tools, whose panels are shown (cached: the header asked already); every tool's when unknown.
    app.community(space).catch(() => null),
  ]);
  if (signal.aborted) return;
  const title = view.title || app.t("common.untitled");
  app.setTitle(title, app.t(tool.labels.name));

  const crumbs = tool.tool === "wiki" ? ancestors(wikiPages, id) : [];
  if (crumbs.length > 0) {
    main.append(
      h(
        "nav",
        { class: "breadcrumbs", "aria-label": app.t("wiki.breadcrumbs") },
        h(
          "ol",
          null,
          crumbs.map((page) => h("li", null, h("a", { href: links.read(tool, space, page.object_id) }, page.title))),
        ),
      ),
    );
  }

  append(main, [
    pageHeader(
      title,
      h("a", { class: "button", href: links.edit(tool, space, id), "data-action": "edit" }, app.t("read.edit")),
      tool.tool === "wiki"
        ? h("a", { class: "button secondary", href: links.create(tool, space, { parent: id }) }, app.t("wiki.newChild"))
        : null,
    ),
    h(
      "p",
      { class: "meta" },
      view.status === "draft" ? h("span", { class: "badge draft" }, app.t("blog.draft")) : null,
      view.status === "draft" ? " " : null,
      app.t("read.lastEdit"),
      " ",
      person(view.author),
      " · ",
      time(app, view.updated_at),
      view.category ? ` · ${view.category}` : null,
    ),
    tagList(app, view.tags),
  ]);

  const article = h("article", { class: "rendered", "aria-labelledby": "page-title" });
  setTrustedHtml(article, view.html);
  adjustRenderedLinks(article, space);
  const panels = h("div", { class: "object-panels" });
  main.append(article, panels);
  renderSlots(
    context,
    app.registry.objectPanels(community?.tools),
    { space, tool: tool.tool, id, eventId: view.event_id, roomId: view.room_id },
    panels,
  );

  append(main, [
    tool.tool === "guides" ? readingPath(app, space, view, wikiPages) : null,
    backlinksSection(app, space, view, wikiPages),
    revisionsSection(context, tool, view, revisions),
    commentsSection(context, tool, view, comments),
  ]);
}

/** A guide's pages, in reading order. */
function readingPath(app: App, space: string, view: PublicationView, wikiPages: Publication[]): HTMLElement {
  const titles = new Map(wikiPages.map((page) => [page.object_id, page.title]));
  return h(
    "section",
    { class: "reading-path", "aria-labelledby": "path-title" },
    h("h2", { id: "path-title" }, app.t("guides.readingPath")),
    view.pages.length === 0
      ? h("p", { class: "empty" }, app.t("guides.noPages"))
      : h(
          "ol",
          null,
          view.pages.map((id) => {
            const title = titles.get(id);
            return h("li", null, title ? h("a", { href: links.read(WIKI, space, id) }, title) : app.t("guides.missingPage", { id }));
          }),
        ),
  );
}

function backlinksSection(app: App, space: string, view: PublicationView, wikiPages: Publication[]): HTMLElement | null {
  if (view.backlinks.length === 0) return null;
  const titles = new Map(wikiPages.map((page) => [page.object_id, page.title]));
  return h(
    "section",
    { class: "backlinks", "aria-labelledby": "backlinks-title" },
    h("h2", { id: "backlinks-title" }, app.t("read.backlinks")),
    h(
      "ul",
      null,
      view.backlinks.map(([kind, objectId]) => {
        const tool = toolOfKind(kind);
        const label = titles.get(objectId) ?? objectId;
        return h("li", null, tool ? h("a", { href: links.read(tool, space, objectId) }, label) : label);
      }),
    ),
  );
}

function revisionsSection(
  context: PageContext,
  tool: PublicationToolDef,
  view: PublicationView,
  revisions: Revision[],
): HTMLElement {
  const { app, params, signal } = context;
  const space = params.space as string;
  const id = params.id as string;
  const status = h("div", { class: "form-status", "aria-live": "polite" });
  const newestFirst = [...revisions].reverse();
  const list = h(
    "ol",
    { class: "revisions", reversed: true },
    newestFirst.map((revision, index) => {
      const number = revisions.length - index;
      const previous = revisions[number - 2];
      const current = revision.event_id === view.event_id;
      const redacted = Object.keys(revision.content).length === 0;
      return h(
        "li",
        { "data-event-id": revision.event_id },
        h("span", { class: "revision-number" }, app.t("read.revision", { n: number })),
        " ",
        person(revision.sender),
        " · ",
        time(app, revision.origin_server_ts),
        current ? h("span", { class: "badge" }, app.t("read.current")) : null,
        redacted ? h("span", { class: "badge draft" }, app.t("read.redacted")) : null,
        h(
          "span",
          { class: "revision-actions" },
          previous
            ? h(
                "a",
                {
                  href: links.diff(tool, space, id, previous.event_id, revision.event_id),
                  "aria-label": app.t("read.compareLabel", { n: number, m: number - 1 }),
                },
                app.t("read.compare"),
              )
            : null,
          !current && !redacted
            ? h(
                "button",
                {
                  type: "button",
                  class: "secondary",
                  "data-action": "restore",
                  "aria-label": app.t("read.restoreLabel", { n: number }),
                  onclick: async (event: Event) => {
                    const button = event.currentTarget as HTMLButtonElement;
                    button.disabled = true;
                    status.replaceChildren(app.t("read.restoring"));
                    try {
                      const target = await writeTarget(app, space, tool, view.room_id);
                      const written = await app.writer.restore(target, id, revision);
                      const seen = await waitForRevision(app, space, tool, id, written.eventId, signal);
                      if (signal.aborted) return;
                      app.announce(seen ? app.t("read.restored", { n: number }) : app.t("edit.pending"));
                      // Shows the restored text, now the current revision.
                      window.dispatchEvent(new HashChangeEvent("hashchange"));
                    } catch (error) {
                      status.replaceChildren(errorBox(app, error));
                      button.disabled = false;
                    }
                  },
                },
                app.t("read.restore"),
              )
            : null,
        ),
      );
    }),
  );
  const last = revisions[revisions.length - 1];
  const first = revisions[0];
  return h(
    "section",
    { class: "history", "aria-labelledby": "history-title" },
    h("h2", { id: "history-title" }, app.t("read.history")),
    revisions.length > 2 && first && last
      ? h("p", null, h("a", { href: links.diff(tool, space, id, first.event_id, last.event_id) }, app.t("read.compareFirst")))
      : null,
    list,
    status,
  );
}

function commentsSection(context: PageContext, tool: PublicationToolDef, view: PublicationView, comments: Comment[]): HTMLElement {
  const { app, params, signal } = context;
  const space = params.space as string;
  const id = params.id as string;
  const list = h("ol", { class: "comments" });
  const show = (items: Comment[]) =>
    list.replaceChildren(
      ...items.map((comment) =>
        h(
          "li",
          { "data-event-id": comment.event_id },
          h("p", { class: "meta" }, person(comment.sender), " · ", time(app, comment.origin_server_ts)),
          // A comment is plain text: shown as text, never as HTML.
          h("p", { class: "comment-body" }, comment.body),
        ),
      ),
    );
  show(comments);
  const empty = h("p", { class: "empty" }, app.t("comments.empty"));
  empty.hidden = comments.length > 0;

  const textarea = h("textarea", { name: "comment", rows: 3, required: true });
  const status = h("div", { class: "form-status" });
  const form: HTMLFormElement = h(
    "form",
    {
      class: "comment-form",
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const body = textarea.value.trim();
        if (!body) return;
        await busy(form, status, app, async () => {
          const target = await writeTarget(app, space, tool, view.room_id);
          const written = await app.writer.comment(target, id, view.event_id, body);
          textarea.value = "";
          const seen = await waitForComment(app, space, tool, id, written.eventId, signal);
          if (signal.aborted) return;
          const fresh = await app.api.comments(space, tool.tool, id, signal);
          show(fresh);
          empty.hidden = fresh.length > 0;
          app.announce(seen ? app.t("comments.sent") : app.t("edit.pending"));
        });
      },
    },
    field(app.t("comments.add"), textarea, app.t("comments.hint")),
    status,
    h("button", { type: "submit" }, app.t("comments.submit")),
  );
  return h(
    "section",
    { class: "comments-section", "aria-labelledby": "comments-title" },
    h("h2", { id: "comments-title" }, app.t("comments.title")),
    empty,
    list,
    form,
  );
}
