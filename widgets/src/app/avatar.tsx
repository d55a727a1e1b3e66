/**
 * A member's avatar, for the tool UIs written with Preact (loaded with them, never by the
 * shell): the picture `GET /api/v1/communities/{space}/avatars/{user}` serves, else the member's
 * initials. The call needs the user's token, which an `<img src>` would not send, so the picture
 * is fetched through the app's `ApiClient` and shown from an object URL. Each member's picture
 * is asked for once per page load, however many times it is shown (a board of 1,000 cards
 * assigned to three people asks three times), and a member without one (404), or a picture that
 * could not be read, is remembered too: their initials, without asking again.
 *
 * The avatar is decorative (`aria-hidden`, `alt=""`): whoever shows it says who the member is
 * in text beside it.
 */
import { useEffect, useState } from "preact/hooks";
import { apiPath, type ApiClient } from "../api/client";

/** `@alice.martin:hs` → `AM`, `@bob:hs` → `BO`: a person's initials, when there is no picture. */
export function initials(userId: string): string {
  const local = /^@([^:]+)/.exec(userId)?.[1] ?? userId;
  const words = local.split(/[._\-=/]+/).filter(Boolean);
  const letters = words.length > 1 ? `${words[0]?.[0] ?? ""}${words[1]?.[0] ?? ""}` : local.slice(0, 2);
  return letters.toUpperCase();
}

/** A member's picture being fetched, then its object URL (`null`: none, or unreadable). */
interface Picture {
  readonly url: Promise<string | null>;
  /** Once `url` has settled: what it gave, for the next avatar to draw at once. */
  settled?: string | null;
}

/**
 * The pictures asked for, by community and member, for each API client (the app has one, so
 * one per page load; a test's own client starts afresh). Their object URLs live as long as the
 * page: each is drawn again wherever the member appears.
 */
const pictures = new WeakMap<ApiClient, Map<string, Picture>>();

/** A picture's key: a room ID and a user ID hold no line break. */
const keyOf = (space: string, user: string) => `${space}\n${user}`;

/** The member's picture, asked for the first time it is needed only. */
function pictureOf(api: ApiClient, space: string, user: string): Picture {
  let known = pictures.get(api);
  if (!known) {
    known = new Map();
    pictures.set(api, known);
  }
  const key = keyOf(space, user);
  let picture = known.get(key);
  if (!picture) {
    const url = api
      .download(apiPath("communities", space, "avatars", user), { accept: "image/*" })
      .then((response) => response.blob())
      .then((blob) => (blob.type.startsWith("image/") ? URL.createObjectURL(blob) : null))
      // 404 (no avatar), 403, a network failure: the initials, until the page is loaded again.
      .catch(() => null);
    const entry: Picture = { url };
    void url.then((settled) => (entry.settled = settled));
    known.set(key, entry);
    picture = entry;
  }
  return picture;
}

/** A member's URL of their picture (`null` without one), fetched at most once per page load. */
export function memberPicture(api: ApiClient, space: string, user: string): Promise<string | null> {
  return pictureOf(api, space, user).url;
}

/** A member's avatar in a community: their picture once fetched, their initials meanwhile and without one. */
export function Avatar({ api, space, user }: { api: ApiClient; space: string; user: string }) {
  // Asked for as it is first drawn, whichever avatar draws the member first; drawn at once when
  // already fetched (another board, a card's dialog).
  const picture = pictureOf(api, space, user);
  const url = picture.settled;
  const [, redraw] = useState(0);
  // A picture the browser could not decode: the initials instead.
  const [broken, setBroken] = useState<string | null>(null);
  useEffect(() => {
    let shown = true;
    void picture.url.then(() => shown && picture.settled !== url && redraw((count) => count + 1));
    return () => {
      shown = false;
    };
  }, [picture, url]);
  return (
    <span class="avatar" aria-hidden="true">
      {url && url !== broken ? <img src={url} alt="" onError={() => setBroken(url)} /> : initials(user)}
    </span>
  );
}
