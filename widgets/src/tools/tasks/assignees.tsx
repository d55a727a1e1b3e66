/**
 * A card's assignees, each with their avatar (the shared `Avatar`: their picture, else their
 * initials). The avatar is decorative: each assignee is named by their Matrix ID in text, for
 * screen readers only on a card of the board (the ID is its tooltip), shown in the card's dialog.
 */
import { Avatar } from "../../app/avatar";
import type { BoardState } from "./board-state";

export function Assignees({ state, assignees, named = false }: { state: BoardState; assignees: readonly string[]; named?: boolean }) {
  const { app, space } = state;
  return (
    <ul class={named ? "tasks-assignees tasks-assignees-named" : "tasks-assignees"} aria-label={app.t("tasks.assignedTo")}>
      {assignees.map((assignee) => (
        <li key={assignee} title={assignee}>
          <Avatar api={app.api} space={space} user={assignee} />
          <span class={named ? undefined : "visually-hidden"}>{assignee}</span>
        </li>
      ))}
    </ul>
  );
}
