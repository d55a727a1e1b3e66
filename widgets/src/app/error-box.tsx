/**
 * `errorBox` of `ui.ts` as a Preact component, for the tool UIs written with Preact (loaded
 * with them, never by the shell): the same `role="alert"` box, the same words.
 */
import { ApiError } from "../api/client";
import type { App } from "./context";
import { errorMessage } from "./ui";

export function ErrorBox({ app, error }: { app: App; error: unknown }) {
  const signInAgain = error instanceof ApiError && error.status === 401 && app.identity.mode === "standalone";
  return (
    <div class="error" role="alert">
      <p>{errorMessage(app, error)}</p>
      {signInAgain && (
        <p>
          <a href="#/login">{app.t("login.again")}</a>
        </p>
      )}
    </div>
  );
}
