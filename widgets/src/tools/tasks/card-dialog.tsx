/**
 * A card's dialog (a modal `<dialog>`, closed by Escape or Cancel): its title, column,
 * description (markdown), assignees (Matrix IDs), labels, start and due dates, checklist, the
 * cards it depends on (among the board's), archived. Saving sends every field (`PUT …/cards/{id}`
 * in standalone mode) and closes it once the index shows the card; a refusal (due before start, a
 * circle of dependencies…) is shown in the dialog, which stays open. Below the card's fields,
 * its comments (a Matrix thread any client can answer), others' appearing while it is open, and
 * a form to post one (`CardComments`). For a reader of the community (the board's `may_write`
 * false), the same card to read, without a form, and its comments without a way to post one.
 * The focus goes back to the card's title when it closes.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ErrorBox } from "../../app/error-box";
import { localpart } from "../../app/ui";
import { Assignees } from "./assignees";
import { boardCards, cardInputOf, isUserId, splitList } from "./board";
import type { BoardState } from "./board-state";
import { CardComments } from "./card-comments";
import { formatDate } from "./dates";
import type { BoardView, CardView, ChecklistItem } from "./types";

/** Matrix IDs are separated by commas or spaces; labels, which may hold spaces, by commas. */
const USER_SEPARATORS = /[,\s]+/;

export function CardDialog({ state, board, card }: { state: BoardState; board: BoardView; card: CardView }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const close = () => {
    state.dialogError.value = null;
    state.editing.value = null;
  };

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (typeof element.showModal === "function") {
      if (!element.open) element.showModal();
    } else {
      element.setAttribute("open", "");
    }
    // The title's field, or the heading of a card to read.
    (element.querySelector<HTMLElement>("#tasks-card-title") ?? element.querySelector<HTMLElement>("#tasks-dialog-title"))?.focus();
    // Back to the card's title once closed: its element, wherever the card now is. The modal
    // dialog closes first, or the rest of the page would still be inert.
    return () => {
      if (element.open && typeof element.close === "function") element.close();
      const tile = Array.from(document.querySelectorAll<HTMLElement>("[data-card-id]")).find((node) => node.dataset.cardId === card.id);
      tile?.querySelector<HTMLElement>("button.tasks-open")?.focus();
    };
  }, [card.id]);

  return (
    <dialog
      ref={dialog}
      class="tasks-dialog"
      aria-labelledby="tasks-dialog-title"
      onCancel={(event) => {
        event.preventDefault();
        close();
      }}
    >
      {board.may_write ? (
        <CardForm state={state} board={board} card={card} close={close} />
      ) : (
        <CardDetails state={state} board={board} card={card} close={close} />
      )}
      <CommentsSection state={state} card={card} mayWrite={board.may_write} />
    </dialog>
  );
}

