/**
 * Rendering the slots tools fill on shared pages (`ToolDef.objectPanels`, `homeSections`): each
 * gets a container of its own, placed at once in tool order, and fills it when its chunk has
 * loaded. The page does not wait for them; a slot that fails shows its error in its container
 * and leaves the rest of the page as it is.
 */
import type { PageContext } from "./context";
import { h } from "./dom";
import type { ToolSlot } from "./registry";
import { errorBox } from "./ui";

/** Appends one container per slot to `parent` and renders each into its own. */
export function renderSlots<T>(context: PageContext, slots: readonly ToolSlot<PageContext, T>[], target: T, parent: HTMLElement): void {
  for (const { tool, slot } of slots) {
    const container = h("div", { class: "tool-slot", "data-slot": `${tool.id}.${slot.name}` });
    parent.append(container);
    void (async () => {
      try {
        const module = await slot.load();
        if (context.signal.aborted) return;
        await module.default(context, target, container);
      } catch (error) {
        if (context.signal.aborted || (error instanceof DOMException && error.name === "AbortError")) return;
        container.replaceChildren(errorBox(context.app, error));
      }
    })();
  }
}
