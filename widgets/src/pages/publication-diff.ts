/**
 * `#/c/{space}/{tool}/{id}/diff?from=&to=`: what changed between two revisions, line by line,
 * as the server computes it. Added and removed lines are told by a word, not only by colour.
 */
import type { DiffLine, Revision } from "../api/types";
import type { App, PageContext } from "../app/context";
import { h } from "../app/dom";
import { field, pageHeader } from "../app/ui";
import { links, toolOf } from "../publishing/workflow";

export default async function publicationDiff(context: PageContext): Promise<void> {
  const { app, main, params, query, signal } = context;
  const tool = toolOf(context);
  const space = params.space as string;
  const id = params.id as string;
  const [view, revisions] = await Promise.all([
    app.api.read(space, tool.tool, id, signal),
    app.api.revisions(space, tool.tool, id, signal),
  ]);
  const last = revisions[revisions.length - 1];
  const from = query.get("from") ?? revisions[revisions.length - 2]?.event_id ?? last?.event_id ?? "";
  const to = query.get("to") ?? last?.event_id ?? "";
  const lines = from && to ? await app.api.diff(space, tool.tool, id, from, to, signal) : [];
  if (signal.aborted) return;
  const title = view.title || app.t("common.untitled");
  app.setTitle(app.t("diff.title", { title }), app.t(tool.labels.name));
  main.append(
    pageHeader(app.t("diff.title", { title }), h("a", { class: "button secondary", href: links.read(tool, space, id) }, app.t("diff.back"))),
    chooser(app, revisions, from, to, (nextFrom, nextTo) => app.navigate(links.diff(tool, space, id, nextFrom, nextTo))),
    summary(app, lines),
    diffTable(app, lines),
  );
}

function revisionLabel(app: App, revisions: Revision[], revision: Revision): string {
  const number = revisions.indexOf(revision) + 1;
  return `${app.t("read.revision", { n: number })} — ${app.i18n.dateTime(revision.origin_server_ts)}`;
}

function chooser(app: App, revisions: Revision[], from: string, to: string, go: (from: string, to: string) => void): HTMLElement {
  const select = (name: string, selected: string) =>
    h(
      "select",
      { name },
      revisions.map((revision) =>
        h("option", { value: revision.event_id, selected: revision.event_id === selected }, revisionLabel(app, revisions, revision)),
      ),
    );
  const fromSelect = select("from", from);
  const toSelect = select("to", to);
  return h(
    "form",
    {
      class: "diff-chooser",
      onsubmit: (event: Event) => {
        event.preventDefault();
        go(fromSelect.value, toSelect.value);
      },
    },
    field(app.t("diff.from"), fromSelect),
    field(app.t("diff.to"), toSelect),
    h("button", { type: "submit" }, app.t("diff.show")),
  );
}

function summary(app: App, lines: DiffLine[]): HTMLElement {
  const added = lines.filter((line) => line.op === "added").length;
  const removed = lines.filter((line) => line.op === "removed").length;
  return h("p", { class: "diff-summary", role: "status" }, app.t("diff.summary", { added, removed }));
}

function diffTable(app: App, lines: DiffLine[]): HTMLElement {
  const marks: Record<DiffLine["op"], string> = { same: " ", added: "+", removed: "−" };
  const words: Record<DiffLine["op"], string> = {
    same: "",
    added: app.t("diff.added"),
    removed: app.t("diff.removed"),
  };
  return h(
    "div",
    { class: "diff", role: "region", "aria-label": app.t("diff.changes"), tabindex: "0" },
    lines.map((line) =>
      h(
        line.op === "added" ? "ins" : line.op === "removed" ? "del" : "div",
        { class: `diff-line ${line.op}` },
        h("span", { class: "diff-mark", "aria-hidden": "true" }, marks[line.op]),
        words[line.op] ? h("span", { class: "visually-hidden" }, `${words[line.op]}: `) : null,
        h("span", { class: "diff-text" }, line.text || "\u00a0"),
      ),
    ),
  );
}
