// @vitest-environment happy-dom
/**
 * The board page in a DOM, against a Parvis answering from memory: what a person sees (columns
 * in order, cards in the order given, counts against limits, late cards, people, labels), the
 * keyboard's moves and what they send and announce, the filters, a card's dialog, a new card, a
 * new board, a refused move put back; people's avatars, each asked for once; a reader's board,
 * told so once, with nothing to change and a card's dialog to read.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import boardPage from "./board-page";
import { ApiClient, type Fetch } from "../../api/client";
import { downloadCsv } from "./api";
import { settle, TestParvis, testApp, type TasksData } from "./test-parvis";

function data(): TasksData {
  return {
    today: "2026-12-16",
    boards: [
      {
        id: "b1",
        name: "Déménagement",
        columns: [
          { id: "todo", name: "To do" },
          { id: "doing", name: "In progress", wip_limit: 2 },
          { id: "done", name: "Done", done: true },
        ],
      },
      { id: "b2", name: "Old", archived: true, columns: [{ id: "todo", name: "To do" }] },
    ],
    cards: [
      // Listed out of order: the board sorts by position.
      { id: "c2", title: "Book the van", board: "b1", column: "todo", position: "a1", labels: ["transport"], due: "2026-12-10" },
      { id: "c1", title: "Order boxes", board: "b1", column: "todo", position: "a0", assignees: ["@alice.martin:hs", "@bob:hs"] },
      { id: "c3", title: "Pack books", board: "b1", column: "todo", position: "a2", due: "2026-12-18", checklist: [{ text: "Shelf 1", done: true }, { text: "Shelf 2" }] },
      { id: "c4", title: "Call the bank", board: "b1", column: "doing", position: "a0" },
      { id: "c5", title: "Sign the lease", board: "b1", column: "doing", position: "a1" },
      { id: "c6", title: "Old news", board: "b1", column: "done", position: "a0", due: "2026-12-01" },
      { id: "c7", title: "Archived", board: "b1", column: "todo", position: "a3", archived: true },
    ],
  };
}

async function open(query = "", over: Partial<TasksData> = {}, { reader = false }: { reader?: boolean } = {}) {
  const parvis = new TestParvis({ ...data(), ...over });
  parvis.mayWrite = !reader;
  const harness = testApp(parvis);
  const cleanup = await boardPage(harness.context({ space: "!s:hs" }, query));
  return { parvis, ...harness, cleanup };
}

const text = (element: Element | null | undefined) => element?.textContent?.replace(/\s+/g, " ").trim();
const columns = (main: HTMLElement) => Array.from(main.querySelectorAll<HTMLElement>("section.tasks-column"));
const titles = (column: Element | undefined) => Array.from(column?.querySelectorAll(".tasks-card .tasks-open") ?? []).map(text);
const cardOf = (main: HTMLElement, title: string) =>
  Array.from(main.querySelectorAll<HTMLElement>(".tasks-card")).find((card) => text(card.querySelector(".tasks-open")) === title);
const writes = (parvis: TestParvis) => parvis.calls.filter((call) => call.method !== "GET");
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(() => {
  document.body.replaceChildren();
  vi.unstubAllGlobals();
});

describe("the board page", () => {
  it("shows the first open board's columns in order, each card in the order of its column", async () => {
    const { main } = await open();
    expect(text(main.querySelector("h1"))).toBe("Déménagement");
    expect(columns(main).map((column) => text(column.querySelector(".tasks-column-name")))).toEqual(["To do", "In progress", "Done"]);
    expect(titles(columns(main)[0])).toEqual(["Order boxes", "Book the van", "Pack books"]);
    expect(titles(columns(main)[1])).toEqual(["Call the bank", "Sign the lease"]);
    expect(titles(columns(main)[2])).toEqual(["Old news"]);
    // The board picker lists both boards, the archived one said so.
    const picker = main.querySelector<HTMLSelectElement>("select#tasks-board");
    expect(Array.from(picker?.options ?? []).map((option) => option.textContent)).toEqual(["Déménagement", "Old (archived)"]);
    expect(picker?.value).toBe("b1");
  });

  it("counts each column's cards against its limit, and marks a column over it", async () => {
    const { main } = await open();
    const [todo, doing] = columns(main);
    expect(text(todo?.querySelector(".tasks-wip [aria-hidden]"))).toBe("3");
    expect(text(doing?.querySelector(".tasks-wip [aria-hidden]"))).toBe("2/2");
    expect(text(doing?.querySelector(".tasks-wip .visually-hidden"))).toBe("2 card(s), limit 2");
    expect(doing?.dataset.overLimit).toBeUndefined();
    const over = await open("", {
      cards: [...data().cards, { id: "c8", title: "Third", board: "b1", column: "doing", position: "a2" }],
    });
    const full = columns(over.main)[1];
    expect(text(full?.querySelector(".tasks-wip [aria-hidden]"))).toBe("3/2");
    expect(full?.dataset.overLimit).toBe("true");
    expect(text(full?.querySelector(".tasks-over-limit"))).toBe("Over its limit");
  });

  it("shows a card's people by their initials, its labels, its due date, late or not, and its checklist", async () => {
    const { main } = await open();
    const boxes = cardOf(main, "Order boxes");
    expect(Array.from(boxes?.querySelectorAll(".tasks-assignees .avatar") ?? []).map(text)).toEqual(["AM", "BO"]);
    expect(Array.from(boxes?.querySelectorAll(".tasks-assignees li") ?? []).map((li) => li.getAttribute("title"))).toEqual([
      "@alice.martin:hs",
      "@bob:hs",
    ]);
    const van = cardOf(main, "Book the van");
    expect(Array.from(van?.querySelectorAll(".tags li") ?? []).map(text)).toEqual(["transport"]);
    expect(van?.dataset.late).toBe("true");
    expect(text(van?.querySelector(".tasks-due"))).toBe("Due 10 Dec 2026 Late");
    expect(van?.querySelector("time")?.getAttribute("datetime")).toBe("2026-12-10");
    const books = cardOf(main, "Pack books");
    expect(books?.dataset.late).toBeUndefined();
    expect(text(books?.querySelector(".tasks-due"))).toBe("Due 18 Dec 2026");
    expect(text(books?.querySelector(".tasks-checklist-count"))).toBe("Checklist: 1 of 2 done");
    // A done column's overdue card is not late.
    expect(cardOf(main, "Old news")?.dataset.late).toBeUndefined();
  });

  it("moves a card down from the keyboard: right after the next card, announced, the focus kept", async () => {
    const { main, parvis, announced } = await open();
    const boxes = cardOf(main, "Order boxes");
    const down = boxes?.querySelector<HTMLButtonElement>('button[data-move="down"]');
    expect(down?.getAttribute("aria-label")).toBe("Move “Order boxes” down");
    const release = parvis.holdWrites();
    down?.focus();
    down?.click();
    // At once, before the server answers.
    await settle();
    expect(titles(columns(main)[0])).toEqual(["Book the van", "Order boxes", "Pack books"]);
    expect(announced[0]).toBe("“Order boxes” moved to To do, position 2 of 3.");
    // One write at a time: the controls say so meanwhile.
    expect(cardOf(main, "Pack books")?.querySelector('button[data-move="up"]')?.getAttribute("aria-disabled")).toBe("true");
    release();
    await vi.waitFor(() => expect(writes(parvis)).toHaveLength(1));
    expect(writes(parvis)[0]).toEqual({
      method: "POST",
      url: "/api/v1/communities/!s%3Ahs/tasks/cards/c1/move",
      body: { column: "todo", after: "c2" },
    });
    // Then as the server has it.
    await vi.waitFor(() => expect(parvis.calls.filter((call) => call.url.endsWith("/boards/b1")).length).toBeGreaterThan(1));
    expect(titles(columns(main)[0])).toEqual(["Book the van", "Order boxes", "Pack books"]);
    const moved = cardOf(main, "Order boxes");
    expect(document.activeElement).toBe(moved?.querySelector('button[data-move="down"]'));
    expect(moved?.querySelector<HTMLDetailsElement>("details.tasks-move")?.open).toBe(true);
  });

  it("moves a card up to the top of its column with `after` null, and not past the top", async () => {
    const { main, parvis } = await open();
    cardOf(main, "Book the van")?.querySelector<HTMLButtonElement>('button[data-move="up"]')?.click();
    await vi.waitFor(() => expect(writes(parvis)).toHaveLength(1));
    expect(writes(parvis)[0]?.body).toEqual({ column: "todo", after: null });
    await vi.waitFor(() => expect(titles(columns(main)[0])).toEqual(["Book the van", "Order boxes", "Pack books"]));
    const top = cardOf(main, "Book the van")?.querySelector<HTMLButtonElement>('button[data-move="up"]');
    await vi.waitFor(() => expect(top?.getAttribute("aria-disabled")).toBe("true"));
    top?.click();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(writes(parvis)).toHaveLength(1);
  });

  it("moves a card to another column's end, shows what the server warns of, and says where it went", async () => {
    const { main, parvis, announced } = await open();
    parvis.warnNext = ["the column “In progress” now holds 3 cards, over its limit of 2"];
    const select = cardOf(main, "Pack books")?.querySelector<HTMLSelectElement>('select[data-move="column"]');
    expect(select?.getAttribute("aria-label")).toBe("Column of “Pack books”");
    const release = parvis.holdWrites();
    select!.value = "doing";
    select!.dispatchEvent(new Event("change", { bubbles: true }));
    select!.focus();
    // Enter in the list confirms the column chosen.
    select!.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true }));
    await settle();
    expect(titles(columns(main)[1])).toEqual(["Call the bank", "Sign the lease", "Pack books"]);
    expect(titles(columns(main)[0])).toEqual(["Order boxes", "Book the van"]);
    expect(announced[0]).toBe("“Pack books” moved to In progress, position 3 of 3.");
    release();
    await vi.waitFor(() => expect(main.querySelector(".tasks-warnings li")).not.toBeNull());
    expect(writes(parvis)[0]?.body).toEqual({ column: "doing", after: "c5" });
    expect(text(main.querySelector(".tasks-warnings p"))).toBe("Done, with a warning:");
    expect(Array.from(main.querySelectorAll(".tasks-warnings li")).map(text)).toEqual([
      "the column “In progress” now holds 3 cards, over its limit of 2",
    ]);
    expect(columns(main)[1]?.dataset.overLimit).toBe("true");
    const moved = cardOf(main, "Pack books");
    await vi.waitFor(() => expect(document.activeElement).toBe(moved?.querySelector('select[data-move="column"]')));
  });

  it("moves to the column chosen in the list only once confirmed, not at each change of the list", async () => {
    const { main, parvis, announced } = await open();
    const books = cardOf(main, "Pack books");
    const select = books?.querySelector<HTMLSelectElement>('select[data-move="column"]');
    const confirm = books?.querySelector<HTMLButtonElement>('button[data-move="confirm"]');
    expect(text(confirm)).toBe("Move");
    expect(confirm?.getAttribute("aria-disabled")).toBe("true");
    // The arrow keys go down the list: "In progress", then "Done", a change each.
    select?.focus();
    for (const value of ["doing", "done"]) {
      select!.value = value;
      select!.dispatchEvent(new Event("change", { bubbles: true }));
      await settle();
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(writes(parvis)).toEqual([]);
    expect(announced).toEqual([]);
    expect(titles(columns(main)[0])).toEqual(["Order boxes", "Book the van", "Pack books"]);
    expect(select?.value).toBe("done");
    expect(confirm?.getAttribute("aria-label")).toBe("Move “Pack books” to Done");
    expect(confirm?.hasAttribute("aria-disabled")).toBe(false);

    // Then the button: one move, to the column chosen, announced, the focus kept on the button.
    confirm?.focus();
    confirm?.click();
    await settle();
    expect(titles(columns(main)[2])).toEqual(["Old news", "Pack books"]);
    expect(announced).toEqual(["“Pack books” moved to Done, position 2 of 2."]);
    await vi.waitFor(() => expect(writes(parvis)).toHaveLength(1));
    expect(writes(parvis)[0]?.body).toEqual({ column: "done", after: "c6" });
    const moved = cardOf(main, "Pack books");
    await vi.waitFor(() => expect(document.activeElement).toBe(moved?.querySelector('button[data-move="confirm"]')));
    expect(moved?.querySelector<HTMLSelectElement>('select[data-move="column"]')?.value).toBe("done");
    expect(moved?.querySelector('button[data-move="confirm"]')?.getAttribute("aria-disabled")).toBe("true");
    expect(writes(parvis)).toHaveLength(1);
  });

  it("puts a refused move back, and shows the server's error", async () => {
    const { main, parvis, announced } = await open();
    parvis.failNext = { status: 403, errcode: "M_FORBIDDEN", error: "Readers may not move cards." };
    cardOf(main, "Order boxes")?.querySelector<HTMLButtonElement>('button[data-move="down"]')?.click();
    await vi.waitFor(() => expect(main.querySelector('.tasks-status [role="alert"]')).not.toBeNull());
    expect(text(main.querySelector(".tasks-status"))).toBe("Readers may not move cards.");
    expect(titles(columns(main)[0])).toEqual(["Order boxes", "Book the van", "Pack books"]);
    expect(announced).toEqual([
      "“Order boxes” moved to To do, position 2 of 3.",
      "“Order boxes” is back in its place: the move was not written.",
    ]);
  });

  it("hides the cards the filters leave out, and says how many it shows", async () => {
    const { main } = await open();
    const choose = async (id: string, value: string) => {
      const select = main.querySelector<HTMLSelectElement>(`select#${id}`);
      select!.value = value;
      select!.dispatchEvent(new Event("change", { bubbles: true }));
      await settle();
    };
    const assignees = Array.from(main.querySelector<HTMLSelectElement>("select#tasks-filter-assignee")?.options ?? []).map((o) => o.value);
    expect(assignees).toEqual(["", "@alice.martin:hs", "@bob:hs"]);
    await choose("tasks-filter-assignee", "@bob:hs");
    await vi.waitFor(() => expect(titles(columns(main)[0])).toEqual(["Order boxes"]));
    expect(titles(columns(main)[1])).toEqual([]);
    expect(text(main.querySelector(".tasks-filter-count"))).toBe("1 of 6 card(s) shown. Show all the cards");
    // The count against the limit is the column's, not the filter's.
    expect(text(columns(main)[1]?.querySelector(".tasks-wip [aria-hidden]"))).toBe("2/2");
    await choose("tasks-filter-assignee", "");
    await choose("tasks-filter-due", "late");
    await vi.waitFor(() => expect(titles(columns(main)[0])).toEqual(["Book the van"]));
    expect(titles(columns(main)[2])).toEqual([]);
    await choose("tasks-filter-due", "none");
    await vi.waitFor(() => expect(titles(columns(main)[0])).toEqual(["Order boxes"]));
    expect(titles(columns(main)[1])).toEqual(["Call the bank", "Sign the lease"]);
    await choose("tasks-filter-due", "");
    await choose("tasks-filter-label", "transport");
    await vi.waitFor(() => expect(titles(columns(main)[0])).toEqual(["Book the van"]));
    main.querySelector<HTMLButtonElement>(".tasks-filter-count button")?.click();
    await vi.waitFor(() => expect(titles(columns(main)[0])).toEqual(["Order boxes", "Book the van", "Pack books"]));
  });

  it("edits a card in its dialog and sends every field back", async () => {
    const { main, parvis, announced } = await open();
    cardOf(main, "Book the van")?.querySelector<HTMLButtonElement>(".tasks-open")?.click();
    const dialog = await vi.waitFor(() => {
      const found = main.querySelector<HTMLDialogElement>("dialog.tasks-dialog");
      expect(found).not.toBeNull();
      return found as HTMLDialogElement;
    });
    expect(text(dialog.querySelector("h2"))).toBe("Card “Book the van”");
    const input = async (id: string, value: string) => {
      const field = dialog.querySelector<HTMLInputElement | HTMLTextAreaElement>(`#${id}`);
      field!.value = value;
      field!.dispatchEvent(new Event("input", { bubbles: true }));
      await settle();
    };
    await input("tasks-card-title", "Book the big van");
    await input("tasks-card-assignees", "@bob:hs @carol:hs");
    await input("tasks-card-labels", "transport, urgent");
    await input("tasks-card-start", "2026-12-14");
    await input("tasks-card-due", "2026-12-19");
    await input("tasks-card-description", "Call **before** noon.");
    await input("tasks-card-new-item", "Compare prices");
    dialog.querySelector<HTMLInputElement>("#tasks-card-new-item")?.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    await vi.waitFor(() => expect(dialog.querySelectorAll(".tasks-checklist li")).toHaveLength(1));
    // It depends on "Order boxes": the other cards are offered by title.
    const dependency = Array.from(dialog.querySelectorAll<HTMLLabelElement>(".tasks-depends label")).find((label) => text(label) === "Order boxes");
    dependency?.querySelector("input")?.click();
    await vi.waitFor(() => expect(dependency?.querySelector("input")?.checked).toBe(true));
    dialog.querySelector<HTMLFormElement>("form")?.requestSubmit();
    await vi.waitFor(() => expect(writes(parvis)).toHaveLength(1));
    expect(writes(parvis)[0]).toEqual({
      method: "PUT",
      url: "/api/v1/communities/!s%3Ahs/tasks/cards/c2",
      body: {
        title: "Book the big van",
        description: "Call **before** noon.",
        column: "todo",
        assignees: ["@bob:hs", "@carol:hs"],
        labels: ["transport", "urgent"],
        start: "2026-12-14",
        due: "2026-12-19",
        checklist: [{ text: "Compare prices", done: false }],
        depends_on: ["c1"],
        archived: false,
      },
    });
    await vi.waitFor(() => expect(main.querySelector("dialog")).toBeNull());
    expect(announced).toContain("Card “Book the big van” saved.");
    const saved = cardOf(main, "Book the big van");
    expect(Array.from(saved?.querySelectorAll(".tags li") ?? []).map(text)).toEqual(["transport", "urgent"]);
    expect(document.activeElement).toBe(saved?.querySelector(".tasks-open"));
  });

  it("keeps the dialog open with the server's refusal", async () => {
    const { main, parvis } = await open("?card=c3".slice(1));
    const dialog = main.querySelector<HTMLDialogElement>("dialog.tasks-dialog");
    expect(text(dialog?.querySelector("h2"))).toBe("Card “Pack books”");
    parvis.failNext = { status: 400, errcode: "ORG.PARVIS_DUE_BEFORE_START", error: "the card is due (2026-12-18) before it starts (2026-12-20)" };
    dialog?.querySelector<HTMLFormElement>("form")?.requestSubmit();
    await vi.waitFor(() => expect(dialog?.querySelector('[role="alert"]')).not.toBeNull());
    expect(text(dialog?.querySelector('[role="alert"]'))).toBe("the card is due (2026-12-18) before it starts (2026-12-20)");
    expect(main.querySelector("dialog")).toBe(dialog);
    dialog?.querySelector<HTMLButtonElement>(".actions button.secondary")?.click();
    await vi.waitFor(() => expect(main.querySelector("dialog")).toBeNull());
  });

  it("adds a card at the end of a column", async () => {
    const { main, parvis, announced } = await open();
    const done = columns(main)[2];
    const field = done?.querySelector<HTMLInputElement>(".tasks-add input");
    expect(text(done?.querySelector(".tasks-add label"))).toBe("New card in Done");
    field!.value = "Hand back the keys";
    field!.dispatchEvent(new Event("input", { bubbles: true }));
    await settle();
    done?.querySelector<HTMLFormElement>("form.tasks-add")?.requestSubmit();
    await vi.waitFor(() => expect(titles(columns(main)[2])).toEqual(["Old news", "Hand back the keys"]));
    expect(writes(parvis)[0]).toEqual({
      method: "POST",
      url: "/api/v1/communities/!s%3Ahs/tasks/boards/b1/cards",
      body: { title: "Hand back the keys", column: "done" },
    });
    expect(announced).toEqual(["Card “Hand back the keys” added to Done."]);
  });

  it("offers to create the first board, with the usual columns in the user's language", async () => {
    const { main, parvis, navigated } = await open("", { boards: [], cards: [] });
    expect(main.querySelector("section.tasks-column")).toBeNull();
    expect(text(main.querySelector("h2#tasks-new-board-title + p"))).toBe("There is no board yet. Create the first one:");
    const name = main.querySelector<HTMLInputElement>("#tasks-new-board-name");
    name!.value = "Plan";
    name!.dispatchEvent(new Event("input", { bubbles: true }));
    await settle();
    main.querySelector<HTMLFormElement>("form.tasks-new-board")?.requestSubmit();
    await vi.waitFor(() => expect(navigated).toEqual(["#/c/!s:hs/tasks?board=b1"]));
    expect(writes(parvis)[0]?.body).toEqual({ name: "Plan", columns: [{ name: "To do" }, { name: "In progress" }, { name: "Done", done: true }] });
  });

  it("shows an archived board without ways to change it", async () => {
    const { main } = await open("board=b2");
    expect(text(main.querySelector(".tasks-notice"))).toBe("This board is archived: its cards no longer change.");
    expect(main.querySelector("form.tasks-add")).toBeNull();
  });

  it("downloads the board's CSV with the user's token", async () => {
    const asked: { url: string; auth: string | undefined }[] = [];
    const clicked: string[] = [];
    vi.stubGlobal("URL", Object.assign(URL, { createObjectURL: () => "blob:csv", revokeObjectURL: () => undefined }));
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(`${this.download} ${this.href}`);
    });
    const signedIn = (fetch: Fetch) => new ApiClient({ baseUrl: "", token: () => "tok", fetch });
    await downloadCsv(
      signedIn(async (url, init) => {
        asked.push({ url, auth: (init?.headers as Record<string, string>).Authorization });
        return new Response("title,column\r\n", { headers: { "Content-Disposition": 'attachment; filename="board-b1.csv"' } });
      }),
      "!s:hs",
      "b1",
    );
    expect(asked).toEqual([{ url: "/api/v1/communities/!s%3Ahs/tasks/boards/b1/export.csv", auth: "Bearer tok" }]);
    expect(clicked).toEqual(["board-b1.csv blob:csv"]);
    click.mockRestore();
    await expect(
      downloadCsv(
        signedIn(async () => new Response(JSON.stringify({ errcode: "M_FORBIDDEN", error: "No." }), { status: 403 })),
        "!s:hs",
        "b1",
      ),
    ).rejects.toMatchObject({ status: 403, message: "No." });
  });

  it("shows each assignee's picture, asked for once however many cards they have, and initials without one", async () => {
    let made = 0;
    vi.stubGlobal("URL", Object.assign(URL, { createObjectURL: () => `blob:avatar-${++made}`, revokeObjectURL: () => undefined }));
    const cards: TasksData["cards"] = Array.from({ length: 60 }, (_, at) => ({
      id: `m${at}`,
      title: `Box ${at}`,
      board: "b1",
      column: "todo",
      position: `a${String(at).padStart(2, "0")}`,
      assignees: at % 2 === 0 ? ["@bob:hs", "@alice.martin:hs"] : ["@bob:hs"],
    }));
    const { main, parvis } = await open("", { cards, avatars: { "@bob:hs": "image/png" } });
    await vi.waitFor(() => expect(main.querySelectorAll(".tasks-assignees img")).toHaveLength(60));
    const avatarCalls = parvis.calls.filter((call) => call.url.includes("/avatars/")).map((call) => `${call.method} ${call.url}`);
    expect(avatarCalls.sort()).toEqual([
      "GET /api/v1/communities/!s%3Ahs/avatars/%40alice.martin%3Ahs",
      "GET /api/v1/communities/!s%3Ahs/avatars/%40bob%3Ahs",
    ]);
    const first = cardOf(main, "Box 0");
    // The picture is decorative: each person is still named, in text, by their Matrix ID.
    expect(first?.querySelector("img")?.getAttribute("alt")).toBe("");
    expect(first?.querySelector("img")?.getAttribute("src")).toBe("blob:avatar-1");
    const named = (list: Element | null | undefined) =>
      Array.from(list?.querySelectorAll("li") ?? []).map((li) => [li.querySelector(".avatar img") ? "picture" : text(li.querySelector(".avatar")), text(li.querySelector(".avatar + span"))]);
    expect(named(first?.querySelector(".tasks-assignees"))).toEqual([
      ["picture", "@bob:hs"],
      ["AM", "@alice.martin:hs"],
    ]);
    expect(first?.querySelector(".tasks-assignees")?.getAttribute("aria-label")).toBe("Assigned to");
    // The dialog lists the same people, asking for no picture again.
    first?.querySelector<HTMLButtonElement>(".tasks-open")?.click();
    const dialog = await vi.waitFor(() => main.querySelector("dialog.tasks-dialog") ?? Promise.reject(new Error("no dialog")));
    expect(named(dialog.querySelector(".tasks-assignees"))).toEqual([
      ["picture", "@bob:hs"],
      ["AM", "@alice.martin:hs"],
    ]);
    expect(dialog.querySelector(".tasks-assignees img")?.getAttribute("src")).toBe("blob:avatar-1");
    expect(parvis.calls.filter((call) => call.url.includes("/avatars/"))).toHaveLength(2);
    // Someone typed in the field: listed once it is left, not at each key.
    const field = dialog.querySelector<HTMLInputElement>("#tasks-card-assignees");
    field!.value = "@bob:hs, @carol:hs, @car";
    field!.dispatchEvent(new Event("input", { bubbles: true }));
    await settle();
    expect(named(dialog.querySelector(".tasks-assignees"))).toHaveLength(2);
    field!.dispatchEvent(new Event("change", { bubbles: true }));
    await vi.waitFor(() =>
      expect(named(dialog.querySelector(".tasks-assignees"))).toEqual([
        ["picture", "@bob:hs"],
        ["CA", "@carol:hs"],
      ]),
    );
    expect(parvis.calls.filter((call) => call.url.includes("/avatars/"))).toHaveLength(3);
  });

  it("is taken down with its page", async () => {
    const { main, cleanup } = await open();
    expect(main.childElementCount).toBeGreaterThan(0);
    if (typeof cleanup === "function") cleanup();
    expect(main.childElementCount).toBe(0);
  });
});

describe("the board page, for a reader", () => {
  it("says once, calmly, that the board is to read, and offers no way to change it", async () => {
    const { main } = await open("", {}, { reader: true });
    const notes = main.querySelectorAll('[role="note"]');
    expect(notes).toHaveLength(1);
    expect(text(notes[0])).toBe("You can read this board; only members who may write can change it.");
    expect(main.querySelector('[role="alert"]')).toBeNull();
    // The cards are all there, to read.
    expect(titles(columns(main)[0])).toEqual(["Order boxes", "Book the van", "Pack books"]);
    expect(main.querySelectorAll(".tasks-card")).toHaveLength(6);
    // No new card, no new board, nothing to drag, no "Move" controls.
    expect(main.querySelector("form.tasks-add")).toBeNull();
    expect(main.querySelector(".tasks-new-board-fold, form.tasks-new-board")).toBeNull();
    // Once the page's effects have run (drag and drop is set up in them).
    await pause(150);
    expect(main.querySelectorAll('.tasks-card[draggable="true"]')).toHaveLength(0);
    expect(main.querySelector("details.tasks-move, [data-move]")).toBeNull();
    // The filters and the CSV still help to read.
    expect(main.querySelector("fieldset.tasks-filters")).not.toBeNull();
    expect(Array.from(main.querySelectorAll(".page-header button")).map(text)).toEqual(["Export as CSV"]);
  });

  it("offers a member who may write everything as before, without the notice", async () => {
    const { main } = await open();
    expect(main.querySelector('[role="note"]')).toBeNull();
    expect(main.querySelectorAll("form.tasks-add")).toHaveLength(3);
    expect(main.querySelector(".tasks-new-board-fold")).not.toBeNull();
    await vi.waitFor(() => expect(main.querySelectorAll('.tasks-card[draggable="true"]')).toHaveLength(6));
    expect(main.querySelectorAll("details.tasks-move")).toHaveLength(6);
    cardOf(main, "Pack books")?.querySelector<HTMLButtonElement>(".tasks-open")?.click();
    const dialog = await vi.waitFor(() => main.querySelector("dialog.tasks-dialog") ?? Promise.reject(new Error("no dialog")));
    expect(dialog.querySelector("#tasks-card-title")).not.toBeNull();
    expect(dialog.querySelector("form.comment-form textarea")).not.toBeNull();
    expect(dialog.querySelector(".tasks-comment-readonly")).toBeNull();
  });

  it("opens a card to read: its fields as text, its checklist not to tick, no comment form", async () => {
    const { main, parvis } = await open("card=c3", {}, { reader: true });
    const dialog = main.querySelector<HTMLDialogElement>("dialog.tasks-dialog");
    expect(text(dialog?.querySelector("h2"))).toBe("Card “Pack books”");
    await vi.waitFor(() => expect(document.activeElement).toBe(dialog?.querySelector("h2")));
    // Nothing to edit or save.
    expect(dialog?.querySelector("form, input:not([type=checkbox]), textarea, select")).toBeNull();
    expect(Array.from(dialog?.querySelectorAll("button") ?? []).map(text)).toEqual(["Close"]);
    const fields = Array.from(dialog?.querySelectorAll(".tasks-details dt") ?? []).map((dt) => [text(dt), text(dt.nextElementSibling)]);
    expect(fields).toEqual([
      ["Column", "To do"],
      ["Due", "18 Dec 2026"],
      ["Checklist", "Shelf 1 Shelf 2"],
    ]);
    const ticks = Array.from(dialog?.querySelectorAll<HTMLInputElement>(".tasks-details input[type=checkbox]") ?? []);
    expect(ticks.map((tick) => [tick.checked, tick.disabled])).toEqual([
      [true, true],
      [false, true],
    ]);
    // The comments are read; instead of the form, a sentence.
    await vi.waitFor(() => expect(dialog?.querySelector(".tasks-comments .empty")).not.toBeNull());
    expect(dialog?.querySelector(".comment-form, #tasks-comment-body")).toBeNull();
    expect(text(dialog?.querySelector(".tasks-comment-readonly"))).toBe("Only members who may write can comment on this card.");
    dialog?.querySelector<HTMLButtonElement>(".actions button")?.click();
    await vi.waitFor(() => expect(main.querySelector("dialog")).toBeNull());
    expect(document.activeElement).toBe(cardOf(main, "Pack books")?.querySelector(".tasks-open"));
    expect(writes(parvis)).toEqual([]);
  });

  it("names a card's assignees beside their avatars in its dialog", async () => {
    const { main } = await open("card=c1", {}, { reader: true });
    const dialog = main.querySelector<HTMLDialogElement>("dialog.tasks-dialog");
    const assignees = dialog?.querySelector(".tasks-details .tasks-assignees");
    expect(assignees?.getAttribute("aria-label")).toBe("Assigned to");
    expect(Array.from(assignees?.querySelectorAll("li") ?? []).map((li) => [text(li.querySelector(".avatar")), text(li.querySelector(".avatar + span"))])).toEqual([
      ["AM", "@alice.martin:hs"],
      ["BO", "@bob:hs"],
    ]);
  });
});
