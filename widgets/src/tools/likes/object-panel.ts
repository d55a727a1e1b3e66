/**
 * On every object's page: 👍 "Like" and ⭐ "Recommend", each with its count, pressed when the
 * user has reacted; a press sends the user's reaction, or withdraws it. The counts show the
 * user's change at once, then what the index says once it has the event.
 */
import type { PageContext } from "../../app/context";
import { h } from "../../app/dom";
import type { ObjectRef } from "../../app/registry";
import { errorBox } from "../../app/ui";
import { waitUntil } from "../../publishing/await-index";
import { likesOf } from "./api";
import { afterWrite, REACTIONS, showsWrite, type ReactionDef } from "./reactions";
import { reactionWriterFor } from "./writer";
import "./likes.css";

export default async function reactionsPanel(context: PageContext, object: ObjectRef, container: HTMLElement): Promise<void> {
  const { app, signal } = context;
  let state = await likesOf(app.api, object, signal);
  if (signal.aborted) return;

  const status = h("div", { class: "form-status", "aria-live": "polite" });
  // One write at a time: each answer of the index then holds every change of the user.
  let writing = false;
  const buttons = REACTIONS.map((def) => {
    const count = h("span", { class: "reaction-count" });
    const button = h(
      "button",
      { type: "button", class: "secondary reaction", "data-reaction": def.reaction, onclick: () => void toggle(def) },
      h("span", { class: "reaction-key", "aria-hidden": "true" }, def.key),
      " ",
      app.t(def.label),
      " ",
      count,
    );
    return { def, button, count };
  });
  const draw = () => {
    for (const { def, button, count } of buttons) {
      button.setAttribute("aria-pressed", String(state.mine[def.reaction] !== null));
      count.textContent = String(state[def.count]);
      // `aria-disabled` rather than `disabled`: the pressed button keeps the focus.
      if (writing) button.setAttribute("aria-disabled", "true");
      else button.removeAttribute("aria-disabled");
    }
  };

  const toggle = async (def: ReactionDef) => {
    if (writing) return;
    writing = true;
    draw();
    status.replaceChildren();
    try {
      const writer = reactionWriterFor(app);
      const mine = state.mine[def.reaction];
      const write = mine === null ? await writer.react(object, def.reaction) : await writer.unreact(object, def.reaction, mine);
      if (signal.aborted) return;
      state = afterWrite(state, write);
      draw();
      const seen = await waitUntil(
        async () => {
          const fresh = await likesOf(app.api, object, signal);
          return showsWrite(fresh, write) ? fresh : undefined;
        },
        { signal },
      );
      if (signal.aborted) return;
      if (seen) state = seen;
      app.announce(seen ? app.t("sent" in write ? def.added : def.removed) : app.t("edit.pending"));
    } catch (error) {
      if (!signal.aborted) status.replaceChildren(errorBox(app, error));
    } finally {
      writing = false;
      if (!signal.aborted) draw();
    }
  };

  draw();
  container.append(
    h(
      "div",
      { class: "reactions", role: "group", "aria-label": app.t("likes.group") },
      buttons.map(({ button }) => button),
    ),
    status,
  );
}
