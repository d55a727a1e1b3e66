/**
 * `#/c/{space}`: a community's description, its tools, members and roles, recent activity, and
 * the sections its tools add (`ToolDef.homeSections`, given the community's rooms to follow).
 *
 * The recent activity follows the community's rooms while shown: an object of one of its
 * publishing tools (their state event types) that someone writes appears once the index has it,
 * without a reload (`ActivityFollower` decides which events concern it). Other tools' events
 * (a board's cards) are no concern of it: the index lists only published objects there.
 */
import type { CommunityActivity, CommunityOverview } from "../api/types";
import type { App, PageContext } from "../app/context";
import { append, h } from "../app/dom";
import { redrawInPlace } from "../app/redraw";
import { hashFor } from "../app/router";
import { renderSlots } from "../app/slots";
import { pageHeader, person, time } from "../app/ui";
import { catchUpWithIndex } from "../publishing/await-index";
import { ActivityFollower, sameAnswer } from "../publishing/live";
import { publicationToolOfKind } from "../publishing/lookup";
import { publicationOf } from "../publishing/routes";
import { links } from "../publishing/workflow";
import { searchForm } from "./search";

export default async function communityHome(context: PageContext): Promise<void | (() => void)> {
  const { app, main, params, signal } = context;
  const space = params.space as string;
  const community = await app.api.overview(space, signal);
  if (signal.aborted) return;
  app.setTitle(community.name);
  const tools = app.registry.navigationTools(community.tools);
  const toolSections = h("div", { class: "home-sections" });
  const activity = h("div", { class: "activity-section" }, activitySection(app, space, community.activity));
  append(main, [
    pageHeader(community.name),
    community.description ? h("p", { class: "lead" }, community.description) : null,
    searchForm(app, space, ""),
    h(
      "div",
      { class: "columns" },
      h(
        "div",
        null,
        h(
          "section",
          { "aria-labelledby": "tools-title" },
          h("h2", { id: "tools-title" }, app.t("community.tools")),
          tools.length === 0
            ? h("p", null, app.t("community.noTools"))
            : h(
                "ul",
                { class: "cards tools" },
                tools.map((tool) => h("li", { class: "card" }, h("a", { href: hashFor(tool.home, { space }) }, app.t(tool.label)))),
              ),
        ),
        activity,
        toolSections,
      ),
      membersSection(app, community),
    ),
  ]);
  const rooms = [...new Set(community.rooms.map(([roomId]) => roomId))];
  renderSlots(context, app.registry.homeSections(community.tools), { space, rooms }, toolSections);

  // What the activity lists: the objects of the community's publishing tools, their state
  // events. Those of other tools (a card moved) would have the home read the community again
  // until it gave up, for an object the index never lists there.
  const published = app.registry.enabledTools(community.tools).flatMap((tool) => {
    const def = publicationOf(tool);
    return def ? [def.eventType] : [];
  });
  const follower = new ActivityFollower(published, community.activity);
  const catchUp = catchUpWithIndex(
    follower,
    async () => (await app.api.overview(space, signal)).activity,
    (fresh) => {
      const changed = !sameAnswer(fresh, follower.shown);
      follower.showing(fresh);
      if (!changed) return;
      redrawInPlace(activity, [activitySection(app, space, fresh)], () => main.querySelector("h1"));
      app.announce(app.t("community.activityUpdated"));
    },
    { signal },
  );
  const unsubscribes = rooms.map((room) =>
    app.live.subscribe(room, (event) => {
      if (follower.offer(event)) catchUp();
    }),
  );
  return () => unsubscribes.forEach((unsubscribe) => unsubscribe());
}

function activitySection(app: App, space: string, items: readonly CommunityActivity[]): HTMLElement {
  return h(
    "section",
    { "aria-labelledby": "activity-title" },
    h("h2", { id: "activity-title" }, app.t("community.activity")),
    items.length === 0
      ? h("p", { class: "empty" }, app.t("community.noActivity"))
      : h(
          "ol",
          { class: "plain-list activity" },
          items.map((item) => {
            const tool = publicationToolOfKind(item.kind);
            const title = item.title || app.t("common.untitled");
            return h(
              "li",
              null,
              tool ? h("a", { href: links.read(tool, space, item.object_id) }, title) : title,
              h(
                "p",
                { class: "meta" },
                tool ? h("span", { class: "badge" }, app.t(tool.labels.name)) : null,
                " ",
                person(item.author),
                " · ",
                time(app, item.updated_at),
              ),
            );
          }),
        ),
  );
}

function membersSection(app: App, community: CommunityOverview): HTMLElement {
  return h(
    "section",
    { class: "members", "aria-labelledby": "members-title" },
    h("h2", { id: "members-title" }, app.t("community.members", { count: community.members.length })),
    h(
      "ul",
      { class: "plain-list" },
      community.members.map((member) =>
        h(
          "li",
          null,
          member.display_name ? h("span", { title: member.user_id }, member.display_name) : person(member.user_id),
          " ",
          h("span", { class: `badge role-${member.role}` }, app.t(`role.${member.role}`)),
        ),
      ),
    ),
  );
}
