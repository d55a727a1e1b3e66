/**
 * `#/c/{space}/{tool}/new` and `#/c/{space}/{tool}/{id}/edit`: the editor, with a live preview
 * rendered by the server (the same renderer and sanitizer as the published page). Saving sends
 * the state event as the user (widget API or the user's own token), then waits for the index.
 */
import type { Publication, PublicationView } from "../api/types";
import type { App, PageContext } from "../app/context";
import { h, setTrustedHtml } from "../app/dom";
import { busy, field, pageHeader } from "../app/ui";
import { adjustRenderedLinks } from "../publishing/links";
import { pagesToolOf } from "../publishing/lookup";
import { flatten, pageTree, subtreeIds } from "../publishing/tree";
import { parseTags, type EditorValues, type PublicationToolDef } from "../publishing/tools";
import { links, toolOf, waitForRevision, writeTarget } from "../publishing/workflow";

/** How long typing must pause before the preview is rendered again. */
const PREVIEW_DELAY_MS = 300;

function emptyValues(parent: string): EditorValues {
  return { title: "", body: "", tags: [], parent, status: "published", category: "", order: 0, pages: [] };
}

export default async function publicationEdit(context: PageContext): Promise<() => void> {
  const { app, main, params, query, signal } = context;
  const tool = toolOf(context);
  const space = params.space as string;
  const id = params.id;
  // The objects the `parent` and `pages` pickers offer (`pagesFrom`), when the editor has either.
  const pagesTool = pagesToolOf(tool);
  const [view, revisions, pickable] = await Promise.all([
    id ? app.api.read(space, tool.tool, id, signal) : Promise.resolve(null),
    id ? app.api.revisions(space, tool.tool, id, signal) : Promise.resolve([]),
    pagesTool ? app.api.list(space, pagesTool.tool, signal) : Promise.resolve([] as Publication[]),
  ]);
  const values: EditorValues = view ? tool.valuesOf(view) : emptyValues(query.get("parent") ?? "");
  const heading = view ? app.t("edit.title", { title: view.title || app.t("common.untitled") }) : app.t(tool.labels.create);
  app.setTitle(heading, app.t(tool.labels.name));
  main.append(pageHeader(heading));

  const controls = editorControls(app, tool, values, pickable, id);
  const preview = h("div", { class: "rendered preview", id: "preview", "aria-live": "off" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let previewed = "";
  const renderPreview = async () => {
    const markdown = controls.body.value;
    if (markdown === previewed) return;
    previewed = markdown;
    try {
      const { html } = await app.api.render(markdown, signal);
      if (signal.aborted || markdown !== controls.body.value) return;
      setTrustedHtml(preview, html);
      adjustRenderedLinks(preview, space);
    } catch {
      previewed = "";
      preview.replaceChildren(h("p", { class: "hint" }, app.t("edit.previewFailed")));
    }
  };
  controls.body.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => void renderPreview(), PREVIEW_DELAY_MS);
  });

  const status = h("div", { class: "form-status", "aria-live": "polite" });
  const form: HTMLFormElement = h(
    "form",
    {
      class: "editor",
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const next = controls.values();
        if (!next.title.trim()) {
          controls.title.focus();
          return;
        }
        await busy(form, status, app, async () => {
          const target = await writeTarget(app, space, tool, view?.room_id);
          const base = revisions[revisions.length - 1]?.content;
          const content = tool.contentOf(next, { slug: view?.slug, base, now: Date.now() });
          const written = id
            ? await app.writer.update(target, id, content)
            : await app.writer.create(target, content);
          status.replaceChildren(h("p", null, app.t("edit.saved")));
          const seen = await waitForRevision(app, space, tool, written.id, written.eventId, signal);
          if (signal.aborted) return;
          app.announce(seen ? app.t("edit.savedDone") : app.t("edit.pending"));
          app.navigate(links.read(tool, space, written.id));
        });
      },
    },
    controls.fields,
    h(
      "div",
      { class: "editor-body" },
      h("div", { class: "editor-source" }, field(app.t(tool.labels.body), controls.body, app.t("edit.markdownHint"))),
      h(
        "section",
        { class: "editor-preview", "aria-labelledby": "preview-title" },
        h("h2", { id: "preview-title" }, app.t("edit.preview")),
        preview,
      ),
    ),
    status,
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", "data-action": "save" }, app.t("edit.save")),
      h("a", { class: "button secondary", href: id ? links.read(tool, space, id) : links.list(tool, space) }, app.t("edit.cancel")),
    ),
  );
  main.append(form);
  void renderPreview();
  controls.title.focus();
  return () => clearTimeout(timer);
}

interface EditorControls {
  fields: HTMLElement[];
  title: HTMLInputElement;
  body: HTMLTextAreaElement;
  values(): EditorValues;
}

