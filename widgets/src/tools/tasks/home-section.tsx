/**
 * On the community's home: the user's open cards in this community (`GET /api/v1/tasks/mine`,
 * those of its space), at most ten, with a link to all of them. Nothing while there are none.
 */
import { render } from "preact";
import type { PageContext } from "../../app/context";
import type { CommunityRef } from "../../app/registry";
import { hashFor } from "../../app/router";
import { myTasks } from "./api";
import { MyTaskList } from "./my-tasks";
import { MINE_ROUTE } from "./tool";
import "./tasks.css";

/** How many cards the section lists. */
const LIMIT = 10;

export default async function myCardsSection(context: PageContext, community: CommunityRef, container: HTMLElement): Promise<void> {
  const { app, signal } = context;
  const tasks = (await myTasks(app.api, signal)).filter((task) => task.space === community.space);
  if (signal.aborted || tasks.length === 0) return;
  signal.addEventListener("abort", () => render(null, container), { once: true });
  render(
    <section class="tasks-home" aria-labelledby="tasks-home-title">
      <h2 id="tasks-home-title">{app.t("tasks.homeTitle")}</h2>
      <MyTaskList app={app} tasks={tasks.slice(0, LIMIT)} showCommunity={false} />
      <p>
        <a href={hashFor(MINE_ROUTE)}>{app.t("tasks.homeAll")}</a>
      </p>
    </section>,
    container,
  );
}
