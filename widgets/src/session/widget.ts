/**
 * Widget mode: the app runs in Element's iframe and talks to Element through the widget API
 * (`matrix-widget-api`). It proves who the user is with an OpenID token, exchanged once for a
 * Parvis session token (renewed when it expires), writes as the user through Element, and hears
 * of new room events from Element (those the tools' receive capabilities allow).
 */
import { WidgetApi, WidgetApiToWidgetAction, type IOpenIDCredentials } from "matrix-widget-api";
import type { ApiClient } from "../api/client";
import { ApiError } from "../api/client";
import type { OpenIdToken } from "../api/types";
import { feedFromWidget, type LiveEvent } from "./live";
import type { WidgetParams } from "./params";

/** How long Element may take to negotiate capabilities before the app says so. */
const READY_TIMEOUT_MS = 30_000;

/** The widget's connection to Element and its Parvis session. */
export class WidgetSession {
  readonly api: WidgetApi;
  readonly params: WidgetParams;
  /** Resolves once Element has answered the capability negotiation. */
  readonly ready: Promise<void>;
  #token: string | null = null;
  #userId: string | null = null;
  #signingIn: Promise<string> | null = null;
  readonly #eventListeners = new Set<(event: LiveEvent) => void>();

  /**
   * Starts the widget API at once: Element asks for capabilities as soon as the frame has
   * loaded (`waitForIframeLoad`), so this must run before the page's load event. `capabilities`
   * are what the tools need (`toolCapabilities` of `capabilities.ts`).
   */
  constructor(params: WidgetParams, capabilities: readonly string[]) {
    this.params = params;
    this.api = new WidgetApi(params.widgetId, params.parentOrigin);
    this.api.requestCapabilities([...capabilities]);
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new ApiError(0, "ORG.PARVIS_WIDGET_TIMEOUT", "Element did not answer the widget")),
        READY_TIMEOUT_MS,
      );
      this.api.once("ready", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    // Element tells widgets its theme and language; the app follows its own settings.
    this.api.on(`action:${WidgetApiToWidgetAction.ThemeChange}`, (event: CustomEvent) => {
      event.preventDefault();
      this.api.transport.reply(event.detail, {});
    });
    // Events Element pushes: dropped while nothing listens (no page follows a room yet).
    feedFromWidget(this.api, (event) => {
      for (const listener of this.#eventListeners) listener(event);
    });
    this.api.start();
  }

  /** Calls `listener` with each room event Element pushes, until the returned function is called. */
  onRoomEvent(listener: (event: LiveEvent) => void): () => void {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  /** The Parvis session token, once signed in. */
  get token(): string | null {
    return this.#token;
  }

  /** The user, as Parvis verified them. */
  get userId(): string | null {
    return this.#userId;
  }

  /**
   * Asks Element for an OpenID token (Element may ask the user first), and exchanges it at
   * `POST /api/v1/auth/openid`. Concurrent callers share one exchange.
   */
  signIn(client: ApiClient): Promise<string> {
    this.#signingIn ??= (async () => {
      try {
        await this.ready;
        let credentials: IOpenIDCredentials;
        try {
          credentials = await this.api.requestOpenIDConnectToken();
        } catch (error) {
          throw new ApiError(403, "ORG.PARVIS_OPENID_REFUSED", error instanceof Error ? error.message : String(error));
        }
        const grant = await client.exchangeOpenId(openIdToken(credentials));
        this.#token = grant.session_token;
        this.#userId = grant.user_id;
        return grant.user_id;
      } finally {
        this.#signingIn = null;
      }
    })();
    return this.#signingIn;
  }

  /**
   * Arguments for a write to `roomId`: a write to the widget's own room goes without a room
   * ID; another room needs the timeline capability for it, asked for now (MSC2974).
   */
  async roomArgument(roomId: string): Promise<string | undefined> {
    if (!this.params.roomId || roomId === this.params.roomId) return undefined;
    const capability = `org.matrix.msc2762.timeline:${roomId}`;
    if (!this.api.hasCapability(capability)) {
      this.api.requestCapabilityForRoomTimeline(roomId);
      await this.api.updateRequestedCapabilities();
    }
    return roomId;
  }
}

/** The token object `POST /api/v1/auth/openid` takes, from what Element gave. */
export function openIdToken(credentials: IOpenIDCredentials): OpenIdToken {
  if (!credentials.access_token || !credentials.matrix_server_name) {
    throw new ApiError(403, "ORG.PARVIS_OPENID_REFUSED", "Element gave no OpenID token");
  }
  return {
    access_token: credentials.access_token,
    token_type: credentials.token_type ?? "Bearer",
    matrix_server_name: credentials.matrix_server_name,
    expires_in: credentials.expires_in ?? 3600,
  };
}
