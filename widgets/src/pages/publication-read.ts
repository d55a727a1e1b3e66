/**
 * `#/c/{space}/{tool}/{id}`: one object, rendered by the server, with the panels tools add to
 * every object (`ToolDef.objectPanels`), its backlinks, its revisions (compare, restore) and its
 * comments (a Matrix thread any client can answer). It follows the object's room while shown:
 * someone's new revision replaces the one shown, and others' comments appear, without a reload.
 */
import type { Comment, Publication, PublicationView, Revision } from "../api/types";
import type { App, PageContext } from "../app/context";
import { append, h, setTrustedHtml } from "../app/dom";
import { redrawInPlace } from "../app/redraw";
import { renderSlots } from "../app/slots";
import { busy, errorBox, field, localpart, pageHeader, person, tagList, time } from "../app/ui";
import { catchUpWithIndex, waitUntil } from "../publishing/await-index";
import { adjustRenderedLinks } from "../publishing/links";
import { changeSummary, CommentFollower, listChanges, RevisionFollower } from "../publishing/live";
import { pagesToolOf, publicationToolOfKind } from "../publishing/lookup";
import { ancestors } from "../publishing/tree";
import type { PublicationToolDef } from "../publishing/tools";
import { links, toolOf, waitForComment, waitForRevision, writeTarget } from "../publishing/workflow";

/** What the page shows besides the text, by the fields the tool's objects have. */
interface ObjectFeatures {
  /** Pages under pages (`parent`): breadcrumbs and "new sub-page". */
  nested: boolean;
  /** A reading path through pages (`pages`). */
  readingPath: boolean;
  /** The tool whose objects `parent` and `pages` name (`pagesFrom`), when either is shown. */
  pagesTool: PublicationToolDef | null;
}

const featuresOf = (tool: PublicationToolDef): ObjectFeatures => ({
  nested: tool.fields.includes("parent"),
  readingPath: tool.fields.includes("pages"),
  pagesTool: pagesToolOf(tool),
});

export default async function publicationRead(context: PageContext): Promise<void | (() => void)> {
  const { app, main, params, signal } = context;
  const tool = toolOf(context);
  const features = featuresOf(tool);
  const space = params.space as string;
  const id = params.id as string;
  // Titles for the breadcrumbs, the reading path and the backlinks, when the object has them.
  const { pagesTool } = features;
  const loadPages = () =>
    pagesTool ? app.api.list(space, pagesTool.tool, signal).catch(() => [] as Publication[]) : Promise.resolve([] as Publication[]);
  const [first, firstRevisions, comments, firstPages, community] = await Promise.all([
    app.api.read(space, tool.tool, id, signal),
    app.api.revisions(space, tool.tool, id, signal),
    app.api.comments(space, tool.tool, id, signal),
    loadPages(),
    // Its enabled tools, whose panels are shown (cached: the header asked already); every tool's when unknown.
    app.community(space).catch(() => null),
  ]);
  if (signal.aborted) return;
  let shown: ShownObject = { view: first, revisions: firstRevisions, pages: firstPages };
  const follower = new RevisionFollower({ eventType: tool.eventType, id }, first);
  const commentFollower = new CommentFollower(
    { eventType: tool.eventType, id },
    firstRevisions.map((revision) => revision.event_id),
    comments,
  );

  // What depends on the revision shown is redrawn when another one arrives; the comments (and
  // what the user is typing there) stay.
  const object = h("div", { class: "object" });
  let drawn: AbortController | null = null;
  const draw = (): Node[] => {
    drawn?.abort();
    drawn = childController(signal);
    return objectParts(context, drawn.signal, tool, features, shown, community?.tools, follower);
  };
  object.replaceChildren(...draw());
  const commentsView = commentsSection(context, tool, () => shown.view, commentFollower);
  main.append(object, commentsView.element);

  // Someone's new revision: once the index has it (rendered and sanitized by the server), it
  // replaces the one shown, without a reload, and screen readers hear who changed the page.
  let following = false;
  const follow = async () => {
    if (following) return;
    following = true;
    try {
      while (follower.waiting && !signal.aborted) {
        const view = await waitUntil(
          async () => {
            const current = await app.api.read(space, tool.tool, id, signal);
            return follower.shouldShow(current) ? current : undefined;
          },
          { signal },
        );
        if (signal.aborted) return;
        if (!view) return follower.giveUp();
        follower.showing(view);
        const [revisions, pages] = await Promise.all([app.api.revisions(space, tool.tool, id, signal), loadPages()]);
        if (signal.aborted) return;
        shown = { view, revisions, pages };
        redrawInPlace(object, draw(), () => object.querySelector("h1"));
        app.announce(app.t("read.updatedBy", { sender: localpart(view.author) }));
      }
    } catch {
      // The page stays as it was; the next revision tries again.
      follower.giveUp();
    } finally {
      following = false;
    }
  };
  // Someone's comment (or a comment redacted): the comments are read again once the index has it.
  const catchUpComments = catchUpWithIndex(
    commentFollower,
    () => app.api.comments(space, tool.tool, id, signal),
    (fresh) => commentsView.show(fresh, true),
    { signal },
  );
  const unsubscribe = app.live.subscribe(first.room_id, (event) => {
    if (follower.offer(event)) void follow();
    if (commentFollower.offer(event)) catchUpComments();
  });
  return () => {
    unsubscribe();
    drawn?.abort();
  };
}

