/**
 * On the community's home: its most recommended objects, each linking to its page, with its
 * counts. Nothing is shown while nothing has been recommended. A Preact component like the
 * object panel. While shown it follows the community's rooms: others' 👍 and ⭐ and their
 * withdrawals (`RecommendedFollower`) bring the list up to date once the index has them, the
 * list in a signal, so Preact changes only what changed (links keep the focus).
 */
import { signal as createSignal, type ReadonlySignal } from "@preact/signals";
import { render } from "preact";
import type { App, PageContext } from "../../app/context";
import type { CommunityRef } from "../../app/registry";
import { catchUpWithIndex } from "../../publishing/await-index";
import { mostRecommended } from "./api";
import { reactionDef, RecommendedFollower } from "./reactions";
import type { RecommendedObject } from "./types";
import "./likes.css";

/** How many objects the section lists. */
const LIMIT = 10;

export default async function mostRecommendedSection(context: PageContext, community: CommunityRef, container: HTMLElement): Promise<void> {
  const { app, signal } = context;
  const { objects: initial } = await mostRecommended(app.api, community.space, LIMIT, signal);
  if (signal.aborted) return;
  const objects = createSignal<readonly RecommendedObject[]>(initial);
  const follower = new RecommendedFollower(initial);
  const catchUp = catchUpWithIndex(
    follower,
    async () => (await mostRecommended(app.api, community.space, LIMIT, signal)).objects,
    (fresh) => {
      follower.showing(fresh);
      objects.value = fresh;
    },
    { signal },
  );
  const unsubscribes = community.rooms.map((room) =>
    app.live.subscribe(room, (event) => {
      if (follower.offer(event)) catchUp();
    }),
  );
  signal.addEventListener(
    "abort",
    () => {
      unsubscribes.forEach((unsubscribe) => unsubscribe());
      render(null, container);
    },
    { once: true },
  );
  render(<LiveMostRecommended app={app} space={community.space} objects={objects} />, container);
}

/** The list as the signal holds it; nothing while it is empty. */
function LiveMostRecommended({ app, space, objects }: { app: App; space: string; objects: ReadonlySignal<readonly RecommendedObject[]> }) {
  const current = objects.value;
  return current.length === 0 ? null : <MostRecommended app={app} space={space} objects={current} />;
}

export function MostRecommended({ app, space, objects }: { app: App; space: string; objects: readonly RecommendedObject[] }) {
  return (
    <section class="most-recommended" aria-labelledby="recommended-title">
      <h2 id="recommended-title">{app.t("likes.mostRecommended")}</h2>
      <ol class="plain-list">
        {objects.map((item) => {
          const title = item.title || app.t("common.untitled");
          const href = app.registry.objectLink(item.tool, space, item.id);
          const label = app.registry.tool(item.tool)?.label;
          return (
            <li key={`${item.tool}/${item.id}`}>
              {href ? <a href={href}>{title}</a> : title}
              <p class="meta">
                {label && <span class="badge">{app.t(label)}</span>} <Counts app={app} item={item} />
              </p>
            </li>
          );
        })}
      </ol>
    </section>
  );
}

/** `⭐ 3 recommendations · 👍 5 likes`, the emoji hidden from screen readers (the words say it). */
function Counts({ app, item }: { app: App; item: RecommendedObject }) {
  const [recommend, like] = (["recommend", "like"] as const).map((reaction) => {
    const def = reactionDef(reaction);
    return (
      <span class="reaction-total" data-reaction={reaction}>
        <span aria-hidden="true">{def.key}</span> {app.t(def.countText, { count: item[def.count] })}
      </span>
    );
  });
  return (
    <span class="reaction-totals">
      {recommend} · {like}
    </span>
  );
}