/** The card's fields to change, saved together. */
function CardForm({ state, board, card, close }: { state: BoardState; board: BoardView; card: CardView; close: () => void }) {
  const { app } = state;
  const t = app.t;
  const [fields, setFields] = useState(() => cardInputOf(card));
  const [assignees, setAssignees] = useState(fields.assignees.join(", "));
  // The people the field names, with their avatars: taken from it once it is left (or "Assign
  // me"), not at each key, which would ask for the avatar of every partial ID on the way.
  const [named, setNamed] = useState(fields.assignees);
  const nameAssignees = (typed: string) => setNamed(splitList(typed, USER_SEPARATORS).filter(isUserId));
  const [labels, setLabels] = useState(fields.labels.join(", "));
  const [newItem, setNewItem] = useState("");
  // Each change from the fields as they are then, not as this render saw them.
  const update = (patch: (current: typeof fields) => Partial<typeof fields>) => setFields((current) => ({ ...current, ...patch(current) }));
  const set = (patch: Partial<typeof fields>) => update(() => patch);
  const setItem = (at: number, patch: Partial<ChecklistItem>) =>
    update((current) => ({ checklist: current.checklist.map((item, index) => (index === at ? { ...item, ...patch } : item)) }));
  const addItem = (typed: string = newItem) => {
    const text = typed.trim();
    if (text === "") return;
    update((current) => ({ checklist: [...current.checklist, { text, done: false }] }));
    setNewItem("");
  };

  const others = boardCards(board).filter((other) => other.id !== card.id);
  const me = app.identity.userId();
  const error = state.dialogError.value;
  const busy = state.writing.value;
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        if (busy) return;
        void state.save(card.id, {
          ...fields,
          assignees: splitList(assignees, USER_SEPARATORS),
          labels: splitList(labels),
        });
      }}
    >
      <h2 id="tasks-dialog-title">{t("tasks.editCard", { title: card.title || t("common.untitled") })}</h2>
      <div class="field">
        <label for="tasks-card-title">{t("tasks.fieldTitle")}</label>
        <input id="tasks-card-title" required value={fields.title} onInput={(event) => set({ title: event.currentTarget.value })} />
      </div>
      <div class="field">
        <label for="tasks-card-column">{t("tasks.fieldColumn")}</label>
        <select id="tasks-card-column" value={fields.column ?? ""} onChange={(event) => set({ column: event.currentTarget.value })}>
          {!board.columns.some((column) => column.id === fields.column) && <option value={fields.column ?? ""}>—</option>}
          {board.columns.map((column) => (
            <option key={column.id} value={column.id}>
              {column.name}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="tasks-card-description">{t("tasks.fieldDescription")}</label>
        <textarea
          id="tasks-card-description"
          rows={5}
          aria-describedby="tasks-card-description-hint"
          value={fields.description}
          onInput={(event) => set({ description: event.currentTarget.value })}
        />
        <p class="hint" id="tasks-card-description-hint">
          {t("tasks.fieldDescriptionHint")}
        </p>
      </div>
      <div class="field">
        <label for="tasks-card-assignees">{t("tasks.fieldAssignees")}</label>
        <div class="tasks-inline">
          <input
            id="tasks-card-assignees"
            autocomplete="off"
            aria-describedby="tasks-card-assignees-hint"
            aria-invalid={splitList(assignees, USER_SEPARATORS).every(isUserId) ? undefined : "true"}
            value={assignees}
            onInput={(event) => setAssignees(event.currentTarget.value)}
            onChange={(event) => nameAssignees(event.currentTarget.value)}
          />
          {me && !splitList(assignees, USER_SEPARATORS).includes(me) && (
            <button
              type="button"
              class="secondary"
              onClick={() => {
                const typed = [...splitList(assignees, USER_SEPARATORS), me].join(", ");
                setAssignees(typed);
                nameAssignees(typed);
              }}
            >
              {t("tasks.assignMe")}
            </button>
          )}
        </div>
        <p class="hint" id="tasks-card-assignees-hint">
          {t("tasks.fieldAssigneesHint")}
        </p>
        {named.length > 0 && <Assignees state={state} assignees={named} named />}
      </div>
      <div class="field">
        <label for="tasks-card-labels">{t("tasks.fieldLabels")}</label>
        <input
          id="tasks-card-labels"
          autocomplete="off"
          aria-describedby="tasks-card-labels-hint"
          value={labels}
          onInput={(event) => setLabels(event.currentTarget.value)}
        />
        <p class="hint" id="tasks-card-labels-hint">
          {t("tasks.fieldLabelsHint")}
        </p>
      </div>
      <div class="tasks-dates">
        <div class="field">
          <label for="tasks-card-start">{t("tasks.fieldStart")}</label>
          <input id="tasks-card-start" type="date" value={fields.start ?? ""} onInput={(event) => set({ start: event.currentTarget.value || null })} />
        </div>
        <div class="field">
          <label for="tasks-card-due">{t("tasks.fieldDue")}</label>
          <input id="tasks-card-due" type="date" value={fields.due ?? ""} onInput={(event) => set({ due: event.currentTarget.value || null })} />
        </div>
      </div>
      <fieldset class="tasks-checklist">
        <legend>{t("tasks.fieldChecklist")}</legend>
        {fields.checklist.length > 0 && (
          <ul class="plain-list">
            {fields.checklist.map((item, index) => (
              <li key={index} class="tasks-inline">
                <label>
                  <input type="checkbox" checked={item.done ?? false} onChange={(event) => setItem(index, { done: event.currentTarget.checked })} />{" "}
                  {item.text}
                </label>
                <button
                  type="button"
                  class="secondary"
                  aria-label={t("tasks.checklistRemove", { text: item.text })}
                  onClick={() => update((current) => ({ checklist: current.checklist.filter((_, at) => at !== index) }))}
                >
                  <span aria-hidden="true">×</span>
                </button>
              </li>
            ))}
          </ul>
        )}
        <label for="tasks-card-new-item">{t("tasks.checklistNew")}</label>
        <div class="tasks-inline">
          <input
            id="tasks-card-new-item"
            autocomplete="off"
            value={newItem}
            onInput={(event) => setNewItem(event.currentTarget.value)}
            onKeyDown={(event) => {
              // Enter adds the item rather than saving the card.
              if (event.key === "Enter") {
                event.preventDefault();
                addItem(event.currentTarget.value);
              }
            }}
          />
          <button type="button" class="secondary" onClick={() => addItem()}>
            {t("tasks.checklistAdd")}
          </button>
        </div>
      </fieldset>
      <fieldset class="tasks-depends">
        <legend>{t("tasks.fieldDependsOn")}</legend>
        <p class="hint">{t("tasks.dependsOnHint")}</p>
        {others.length === 0 ? (
          <p>{t("tasks.noOtherCards")}</p>
        ) : (
          <ul class="plain-list">
            {others.map((other) => (
              <li key={other.id}>
                <label>
                  <input
                    type="checkbox"
                    value={other.id}
                    checked={fields.depends_on.includes(other.id)}
                    onChange={(event) => {
                      const checked = event.currentTarget.checked;
                      update((current) => ({
                        depends_on: checked ? [...current.depends_on, other.id] : current.depends_on.filter((id) => id !== other.id),
                      }));
                    }}
                  />{" "}
                  {other.title || t("common.untitled")}
                </label>
              </li>
            ))}
          </ul>
        )}
      </fieldset>
      <div class="field">
        <label>
          <input type="checkbox" checked={fields.archived} onChange={(event) => set({ archived: event.currentTarget.checked })} />{" "}
          {t("tasks.fieldArchived")}
        </label>
      </div>
      <div class="form-status" aria-live="polite">
        {error !== null && <ErrorBox app={app} error={error} />}
      </div>
      <div class="actions">
        <button type="submit" aria-disabled={busy ? "true" : undefined}>
          {t("edit.save")}
        </button>
        <button type="button" class="secondary" onClick={close}>
          {t("edit.cancel")}
        </button>
      </div>
    </form>
  );
}

/**
 * The card to read, for a reader of the community: its fields as text (the description as
 * written, its checklist's items ticked or not, which cannot be changed), and a button to close.
 */
function CardDetails({ state, board, card, close }: { state: BoardState; board: BoardView; card: CardView; close: () => void }) {
  const { app } = state;
  const t = app.t;
  const column = board.columns.find((candidate) => candidate.id === card.column)?.name;
  const assignees = card.assignees ?? [];
  const labels = card.labels ?? [];
  const checklist = card.checklist ?? [];
  const cards = boardCards(board);
  const dependencies = (card.depends_on ?? []).map((id) => {
    const other = cards.find((candidate) => candidate.id === id);
    return other ? other.title || t("common.untitled") : id;
  });
  const day = (date: string) => <time dateTime={date}>{formatDate(date, app.i18n.lang)}</time>;
  return (
    <div class="tasks-card-details">
      <h2 id="tasks-dialog-title" tabIndex={-1}>
        {t("tasks.editCard", { title: card.title || t("common.untitled") })}
      </h2>
      <dl class="tasks-details">
        {column && (
          <>
            <dt>{t("tasks.fieldColumn")}</dt>
            <dd>{column}</dd>
          </>
        )}
        {card.description && (
          <>
            <dt>{t("tasks.fieldDescription")}</dt>
            {/* Markdown as written, as text: never as HTML. */}
            <dd class="tasks-description">{card.description}</dd>
          </>
        )}
        {assignees.length > 0 && (
          <>
            <dt>{t("tasks.fieldAssignees")}</dt>
            <dd>
              <Assignees state={state} assignees={assignees} named />
            </dd>
          </>
        )}
        {labels.length > 0 && (
          <>
            <dt>{t("tasks.fieldLabels")}</dt>
            <dd>
              <ul class="tags">
                {labels.map((label) => (
                  <li key={label}>{label}</li>
                ))}
              </ul>
            </dd>
          </>
        )}
        {card.start && (
          <>
            <dt>{t("tasks.fieldStart")}</dt>
            <dd>{day(card.start)}</dd>
          </>
        )}
        {card.due && (
          <>
            <dt>{t("tasks.fieldDue")}</dt>
            <dd>
              {day(card.due)}
              {card.late && (
                <>
                  {" "}
                  <span class="badge tasks-late">{t("tasks.late")}</span>
                </>
              )}
            </dd>
          </>
        )}
        {checklist.length > 0 && (
          <>
            <dt>{t("tasks.fieldChecklist")}</dt>
            <dd>
              <ul class="plain-list tasks-checklist-read">
                {checklist.map((item, index) => (
                  <li key={index}>
                    <label>
                      <input type="checkbox" checked={item.done ?? false} disabled /> {item.text}
                    </label>
                  </li>
                ))}
              </ul>
            </dd>
          </>
        )}
        {dependencies.length > 0 && (
          <>
            <dt>{t("tasks.fieldDependsOn")}</dt>
            <dd>
              <ul class="plain-list">
                {dependencies.map((title, index) => (
                  <li key={index}>{title}</li>
                ))}
              </ul>
            </dd>
          </>
        )}
      </dl>
      <div class="actions">
        <button type="button" class="secondary" onClick={close}>
          {t("tasks.close")}
        </button>
      </div>
    </div>
  );
}

/**
 * The card's comments, oldest first (who, when, the text as text, never as HTML), and a form to
 * post one: a form of its own, after the card's (forms do not nest), so a comment is sent
 * without saving the card's fields, and Save does not send what is typed here. A reader, who
 * may not post, is told so instead of the form.
 */
function CommentsSection({ state, card, mayWrite }: { state: BoardState; card: CardView; mayWrite: boolean }) {
  const { app } = state;
  const t = app.t;
  // One card's comments while its dialog is open; its current event is read again at each post.
  const comments = useMemo(() => new CardComments(app, state.space, card, state.writer, state.abort), [card.id]);
  useEffect(() => {
    void comments.start(app.live, state.room);
    return () => comments.stop();
  }, [comments]);
  const [body, setBody] = useState("");
  const list = comments.comments.value;
  const loadError = comments.loadError.value;
  const error = comments.error.value;
  const notice = comments.notice.value;
  const unavailable = comments.sending.value || comments.refused.value || list === null;
  return (
    <section class="tasks-comments" aria-labelledby="tasks-comments-title">
      <h3 id="tasks-comments-title">{t("comments.title")}</h3>
      {list === null ? (
        loadError !== null ? (
          <ErrorBox app={app} error={loadError} />
        ) : (
          <p class="loading">{t("common.loading")}</p>
        )
      ) : list.length === 0 ? (
        <p class="empty">{t("comments.empty")}</p>
      ) : (
        <ol class="comments">
          {list.map((comment) => (
            <li key={comment.event_id} data-event-id={comment.event_id}>
              <p class="meta">
                <span class="person" title={comment.sender}>
                  {localpart(comment.sender)}
                </span>
                {" · "}
                <time dateTime={new Date(comment.origin_server_ts).toISOString()}>{app.i18n.dateTime(comment.origin_server_ts)}</time>
              </p>
              {/* A comment is plain text: Preact sets it as text, never as HTML. */}
              <p class="comment-body">{comment.body}</p>
            </li>
          ))}
        </ol>
      )}
      {!mayWrite ? (
        <p class="tasks-comment-readonly">{t("tasks.readerNoComment")}</p>
      ) : (
        <form
          class="comment-form"
          onSubmit={async (event) => {
            event.preventDefault();
            if (unavailable || body.trim() === "") return;
            if (await comments.post(card, body)) setBody("");
          }}
        >
          <div class="field">
            <label for="tasks-comment-body">{t("comments.add")}</label>
            <textarea
              id="tasks-comment-body"
              name="comment"
              rows={3}
              required
              aria-describedby="tasks-comment-hint"
              value={body}
              onInput={(event) => setBody(event.currentTarget.value)}
            />
            <p class="hint" id="tasks-comment-hint">
              {t("tasks.commentHint")}
            </p>
          </div>
          <div class="form-status" aria-live="polite">
            {error !== null && <ErrorBox app={app} error={error} />}
            {notice !== null && <p class="tasks-comment-notice">{notice}</p>}
          </div>
          <button type="submit" aria-disabled={unavailable ? "true" : undefined}>
            {t("comments.submit")}
          </button>
        </form>
      )}
    </section>
  );
}
