/**
 * The few client-server API calls of the standalone app: password login and logout
 * (Matrix client-server API, `/_matrix/client/v3/login` and `/logout`).
 */
import { ApiError, requestJson, type Fetch } from "../api/client";
import type { StandaloneSession } from "./store";

/** `https://matrix.example.org/` or `matrix.example.org` → `https://matrix.example.org`. */
export function normalizeHomeserverUrl(input: string): string {
  let value = input.trim();
  if (value === "") throw new ApiError(0, "M_INVALID_PARAM", "homeserver URL is empty");
  if (!/^https?:\/\//i.test(value)) value = `https://${value}`;
  const url = new URL(value);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}

/** Login answer (client-server API, `POST /login`). */
interface LoginResponse {
  access_token: string;
  user_id: string;
  device_id?: string;
}

/** `POST {homeserver}/_matrix/client/v3/login` with `m.login.password` and an `m.id.user` identifier. */
export async function passwordLogin(
  fetchFn: Fetch,
  homeserverInput: string,
  user: string,
  password: string,
): Promise<StandaloneSession> {
  const homeserver = normalizeHomeserverUrl(homeserverInput);
  const response = await requestJson<LoginResponse>(fetchFn, "POST", `${homeserver}/_matrix/client/v3/login`, {
    body: {
      type: "m.login.password",
      identifier: { type: "m.id.user", user: user.trim() },
      password,
      initial_device_display_name: "Parvis (web)",
    },
  });
  if (typeof response?.access_token !== "string" || typeof response.user_id !== "string") {
    throw new ApiError(200, "ORG.PARVIS_BAD_RESPONSE", "the homeserver's login answer has no access token");
  }
  const session: StandaloneSession = {
    homeserver,
    accessToken: response.access_token,
    userId: response.user_id,
  };
  if (response.device_id) session.deviceId = response.device_id;
  return session;
}

/** `POST {homeserver}/_matrix/client/v3/logout`: the access token stops working. */
export async function logout(fetchFn: Fetch, session: StandaloneSession): Promise<void> {
  await requestJson(fetchFn, "POST", `${session.homeserver}/_matrix/client/v3/logout`, {
    body: {},
    token: session.accessToken,
  });
}
