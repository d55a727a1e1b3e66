/**
 * Who the user is and what token the API calls carry, in either mode.
 */
import type { ApiClient, Fetch } from "../api/client";
import { logout, passwordLogin } from "./homeserver";
import type { SessionStore, StandaloneSession } from "./store";
import type { WidgetSession } from "./widget";

/** The signed-in user, in widget or standalone mode. */
export interface Identity {
  readonly mode: "widget" | "standalone";
  /** The bearer token of API calls, when signed in. */
  token(): string | null;
  userId(): string | null;
  /**
   * Makes sure there is a token: in widget mode, signs in with an OpenID token (once); in
   * standalone mode, resolves `false` when the user must go to `#/login`.
   */
  ensureSignedIn(api: ApiClient): Promise<boolean>;
  /** After a 401: gets a new token if the mode can (widget), else forgets the session. */
  renew(api: ApiClient): Promise<boolean>;
  /** Listens to sign-in and sign-out. */
  onChange(listener: () => void): () => void;
}

abstract class Listeners {
  readonly #listeners = new Set<() => void>();
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  protected changed(): void {
    for (const listener of this.#listeners) listener();
  }
}

/** Inside Element. */
export class WidgetIdentity extends Listeners implements Identity {
  readonly mode = "widget";
  constructor(readonly widget: WidgetSession) {
    super();
  }
  token(): string | null {
    return this.widget.token;
  }
  userId(): string | null {
    return this.widget.userId ?? this.widget.params.userId ?? null;
  }
  async ensureSignedIn(api: ApiClient): Promise<boolean> {
    if (this.widget.token) return true;
    await this.widget.signIn(api);
    this.changed();
    return true;
  }
  async renew(api: ApiClient): Promise<boolean> {
    await this.widget.signIn(api);
    return true;
  }
}

/** The standalone web app, signed in with the Matrix account. */
export class StandaloneIdentity extends Listeners implements Identity {
  readonly mode = "standalone";
  #session: StandaloneSession | null;

  constructor(
    private readonly store: SessionStore,
    private readonly fetchFn: Fetch,
  ) {
    super();
    this.#session = store.load();
  }

  get session(): StandaloneSession | null {
    return this.#session;
  }
  token(): string | null {
    return this.#session?.accessToken ?? null;
  }
  userId(): string | null {
    return this.#session?.userId ?? null;
  }
  async ensureSignedIn(): Promise<boolean> {
    return this.#session !== null;
  }
  async renew(): Promise<boolean> {
    // The homeserver no longer knows the token: the user signs in again.
    this.#forget();
    return false;
  }

  /** Signs in with a password at the homeserver. */
  async signIn(homeserver: string, user: string, password: string): Promise<StandaloneSession> {
    const session = await passwordLogin(this.fetchFn, homeserver, user, password);
    this.#session = session;
    this.store.save(session);
    this.changed();
    return session;
  }

  /** Logs the access token out at the homeserver (best effort) and forgets it. */
  async signOut(): Promise<void> {
    const session = this.#session;
    try {
      if (session) await logout(this.fetchFn, session);
    } finally {
      this.#forget();
    }
  }

  #forget(): void {
    this.#session = null;
    this.store.clear();
    this.changed();
  }
}
