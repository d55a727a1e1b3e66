/**
 * The user's open cards (`GET /api/v1/tasks/mine`: not archived, not in a done column), as the
 * "My tasks" page and the community's home list them: each links to its card on its board, with
 * its community and board, its due date (late ones marked) and labels.
 */
import { Fragment } from "preact";
import type { App } from "../../app/context";
import { hashFor } from "../../app/router";
import { formatDate } from "./dates";
import { BOARD_ROUTE } from "./tool";
import type { MyTask } from "./types";

export function MyTaskList({ app, tasks, showCommunity }: { app: App; tasks: readonly MyTask[]; showCommunity: boolean }) {
  const t = app.t;
  return (
    <ol class="plain-list tasks-mine">
      {tasks.map((task) => (
        <li key={`${task.space}/${task.id}`} data-card-id={task.id} data-late={task.late ? "true" : undefined}>
          <a href={hashFor(BOARD_ROUTE, { space: task.space }, { board: task.board, card: task.id })}>{task.title || t("common.untitled")}</a>
          <p class="meta">
            {showCommunity ? t("tasks.mineWhere", { community: task.community, board: task.board_name }) : task.board_name}
            {task.due && (
              <>
                {" · "}
                <span class="tasks-due">
                  <time dateTime={task.due}>{t("tasks.dueOn", { date: formatDate(task.due, app.i18n.lang) })}</time>
                </span>
              </>
            )}
            {task.late && (
              <>
                {" "}
                <span class="badge tasks-late">{t("tasks.late")}</span>
              </>
            )}
            {(task.labels ?? []).map((label) => (
              <Fragment key={label}>
                {" "}
                <span class="badge">{label}</span>
              </Fragment>
            ))}
          </p>
        </li>
      ))}
    </ol>
  );
}
