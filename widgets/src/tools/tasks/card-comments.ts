/**
 * A card's comments, while its dialog is open: messages in the Matrix thread of one of the
 * card's events (`GET …/tasks/cards/{card}/comments`, oldest first), the user's own posted in the
 * thread of its current event (`TaskWriter.commentCard`). Others' comments are followed in the
 * tasks room as published objects' are (`CommentFollower`: a new message in the thread of one of
 * the card's events, those heard of since included, or a redaction of a comment shown), the
 * comments read again until the index shows them (`catchUpWithIndex`), and told. Events heard
 * while the list is first read, or while a comment of the user's is being sent, wait: the
 * user's own message is then known, and neither read for nor told twice.
 */
import { signal } from "@preact/signals";
import { ApiError } from "../../api/client";
import type { App } from "../../app/context";
import { localpart } from "../../app/ui";
import { catchUpWithIndex, waitUntil } from "../../publishing/await-index";
import { changeSummary, CommentFollower, listChanges } from "../../publishing/live";
import type { LiveEvent, LiveEvents } from "../../session/live";
import { cardComments } from "./api";
import { CARD_EVENT, type CardComment, type CardView } from "./types";
import type { TaskWriter } from "./writer";

/** The comments of one card, and what changes them. */
export class CardComments {
  /** The comments shown, oldest first; `null` until they are read. */
  readonly comments = signal<readonly CardComment[] | null>(null);
  /** Reading them failed. */
  readonly loadError = signal<unknown>(null);
  /** The last comment's failure to be sent. */
  readonly error = signal<unknown>(null);
  /** A comment of the user's is being sent. */
  readonly sending = signal(false);
  /**
   * The server refused a comment of the user's (403: a reader of the community, or an encrypted
   * room, which Parvis cannot write to): the form is disabled, its reason shown.
   */
  readonly refused = signal(false);
  /** The last thing said of the comments (one posted, others'), shown in the dialog too. */
  readonly notice = signal<string | null>(null);
  readonly #controller = new AbortController();
  #follower: CommentFollower | null = null;
  #catchUp: () => void = () => undefined;
  /** Heard while the comments are first read, or while the user's comment is being sent. */
  readonly #held: LiveEvent[] = [];
  #posting = false;
  #unsubscribe: () => void = () => undefined;

  constructor(
    readonly app: App,
    readonly space: string,
    /** The card's ID and, when the dialog opened, its current event. */
    readonly card: Pick<CardView, "id" | "event_id">,
    readonly writer: TaskWriter,
    /** The page's: the comments stop with it, or when `stop` is called. */
    page: AbortSignal,
  ) {
    if (page.aborted) this.#controller.abort();
    else page.addEventListener("abort", () => this.stop(), { once: true });
  }

  get #signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * Reads the comments and, when the tasks room is known, follows it until `stop`: others'
   * comments on the card are shown once the index has them.
   */
  async start(live: LiveEvents, roomId: string | null): Promise<void> {
    if (roomId) this.#unsubscribe = live.subscribe(roomId, (event) => this.#hear(event));
    let first: CardComment[];
    try {
      first = await cardComments(this.app.api, this.space, this.card.id, this.#signal);
    } catch (error) {
      if (!this.#signal.aborted) this.loadError.value = error;
      this.#unsubscribe();
      return;
    }
    if (this.#signal.aborted) return;
    // The card's events whose threads hold comments: the current one, and those commented already.
    const roots = [this.card.event_id, ...first.map((comment) => comment.thread_root)];
    const follower = new CommentFollower({ eventType: CARD_EVENT, id: this.card.id }, roots, first);
    this.#follower = follower;
    this.#catchUp = catchUpWithIndex(
      follower,
      () => cardComments(this.app.api, this.space, this.card.id, this.#signal),
      (fresh) => this.#show(fresh, true),
      { signal: this.#signal },
    );
    this.comments.value = first;
    this.#offerHeld();
  }

  /** Stops following the room and reading the comments (the dialog closed, or the page left). */
  stop(): void {
    this.#unsubscribe();
    this.#controller.abort();
  }

  #hear(event: LiveEvent): void {
    if (!this.#follower || this.#posting) this.#held.push(event);
    else if (this.#follower.offer(event)) this.#catchUp();
  }

  #offerHeld(): void {
    const follower = this.#follower;
    if (!follower) return;
    let awaited = false;
    for (const event of this.#held.splice(0)) awaited = follower.offer(event) || awaited;
    if (awaited) this.#catchUp();
  }

  /** Shows `fresh`, the index's comments; with `announce`, says who commented, or how many changed. */
  #show(fresh: readonly CardComment[], announce: boolean): void {
    const follower = this.#follower;
    if (!follower || this.#signal.aborted) return;
    const summary = changeSummary(listChanges(follower.shown, fresh, (comment) => comment.event_id));
    follower.showing(fresh);
    this.comments.value = fresh;
    if (!announce || !summary) return;
    this.#tell(
      "added" in summary
        ? this.app.t("comments.newBy", { sender: localpart(summary.added.sender) })
        : this.app.t("comments.updated", { count: summary.count }),
    );
  }

  /**
   * Said in the app's `aria-live` region, and shown in the dialog's own: while the dialog is
   * modal, the rest of the page (the app's region with it) is inert, and screen readers hear
   * only what changes inside the dialog.
   */
  #tell(message: string): void {
    this.notice.value = message;
    this.app.announce(message);
  }

  /**
   * Posts `body` (trimmed; an empty one is not sent) in the thread of `card`'s current event:
   * `true` once sent, its failure in `error` otherwise. The comments are then read until the
   * index lists it, and its posting told.
   */
  async post(card: CardView, body: string): Promise<boolean> {
    const text = body.trim();
    if (text === "" || this.sending.value || this.refused.value || !this.#follower) return false;
    this.sending.value = true;
    this.error.value = null;
    this.notice.value = null;
    this.#posting = true;
    let sent: string | null = null;
    try {
      sent = (await this.writer.commentCard(this.space, card, text)).event_id;
      // The user's own: shown once the index has it, not told as someone else's.
      this.#follower.own(sent);
    } catch (error) {
      if (!this.#signal.aborted) {
        this.error.value = error;
        if (error instanceof ApiError && error.status === 403) this.refused.value = true;
      }
    } finally {
      this.#posting = false;
      this.sending.value = false;
    }
    this.#offerHeld();
    if (sent === null) return false;
    void this.#showPosted(sent);
    return true;
  }

  /** The comments read until the index lists the user's `eventId` (at most the usual wait), then told. */
  async #showPosted(eventId: string): Promise<void> {
    const fresh = await waitUntil(
      async () => {
        const answer = await cardComments(this.app.api, this.space, this.card.id, this.#signal);
        return answer.some((comment) => comment.event_id === eventId) ? answer : undefined;
      },
      { signal: this.#signal },
    );
    if (this.#signal.aborted) return;
    if (fresh) this.#show(fresh, false);
    this.#tell(this.app.t(fresh ? "comments.sent" : "edit.pending"));
  }
}
