/**
 * `#/c/{space}`: a community's description, its tools, members and roles, recent activity, and
 * the sections its tools add (`ToolDef.homeSections`).
 */
import type { CommunityOverview } from "../api/types";
import type { App, PageContext } from "../app/context";
import { append, h } from "../app/dom";
import { hashFor } from "../app/router";
import { renderSlots } from "../app/slots";
import { pageHeader, person, time } from "../app/ui";
import { toolOfKind } from "../publishing/tools";
import { links } from "../publishing/workflow";
import { searchForm } from "./search";

export default async function communityHome(context: PageContext): Promise<void> {
  const { app, main, params, signal } = context;
  const space = params.space as string;
  const community = await app.api.overview(space, signal);
  if (signal.aborted) return;
  app.setTitle(community.name);
  const tools = app.registry.navigationTools(community.tools);
  const toolSections = h("div", { class: "home-sections" });
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
        activitySection(app, space, community),
        toolSections,
      ),
      membersSection(app, community),
    ),
  ]);
  renderSlots(context, app.registry.homeSections(community.tools), { space }, toolSections);
}

function activitySection(app: App, space: string, community: CommunityOverview): HTMLElement {
  return h(
    "section",
    { "aria-labelledby": "activity-title" },
    h("h2", { id: "activity-title" }, app.t("community.activity")),
    community.activity.length === 0
      ? h("p", { class: "empty" }, app.t("community.noActivity"))
      : h(
          "ol",
          { class: "plain-list activity" },
          community.activity.map((item) => {
            const tool = toolOfKind(item.kind);
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
