/**
 * `#/tasks/mine`: the user's open cards in all their communities, soonest due first, undated
 * last (the server's order). A page of no community: the shell shows no community navigation.
 */
import { render } from "preact";
import type { PageContext } from "../../app/context";
import { myTasks } from "./api";
import { MyTaskList } from "./my-tasks";
import "./tasks.css";

export default async function minePage(context: PageContext): Promise<void | (() => void)> {
  const { app, main, signal } = context;
  const tasks = await myTasks(app.api, signal);
  if (signal.aborted) return;
  app.setTitle(app.t("tasks.mine"));
  render(
    <>
      <div class="page-header">
        <h1 tabIndex={-1} id="page-title">
          {app.t("tasks.mine")}
        </h1>
      </div>
      {tasks.length === 0 ? <p class="empty">{app.t("tasks.mineEmpty")}</p> : <MyTaskList app={app} tasks={tasks} showCommunity={true} />}
    </>,
    main,
  );
  return () => render(null, main);
}
