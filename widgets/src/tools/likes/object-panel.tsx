/**
 * On every object's page: 👍 "Like" and ⭐ "Recommend", each with its count, pressed when the
 * user has reacted; a press sends the user's reaction, or withdraws it. The counts show the
 * user's change at once, then what the index says once it has the event. Others' reactions and
 * withdrawals in the object's room, as they arrive, bring the counts up to date.
 *
 * The panel's state is a few signals (`LikesPanel`); the buttons are Preact components that
 * read them, so a change redraws only the attribute or the count it changes, and the focused
 * button stays the same element.
 */
import { signal, useComputed } from "@preact/signals";
import { render } from "preact";
import type { App, PageContext } from "../../app/context";
import { ErrorBox } from "../../app/error-box";
import type { ObjectRef } from "../../app/registry";
import { waitUntil } from "../../publishing/await-index";
import { likesOf } from "./api";
import { afterWrite, mayChangeLikes, REACTIONS, sameLikes, showsWrite, type ReactionDef } from "./reactions";
import type { ObjectLikes } from "./types";
import { reactionWriterFor } from "./writer";
import "./likes.css";

/**
 * How long the counts wait for the index to show an event of the room: it may not change them
 * (a reaction to another object of the room, a redaction of something else).
 */
const LIVE_WAIT_MS = 8_000;

export default async function reactionsPanel(context: PageContext, object: ObjectRef, container: HTMLElement): Promise<void> {
  const { app } = context;
  const initial = await likesOf(app.api, object, context.signal);
  if (context.signal.aborted) return;
  const panel = new LikesPanel(app, object, initial, context.signal);
  const unsubscribe = app.live.subscribe(object.roomId, (event) => {
    if (mayChangeLikes(event, panel.own)) void panel.refresh();
  });
  context.signal.addEventListener(
    "abort",
    () => {
      unsubscribe();
      render(null, container);
    },
    { once: true },
  );
  render(<ReactionsPanel app={app} panel={panel} />, container);
}

/** The panel's state and what changes it: the user's presses, others' reactions. */
export class LikesPanel {
  /** The counts and the user's reactions, as shown. */
  readonly likes;
  /** A write is under way: one at a time, so each answer of the index holds every change of the user. */
  readonly writing = signal(false);
  /** The last write's failure, shown under the buttons. */
  readonly error = signal<unknown>(null);
  /** The user's reaction events and withdrawn ones: their echoes in the room are nothing new. */
  readonly own = new Set<string>();
  /** Writes so far: an answer asked for before the latest write does not replace what it shows. */
  #writes = 0;
  #refreshing = false;
  #stale = false;

  constructor(
    private readonly app: App,
    private readonly object: ObjectRef,
    initial: ObjectLikes,
    private readonly abort: AbortSignal,
  ) {
    this.likes = signal(initial);
  }

  /** Sends the user's reaction, or withdraws it, then waits for the index to show it. */
  async toggle(def: ReactionDef): Promise<void> {
    const { app, object, abort } = this;
    if (this.writing.value) return;
    this.writing.value = true;
    this.#writes += 1;
    this.error.value = null;
    try {
      const writer = reactionWriterFor(app);
      const mine = this.likes.value.mine[def.reaction];
      const write = mine === null ? await writer.react(object, def.reaction) : await writer.unreact(object, def.reaction, mine);
      if (abort.aborted) return;
      for (const eventId of "sent" in write ? [write.sent] : write.redacted) this.own.add(eventId);
      this.likes.value = afterWrite(this.likes.value, write);
      const seen = await waitUntil(
        async () => {
          const fresh = await likesOf(app.api, object, abort);
          return showsWrite(fresh, write) ? fresh : undefined;
        },
        { signal: abort },
      );
      if (abort.aborted) return;
      if (seen) this.likes.value = seen;
      app.announce(seen ? app.t("sent" in write ? def.added : def.removed) : app.t("edit.pending"));
    } catch (error) {
      if (!abort.aborted) this.error.value = error;
    } finally {
      this.writing.value = false;
      if (this.#stale && !abort.aborted) void this.refresh();
    }
  }

  /** Someone else's reaction: the counts follow once the index has it. */
  async refresh(): Promise<void> {
    const { app, object, abort } = this;
    this.#stale = true;
    if (this.#refreshing || this.writing.value) return;
    this.#refreshing = true;
    try {
      while (this.#stale && !this.writing.value && !abort.aborted) {
        this.#stale = false;
        const before = this.#writes;
        const fresh = await waitUntil(
          async () => {
            const answer = await likesOf(app.api, object, abort);
            return sameLikes(answer, this.likes.value) ? undefined : answer;
          },
          { signal: abort, timeoutMs: LIVE_WAIT_MS },
        );
        if (fresh && before === this.#writes && !this.writing.value && !abort.aborted) this.likes.value = fresh;
      }
    } finally {
      this.#refreshing = false;
    }
  }
}

/** The two buttons, and the status line under them (`aria-live`) for a failed write. */
export function ReactionsPanel({ app, panel }: { app: App; panel: LikesPanel }) {
  const error = panel.error.value;
  return (
    <>
      <div class="reactions" role="group" aria-label={app.t("likes.group")}>
        {REACTIONS.map((def) => (
          <ReactionButton key={def.reaction} app={app} panel={panel} def={def} />
        ))}
      </div>
      <div class="form-status" aria-live="polite">
        {error !== null && <ErrorBox app={app} error={error} />}
      </div>
    </>
  );
}

function ReactionButton({ app, panel, def }: { app: App; panel: LikesPanel; def: ReactionDef }) {
  // The count is a text node bound to its signal: a new count changes only that node.
  const count = useComputed(() => panel.likes.value[def.count]);
  return (
    <button
      type="button"
      class="secondary reaction"
      data-reaction={def.reaction}
      aria-pressed={panel.likes.value.mine[def.reaction] !== null ? "true" : "false"}
      // `aria-disabled` rather than `disabled`: the pressed button keeps the focus.
      aria-disabled={panel.writing.value ? "true" : undefined}
      onClick={() => void panel.toggle(def)}
    >
      <span class="reaction-key" aria-hidden="true">
        {def.key}
      </span>{" "}
      {app.t(def.label)} <span class="reaction-count">{count}</span>
    </button>
  );
}