/** What the page shows of the object: its current revision, the revisions, the pages its fields name. */
interface ShownObject {
  view: PublicationView;
  revisions: Revision[];
  /** The objects of its `pagesFrom` tool; none when it has no `parent` or `pages` field. */
  pages: Publication[];
}

/** Aborted with `parent`, or on its own (when what it was for is redrawn). */
function childController(parent: AbortSignal): AbortController {
  const controller = new AbortController();
  const abort = () => controller.abort();
  if (parent.aborted) abort();
  parent.addEventListener("abort", abort, { once: true });
  controller.signal.addEventListener("abort", () => parent.removeEventListener("abort", abort), { once: true });
  return controller;
}

/**
 * The object's revision and what goes with it: breadcrumbs, header, text, the tools' panels,
 * reading path, backlinks, history. `drawing` ends with this drawing: the panels stop then.
 */
function objectParts(
  context: PageContext,
  drawing: AbortSignal,
  tool: PublicationToolDef,
  features: ObjectFeatures,
  { view, revisions, pages }: ShownObject,
  enabledTools: readonly string[] | undefined,
  follower: RevisionFollower,
): Node[] {
  const { app, params } = context;
  const space = params.space as string;
  const id = params.id as string;
  const title = view.title || app.t("common.untitled");
  app.setTitle(title, app.t(tool.labels.name));
  const parts: Node[] = [];

  // Its parents, among the pages of the tool its `parent` names.
  const crumbsTool = features.nested ? features.pagesTool : null;
  const crumbs = crumbsTool ? ancestors(pages, id) : [];
  if (crumbsTool && crumbs.length > 0) {
    parts.push(
      h(
        "nav",
        { class: "breadcrumbs", "aria-label": app.t("publication.breadcrumbs") },
        h(
          "ol",
          null,
          crumbs.map((page) => h("li", null, h("a", { href: links.read(crumbsTool, space, page.object_id) }, page.title))),
        ),
      ),
    );
  }

  const article = h("article", { class: "rendered", "aria-labelledby": "page-title" });
  setTrustedHtml(article, view.html);
  adjustRenderedLinks(article, space);
  const panels = h("div", { class: "object-panels" });
  renderSlots(
    { ...context, signal: drawing },
    app.registry.objectPanels(enabledTools),
    { space, tool: tool.tool, id, eventId: view.event_id, roomId: view.room_id },
    panels,
  );

  const fragment = document.createDocumentFragment();
  append(fragment, [
    pageHeader(
      title,
      h("a", { class: "button", href: links.edit(tool, space, id), "data-action": "edit" }, app.t("read.edit")),
      features.nested
        ? h("a", { class: "button secondary", href: links.create(tool, space, { parent: id }) }, app.t("publication.newChild"))
        : null,
    ),
    h(
      "p",
      { class: "meta" },
      view.status === "draft" ? h("span", { class: "badge draft" }, app.t("publication.draft")) : null,
      view.status === "draft" ? " " : null,
      app.t("read.lastEdit"),
      " ",
      person(view.author),
      " · ",
      time(app, view.updated_at),
      view.category ? ` · ${view.category}` : null,
    ),
    tagList(app, view.tags),
    article,
    panels,
    features.readingPath && features.pagesTool ? readingPath(app, space, view, features.pagesTool, pages) : null,
    backlinksSection(app, space, view, pages),
    revisionsSection(context, tool, view, revisions, follower),
  ]);
  parts.push(...fragment.childNodes);
  return parts;
}

