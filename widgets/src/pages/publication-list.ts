/**
 * `#/c/{space}/{tool}`: a publishing tool's objects, laid out as its folder says
 * (`PublicationExtras.listLayout`: the wiki's page tree, the FAQ's categories), else as posts,
 * newest first. `?tag=` keeps only objects with that tag.
 *
 * It follows the tool's room while shown: someone's new, edited or redacted object appears
 * once the index has it, without a reload, the scroll position and focus kept, and screen
 * readers hear what changed (`ListFollower` decides which events concern the list).
 */
import type { Publication } from "../api/types";
import type { PageContext } from "../app/context";
import { h } from "../app/dom";
import { redrawInPlace } from "../app/redraw";
import { localpart, pageHeader } from "../app/ui";
import { catchUpWithIndex } from "../publishing/await-index";
import { postsLayout, type ListLayout } from "../publishing/list-layout";
import { changeSummary, listChanges, ListFollower } from "../publishing/live";
import type { PublicationExtras } from "../publishing/routes";
import { links, toolOf, writeTarget } from "../publishing/workflow";

export default async function publicationList(context: PageContext, extras: PublicationExtras = {}): Promise<void | (() => void)> {
  const { app, main, params, query, signal } = context;
  const tool = toolOf(context);
  const space = params.space as string;
  const tag = query.get("tag") ?? "";
  app.setTitle(app.t(tool.labels.name));
  const [all, layout] = await Promise.all([
    app.api.list(space, tool.tool, signal),
    extras.listLayout ? extras.listLayout().then((module) => module.default) : Promise.resolve<ListLayout>(postsLayout),
  ]);
  if (signal.aborted) return;
  const visible = (items: readonly Publication[]) => (tag ? items.filter((item) => item.tags.includes(tag)) : [...items]);

  main.append(
    pageHeader(app.t(tool.labels.name), h("a", { class: "button", href: links.create(tool, space) }, app.t(tool.labels.create))),
  );
  if (tag) {
    main.append(
      h("p", { class: "filter" }, app.t("list.taggedWith", { tag }), " ", h("a", { href: links.list(tool, space) }, app.t("list.allItems"))),
    );
  }
  // What the index lists is redrawn in place when it changes; the header and filter stay.
  const list = h("div", { class: "publication-list" });
  const draw = (items: Publication[]): Node[] =>
    items.length === 0 ? [h("p", { class: "empty" }, app.t(tool.labels.empty))] : layout(app, tool, space, items);
  list.replaceChildren(...draw(visible(all)));
  main.append(list);

  // The tool's room (and any other its objects are in), followed while the list is shown.
  const follower = new ListFollower(tool.eventType, all);
  const rooms = new Set(all.map((item) => item.room_id));
  const toolRoom = await writeTarget(app, space, tool).then(
    (target) => target.roomId,
    () => null,
  );
  if (signal.aborted) return;
  if (toolRoom) rooms.add(toolRoom);

  const catchUp = catchUpWithIndex(
    follower,
    () => app.api.list(space, tool.tool, signal),
    (fresh) => {
      const before = visible(follower.shown);
      follower.showing(fresh);
      const after = visible(fresh);
      const summary = changeSummary(listChanges(before, after, (item) => item.object_id));
      // Nothing the page shows changed (another tag, say): nothing to redraw or say.
      if (!summary) return;
      redrawInPlace(list, draw(after), () => main.querySelector("h1"));
      if ("added" in summary) {
        const params = { sender: localpart(summary.added.author), title: summary.added.title || app.t("common.untitled") };
        app.announce(app.t(extras.newBy ?? "list.newBy", params));
      } else {
        app.announce(app.t("list.updated", { count: summary.count }));
      }
    },
    { signal },
  );
  const unsubscribes = [...rooms].map((room) =>
    app.live.subscribe(room, (event) => {
      if (follower.offer(event)) catchUp();
    }),
  );
  return () => unsubscribes.forEach((unsubscribe) => unsubscribe());
}
