/**
 * `#/login?next=…`: the standalone app's sign-in with the Matrix account (password login at
 * the homeserver; the homeserver proposed is the one Parvis serves, from `GET /api/v1/info`).
 */
import type { PageContext } from "../app/context";
import { h } from "../app/dom";
import { busy, field, pageHeader } from "../app/ui";
import { StandaloneIdentity } from "../session/identity";

/** Where to go after signing in: only the app's own routes. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("#/") || next.startsWith("#/login")) return "#/";
  return next;
}

export default async function login({ app, main, query, signal }: PageContext): Promise<void> {
  app.setTitle(app.t("login.title"));
  main.append(pageHeader(app.t("login.title")));
  const identity = app.identity;
  if (!(identity instanceof StandaloneIdentity)) {
    main.append(h("p", null, app.t("login.inWidget")), h("p", null, h("a", { href: "#/" }, app.t("notFound.back"))));
    return;
  }
  const next = safeNext(query.get("next"));
  if (identity.session) {
    main.append(
      h("p", null, app.t("login.already", { user: identity.session.userId })),
      h("p", null, h("a", { href: next }, app.t("login.continue"))),
    );
    return;
  }

  const homeserver = h("input", { type: "url", name: "homeserver", required: true, autocomplete: "url", inputmode: "url" });
  const user = h("input", { type: "text", name: "username", required: true, autocomplete: "username", autocapitalize: "none", spellcheck: "false" });
  const password = h("input", { type: "password", name: "password", required: true, autocomplete: "current-password" });
  const status = h("div", { class: "form-status" });
  const form: HTMLFormElement = h(
    "form",
    {
      class: "login-form",
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const session = await busy(form, status, app, () => identity.signIn(homeserver.value, user.value, password.value));
        if (session) {
          password.value = "";
          app.announce(app.t("login.done", { user: session.userId }));
          app.navigate(next);
        }
      },
    },
    field(app.t("login.homeserver"), homeserver, app.t("login.homeserverHint")),
    field(app.t("login.user"), user, app.t("login.userHint")),
    field(app.t("login.password"), password),
    status,
    h("button", { type: "submit" }, app.t("login.submit")),
  );
  main.append(h("p", null, app.t("login.intro")), form);

  try {
    // The shell asked for it already (the deployment's theme): the same answer.
    const info = await app.info();
    if (signal.aborted) return;
    if (!homeserver.value && info.homeserver_url) homeserver.value = info.homeserver_url;
    user.placeholder = `@alice:${info.server_name}`;
  } catch {
    // Without /api/v1/info the user types the homeserver's address.
  }
}
