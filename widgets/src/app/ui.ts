/**
 * Pieces every page uses: headings, loading and error states, people and dates.
 */
import { ApiError } from "../api/client";
import type { App } from "./context";
import { h, type Child } from "./dom";

/** The page's heading (`h1`, focused after navigation) and its actions. */
export function pageHeader(title: string, ...actions: Child[]): HTMLElement {
  return h(
    "div",
    { class: "page-header" },
    h("h1", { tabindex: "-1", id: "page-title" }, title),
    actions.some(Boolean) ? h("div", { class: "actions" }, ...actions) : null,
  );
}

/** A "loading" line, announced politely. */
export function loading(app: App): HTMLElement {
  return h("p", { class: "loading", role: "status" }, app.t("common.loading"));
}

/** A person's error message for anything thrown. */
export function errorMessage(app: App, error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return app.t("error.network", { detail: error.message });
    return error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

/** An error box (`role="alert"`): the server's `error` text, and a way back to sign in when it is about that. */
export function errorBox(app: App, error: unknown): HTMLElement {
  const box = h("div", { class: "error", role: "alert" }, h("p", null, errorMessage(app, error)));
  if (error instanceof ApiError && error.status === 401 && app.identity.mode === "standalone") {
    box.append(h("p", null, h("a", { href: "#/login" }, app.t("login.again"))));
  }
  return box;
}

/** `@alice:example.org` → `alice`. */
export function localpart(userId: string): string {
  return /^@([^:]+):/.exec(userId)?.[1] ?? userId;
}

/** `@alice:example.org` → `alice`, with the full ID as a tooltip. */
export function person(userId: string): HTMLElement {
  return h("span", { class: "person", title: userId }, localpart(userId));
}

/** A `<time>` element. */
export function time(app: App, ms: number): HTMLElement {
  return h("time", { datetime: new Date(ms).toISOString() }, app.i18n.dateTime(ms));
}

/** A list of tags. */
export function tagList(app: App, tags: string[]): HTMLElement | null {
  if (tags.length === 0) return null;
  return h(
    "ul",
    { class: "tags", "aria-label": app.t("field.tags") },
    tags.map((tag) => h("li", null, tag)),
  );
}

/** A form field: label, control, optional hint, all tied together by ids. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || `field-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const wrapper = h("div", { class: "field" }, h("label", { for: id }, label), control);
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    wrapper.append(h("p", { class: "hint", id: hintId }, hint));
  }
  return wrapper;
}

/** Disables a form's controls while `work` runs; shows its error in `status`. */
export async function busy<T>(form: HTMLFormElement, status: HTMLElement, app: App, work: () => Promise<T>): Promise<T | undefined> {
  const controls = Array.from(form.querySelectorAll<HTMLButtonElement | HTMLInputElement>("button, input, textarea, select"));
  const wasDisabled = controls.map((control) => control.disabled);
  controls.forEach((control) => (control.disabled = true));
  form.setAttribute("aria-busy", "true");
  status.replaceChildren();
  try {
    return await work();
  } catch (error) {
    status.replaceChildren(errorBox(app, error));
    return undefined;
  } finally {
    controls.forEach((control, index) => (control.disabled = wasDisabled[index] ?? false));
    form.removeAttribute("aria-busy");
  }
}