/** The object's pages (`pages`, objects of `pagesTool`), in reading order. */
function readingPath(
  app: App,
  space: string,
  view: PublicationView,
  pagesTool: PublicationToolDef,
  pages: Publication[],
): HTMLElement {
  const titles = new Map(pages.map((page) => [page.object_id, page.title]));
  return h(
    "section",
    { class: "reading-path", "aria-labelledby": "path-title" },
    h("h2", { id: "path-title" }, app.t("publication.readingPath")),
    view.pages.length === 0
      ? h("p", { class: "empty" }, app.t("publication.noPages"))
      : h(
          "ol",
          null,
          view.pages.map((id) => {
            const title = titles.get(id);
            return h("li", null, title ? h("a", { href: links.read(pagesTool, space, id) }, title) : app.t("publication.missingPage", { id }));
          }),
        ),
  );
}

/** The objects linking to this one; titled when they are among `pages`, by their ID otherwise. */
function backlinksSection(app: App, space: string, view: PublicationView, pages: Publication[]): HTMLElement | null {
  if (view.backlinks.length === 0) return null;
  const titles = new Map(pages.map((page) => [page.object_id, page.title]));
  return h(
    "section",
    { class: "backlinks", "aria-labelledby": "backlinks-title" },
    h("h2", { id: "backlinks-title" }, app.t("read.backlinks")),
    h(
      "ul",
      null,
      view.backlinks.map(([kind, objectId]) => {
        const tool = publicationToolOfKind(kind);
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
  follower: RevisionFollower,
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
                      // Shown below once the index has it, not as someone else's change.
                      follower.own(written.eventId);
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

/** The comments section, and how it shows the index's next answer. */
interface CommentsView {
  element: HTMLElement;
  /**
   * Shows `fresh`, the index's comments, redrawn in place (what the user types stays: the form
   * is apart); with `announce`, screen readers hear who commented, or how many changed.
   */
  show(fresh: readonly Comment[], announce: boolean): void;
}

function commentItems(app: App, comments: readonly Comment[]): HTMLElement[] {
  return comments.map((comment) =>
    h(
      "li",
      { "data-event-id": comment.event_id },
      h("p", { class: "meta" }, person(comment.sender), " · ", time(app, comment.origin_server_ts)),
      // A comment is plain text: shown as text, never as HTML.
      h("p", { class: "comment-body" }, comment.body),
    ),
  );
}

/** The comments, in the thread of the revision shown when one is posted (`current()`). */
function commentsSection(
  context: PageContext,
  tool: PublicationToolDef,
  current: () => PublicationView,
  follower: CommentFollower,
): CommentsView {
  const { app, params, signal } = context;
  const space = params.space as string;
  const id = params.id as string;
  const list = h("ol", { class: "comments" }, commentItems(app, follower.shown));
  const empty = h("p", { class: "empty" }, app.t("comments.empty"));
  empty.hidden = follower.shown.length > 0;
  const heading = h("h2", { id: "comments-title" }, app.t("comments.title"));
  const show = (fresh: readonly Comment[], announce: boolean) => {
    const summary = changeSummary(listChanges(follower.shown, fresh, (comment) => comment.event_id));
    follower.showing(fresh);
    if (!summary) return;
    empty.hidden = fresh.length > 0;
    redrawInPlace(list, commentItems(app, fresh), () => heading);
    if (!announce) return;
    app.announce(
      "added" in summary
        ? app.t("comments.newBy", { sender: localpart(summary.added.sender) })
        : app.t("comments.updated", { count: summary.count }),
    );
  };

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
          const view = current();
          const target = await writeTarget(app, space, tool, view.room_id);
          const written = await app.writer.comment(target, id, view.event_id, body);
          // Shown below once the index has it, not announced as someone else's.
          follower.own(written.eventId);
          textarea.value = "";
          const seen = await waitForComment(app, space, tool, id, written.eventId, signal);
          if (signal.aborted) return;
          show(await app.api.comments(space, tool.tool, id, signal), false);
          app.announce(seen ? app.t("comments.sent") : app.t("edit.pending"));
        });
      },
    },
    field(app.t("comments.add"), textarea, app.t("comments.hint")),
    status,
    h("button", { type: "submit" }, app.t("comments.submit")),
  );
  const element = h("section", { class: "comments-section", "aria-labelledby": "comments-title" }, heading, empty, list, form);
  return { element, show };
}
