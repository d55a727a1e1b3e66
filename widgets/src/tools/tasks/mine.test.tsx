// @vitest-environment happy-dom
/**
 * The user's own open cards in a DOM: the "My tasks" page across communities, and the section
 * of a community's home with that community's only.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import myCardsSection from "./home-section";
import minePage from "./mine-page";
import { TestParvis, testApp } from "./test-parvis";
import type { MyTask } from "./types";

const task = (id: string, space: string, over: Partial<MyTask> = {}): MyTask => ({
  id,
  title: id,
  board: "b1",
  column: "todo",
  position: "a0",
  late: false,
  event_id: `$${id}`,
  updated_by: "@bob:hs",
  updated_at: 1,
  space,
  community: space === "!s:hs" ? "Projet Alpha" : "Projet Beta",
  board_name: "Déménagement",
  ...over,
});

const mine = [
  task("Book the van", "!s:hs", { due: "2026-12-10", late: true, labels: ["transport"] }),
  task("Write the plan", "!t:hs", { due: "2026-12-18", board: "b9", board_name: "Plan" }),
  task("Call the bank", "!s:hs"),
];

const text = (element: Element | null | undefined) => element?.textContent?.replace(/\s+/g, " ").trim();

afterEach(() => document.body.replaceChildren());

describe("my tasks", () => {
  it("lists the user's open cards of every community, in the server's order, each linking to its card", async () => {
    const parvis = new TestParvis({ boards: [], cards: [], mine });
    const { main, context } = testApp(parvis);
    await minePage(context({}));
    expect(text(main.querySelector("h1"))).toBe("My tasks");
    const items = Array.from(main.querySelectorAll("ol.tasks-mine > li"));
    expect(items.map((item) => text(item.querySelector("a")))).toEqual(["Book the van", "Write the plan", "Call the bank"]);
    expect(items[0]?.querySelector("a")?.getAttribute("href")).toBe("#/c/!s:hs/tasks?board=b1&card=Book+the+van");
    expect(text(items[0]?.querySelector(".meta"))).toBe("Projet Alpha · Déménagement · Due 10 Dec 2026 Late transport");
    expect(items[0]?.getAttribute("data-late")).toBe("true");
    expect(text(items[1]?.querySelector(".meta"))).toBe("Projet Beta · Plan · Due 18 Dec 2026");
    expect(items[1]?.getAttribute("data-late")).toBeNull();
    expect(parvis.calls.map((call) => call.url)).toEqual(["/api/v1/tasks/mine"]);
  });

  it("says when nothing is assigned to the user", async () => {
    const { main, context } = testApp(new TestParvis({ boards: [], cards: [], mine: [] }));
    await minePage(context({}));
    expect(text(main.querySelector("p.empty"))).toBe("No open card is assigned to you.");
  });

  it("shows the community's own on its home, with a link to all", async () => {
    const { context, controller } = testApp(new TestParvis({ boards: [], cards: [], mine }));
    const container = document.createElement("div");
    document.body.append(container);
    await myCardsSection(context({}), { space: "!s:hs", rooms: ["!tasks:hs"] }, container);
    expect(text(container.querySelector("h2"))).toBe("My open cards");
    expect(Array.from(container.querySelectorAll("ol.tasks-mine > li a")).map(text)).toEqual(["Book the van", "Call the bank"]);
    // The community is the page's: only the board is named.
    expect(text(container.querySelector("ol.tasks-mine > li .meta"))).toBe("Déménagement · Due 10 Dec 2026 Late transport");
    expect(container.querySelector("section > p > a")?.getAttribute("href")).toBe("#/tasks/mine");
    controller.abort();
    await vi.waitFor(() => expect(container.childElementCount).toBe(0));
  });

  it("shows nothing on the home of a community where the user has no open card", async () => {
    const { context } = testApp(new TestParvis({ boards: [], cards: [], mine }));
    const container = document.createElement("div");
    await myCardsSection(context({}), { space: "!u:hs", rooms: [] }, container);
    expect(container.childElementCount).toBe(0);
  });
});