function editorControls(
  app: App,
  tool: PublicationToolDef,
  values: EditorValues,
  pickable: Publication[],
  id: string | undefined,
): EditorControls {
  const title = h("input", { type: "text", name: "title", required: true, value: values.title, maxlength: 200 });
  const body = h("textarea", { name: "body", rows: 18, spellcheck: "true" });
  body.value = values.body;
  const tags = h("input", { type: "text", name: "tags", value: values.tags.join(", ") });
  const category = h("input", { type: "text", name: "category", value: values.category });
  const order = h("input", { type: "number", name: "order", value: values.order, step: 1 });
  const status = h(
    "select",
    { name: "status" },
    h("option", { value: "published", selected: values.status === "published" }, app.t("publication.published")),
    h("option", { value: "draft", selected: values.status === "draft" }, app.t("publication.draft")),
  );
  // A page cannot be put under itself or one of its own descendants.
  const excluded = id ? subtreeIds(pickable, id) : new Set<string>();
  const parent = h(
    "select",
    { name: "parent" },
    h("option", { value: "" }, app.t("edit.noParent")),
    flatten(pageTree(pickable.filter((page: Publication | PublicationView) => !excluded.has(page.object_id)))).map(
      ({ item, depth }) =>
        h(
          "option",
          { value: item.object_id, selected: item.object_id === values.parent },
          `${"\u2003".repeat(depth)}${item.title || app.t("common.untitled")}`,
        ),
    ),
  );

  const pages = pagesPicker(app, tool, pickable, values.pages);
  const fields: HTMLElement[] = [];
  for (const name of tool.fields) {
    if (name === "title") fields.push(field(app.t(tool.labels.title), title));
    if (name === "tags") fields.push(field(app.t("field.tags"), tags, app.t("edit.tagsHint")));
    if (name === "parent") fields.push(field(app.t("field.parent"), parent));
    if (name === "status") fields.push(field(app.t("field.status"), status));
    if (name === "category") fields.push(field(app.t("field.category"), category));
    if (name === "order") fields.push(field(app.t("field.order"), order));
    if (name === "pages") fields.push(pages.element);
  }
  return {
    fields: [h("div", { class: "editor-fields" }, fields)],
    title,
    body,
    values: () => ({
      title: title.value,
      body: body.value,
      tags: parseTags(tags.value),
      parent: parent.value,
      status: status.value === "draft" ? "draft" : "published",
      category: category.value,
      order: Number.parseInt(order.value, 10) || 0,
      pages: pages.value(),
    }),
  };
}

/**
 * The ordered pages of an object (`pages`, among `pickable`): a list with move up / move down / remove buttons, and a select
 * to add a page (labelled by the tool: `labels.addPage`). Buttons, not drag and drop, so it works with a keyboard and a
 * screen reader.
 */
function pagesPicker(
  app: App,
  tool: PublicationToolDef,
  pickable: Publication[],
  initial: string[],
): { element: HTMLElement; value(): string[] } {
  const titles = new Map(pickable.map((page) => [page.object_id, page.title || app.t("common.untitled")]));
  let chosen = [...initial];
  const list = h("ol", { class: "picked-pages", id: "picked-pages" });
  const add = h(
    "select",
    { name: "add-page" },
    flatten(pageTree(pickable)).map(({ item, depth }) =>
      h("option", { value: item.object_id }, `${"\u2003".repeat(depth)}${titles.get(item.object_id)}`),
    ),
  );
  const draw = (focus?: string) => {
    list.replaceChildren(
      ...chosen.map((id, index) => {
        const title = titles.get(id) ?? app.t("publication.missingPage", { id });
        const button = (label: string, action: string, disabled: boolean, change: () => void) =>
          h(
            "button",
            {
              type: "button",
              class: "secondary",
              "data-action": action,
              "aria-label": `${label} — ${title}`,
              disabled,
              onclick: () => {
                change();
                draw(disabled ? undefined : `${action}-${index}`);
              },
            },
            label,
          );
        return h(
          "li",
          null,
          h("span", null, title),
          h(
            "span",
            { class: "revision-actions" },
            button(app.t("publication.moveUp"), "up", index === 0, () => {
              [chosen[index - 1], chosen[index]] = [chosen[index] as string, chosen[index - 1] as string];
            }),
            button(app.t("publication.moveDown"), "down", index === chosen.length - 1, () => {
              [chosen[index + 1], chosen[index]] = [chosen[index] as string, chosen[index + 1] as string];
            }),
            button(app.t("publication.remove"), "remove", false, () => {
              chosen = chosen.filter((_, at) => at !== index);
            }),
          ),
        );
      }),
    );
    if (chosen.length === 0) list.append(h("li", { class: "empty" }, app.t("publication.noPages")));
    if (focus) list.querySelectorAll<HTMLButtonElement>("button:not([disabled])")[0]?.focus();
  };
  draw();
  const element = h(
    "fieldset",
    { class: "field pages-picker" },
    h("legend", null, app.t("field.pages")),
    list,
    h(
      "div",
      { class: "search-form" },
      field(app.t(tool.labels.addPage ?? "field.pages"), add),
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          disabled: pickable.length === 0,
          onclick: () => {
            if (add.value && !chosen.includes(add.value)) chosen.push(add.value);
            draw();
          },
        },
        app.t("publication.add"),
      ),
    ),
  );
  return { element, value: () => [...chosen] };
}
