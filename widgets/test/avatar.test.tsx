// @vitest-environment happy-dom
/**
 * A member's avatar (`app/avatar.tsx`), in a DOM, against a fake `fetch` that counts its calls:
 * the picture once fetched with the user's token, the initials meanwhile and without one (404,
 * a failure, an answer that is no image), and one fetch per member of a community however many
 * avatars show them, a missing picture remembered too.
 */
import { render } from "preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiClient } from "../src/api/client";
import { Avatar, initials, memberPicture } from "../src/app/avatar";

const SPACE = "!s:hs";

/** A Parvis serving the avatars of `pictures` (Matrix ID → media type); every other member's is 404. */
function setup(pictures: Record<string, string> = {}, options: { offline?: boolean } = {}) {
  const asked: { url: string; auth: string | undefined }[] = [];
  const api = new ApiClient({
    baseUrl: "",
    token: () => "tok",
    fetch: async (url, init) => {
      asked.push({ url, auth: (init?.headers as Record<string, string>).Authorization });
      if (options.offline) throw new TypeError("Failed to fetch");
      const user = decodeURIComponent(url.split("/").pop() ?? "");
      const type = pictures[user];
      if (!type) return new Response(JSON.stringify({ errcode: "M_NOT_FOUND", error: "no avatar" }), { status: 404 });
      return new Response(new Uint8Array([137, 80, 78, 71]), { headers: { "Content-Type": type } });
    },
  });
  let made = 0;
  vi.stubGlobal("URL", Object.assign(URL, { createObjectURL: () => `blob:avatar-${++made}`, revokeObjectURL: () => undefined }));
  const container = document.createElement("div");
  document.body.append(container);
  return { api, asked, container };
}

/** Lets the fetches settle and Preact draw what they changed. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

afterEach(() => {
  document.body.replaceChildren();
  vi.unstubAllGlobals();
});

describe("a member's avatar", () => {
  it("shows the initials, then the picture fetched with the user's token, decorative", async () => {
    const { api, asked, container } = setup({ "@bob:hs": "image/png" });
    render(<Avatar api={api} space={SPACE} user="@bob:hs" />, container);
    const avatar = container.querySelector(".avatar");
    expect(avatar?.getAttribute("aria-hidden")).toBe("true");
    expect(avatar?.textContent).toBe("BO");
    await vi.waitFor(() => expect(container.querySelector("img")).not.toBeNull());
    const img = container.querySelector("img");
    expect(img?.getAttribute("src")).toBe("blob:avatar-1");
    expect(img?.getAttribute("alt")).toBe("");
    expect(container.querySelector(".avatar")?.textContent).toBe("");
    expect(asked).toEqual([{ url: "/api/v1/communities/!s%3Ahs/avatars/%40bob%3Ahs", auth: "Bearer tok" }]);
  });

  it("keeps the initials of a member without a picture (404)", async () => {
    const { api, asked, container } = setup();
    render(<Avatar api={api} space={SPACE} user="@alice.martin:hs" />, container);
    await vi.waitFor(() => expect(asked).toHaveLength(1));
    await settle();
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector(".avatar")?.textContent).toBe("AM");
  });

  it("asks once per member of a community, however many avatars show them, a 404 remembered too", async () => {
    const { api, asked, container } = setup({ "@bob:hs": "image/webp" });
    const people = ["@bob:hs", "@carol:hs"];
    render(
      <ul>
        {Array.from({ length: 1000 }, (_, index) => (
          <li key={index}>
            <Avatar api={api} space={SPACE} user={people[index % 2] as string} />
          </li>
        ))}
      </ul>,
      container,
    );
    await vi.waitFor(() => expect(container.querySelectorAll("img")).toHaveLength(500));
    await settle();
    expect(asked.map((call) => call.url).sort()).toEqual([
      "/api/v1/communities/!s%3Ahs/avatars/%40bob%3Ahs",
      "/api/v1/communities/!s%3Ahs/avatars/%40carol%3Ahs",
    ]);
    // Every picture of Bob is the one object URL; Carol, without one, keeps her initials.
    expect(new Set(Array.from(container.querySelectorAll("img")).map((img) => img.getAttribute("src")))).toEqual(new Set(["blob:avatar-1"]));
    expect(Array.from(container.querySelectorAll(".avatar")).filter((avatar) => avatar.textContent === "CA")).toHaveLength(500);

    // Drawn again (another board, a card's dialog): at once, without asking again.
    render(<Avatar api={api} space={SPACE} user="@bob:hs" />, container);
    expect(container.querySelector("img")?.getAttribute("src")).toBe("blob:avatar-1");
    render(<Avatar api={api} space={SPACE} user="@carol:hs" />, container);
    await settle();
    expect(container.querySelector(".avatar")?.textContent).toBe("CA");
    expect(asked).toHaveLength(2);
    // The same member in another community is asked for there.
    expect(await memberPicture(api, "!other:hs", "@bob:hs")).toBe("blob:avatar-2");
    expect(asked).toHaveLength(3);
  });

  it("keeps the initials when the picture cannot be fetched, or is not an image, without asking again", async () => {
    const offline = setup({}, { offline: true });
    expect(await memberPicture(offline.api, SPACE, "@bob:hs")).toBeNull();
    expect(await memberPicture(offline.api, SPACE, "@bob:hs")).toBeNull();
    expect(offline.asked).toHaveLength(1);
    const page = setup({ "@bob:hs": "text/html" });
    render(<Avatar api={page.api} space={SPACE} user="@bob:hs" />, page.container);
    await vi.waitFor(() => expect(page.asked).toHaveLength(1));
    await settle();
    expect(page.container.querySelector("img")).toBeNull();
    expect(page.container.querySelector(".avatar")?.textContent).toBe("BO");
  });

  it("makes initials of a Matrix ID's first two words, or of its first two letters", () => {
    expect(initials("@alice.martin:hs")).toBe("AM");
    expect(initials("@jean-pierre_dupont:hs")).toBe("JP");
    expect(initials("@bob:hs")).toBe("BO");
  });
});
