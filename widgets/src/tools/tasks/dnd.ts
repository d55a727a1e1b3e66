/**
 * Dragging cards with the pointer, with `@atlaskit/pragmatic-drag-and-drop` (the browser's own
 * drag and drop, no framework): each card is draggable and a drop target, each column's list a
 * drop target for its end. Which move a drop asks for is `board.ts`'s `dropMove`, from the
 * target read here (`dropTargetOf`). The keyboard's way is the cards' "Move" controls, not this.
 */
import { combine } from "@atlaskit/pragmatic-drag-and-drop/combine";
import { draggable, dropTargetForElements, monitorForElements } from "@atlaskit/pragmatic-drag-and-drop/adapter/element-adapter";
import type { DropTarget } from "./board";

/** What a dragged card carries. */
interface DraggedCard {
  kind: "tasks-card";
  cardId: string;
}

/** What a drop target says of itself. */
type TargetData = { kind: "tasks-card"; cardId: string; column: string; edge: "top" | "bottom" } | { kind: "tasks-column"; column: string };

/** The card's half the pointer is over: `top` above its middle, else `bottom`. */
export function closestEdge(clientY: number, rect: { top: number; height: number }): "top" | "bottom" {
  return clientY < rect.top + rect.height / 2 ? "top" : "bottom";
}

/** The dragged card's ID, when the drag is one of a card. */
export function draggedCardId(data: Record<string | symbol, unknown>): string | null {
  return data.kind === "tasks-card" && typeof data.cardId === "string" ? data.cardId : null;
}

/**
 * Where a drop lands, from the drop targets under the pointer (innermost first): the card it is
 * over (and which half), else the column's list; `null` outside any.
 */
export function dropTargetOf(targets: readonly { data: Record<string | symbol, unknown> }[]): DropTarget | null {
  const inner = targets[0]?.data as Partial<TargetData> | undefined;
  if (!inner || typeof inner.column !== "string") return null;
  if (inner.kind === "tasks-card" && typeof inner.cardId === "string") {
    return { column: inner.column, card: { id: inner.cardId, edge: inner.edge === "top" ? "top" : "bottom" } };
  }
  return inner.kind === "tasks-column" ? { column: inner.column } : null;
}

/** Makes a card's element draggable and a drop target; returns the undoing function. */
export function dragCard(element: HTMLElement, cardId: string, column: string): () => void {
  const mark = (edge: "top" | "bottom" | null) => {
    if (edge) element.dataset.dropEdge = edge;
    else delete element.dataset.dropEdge;
  };
  return combine(
    draggable({
      element,
      getInitialData: (): DraggedCard & Record<string, unknown> => ({ kind: "tasks-card", cardId }),
      onDragStart: () => (element.dataset.dragging = "true"),
      onDrop: () => delete element.dataset.dragging,
    }),
    dropTargetForElements({
      element,
      canDrop: ({ source }) => draggedCardId(source.data) !== null && draggedCardId(source.data) !== cardId,
      getData: ({ input }) => ({ kind: "tasks-card", cardId, column, edge: closestEdge(input.clientY, element.getBoundingClientRect()) }),
      onDrag: ({ self }) => mark(self.data.edge === "top" ? "top" : "bottom"),
      onDragLeave: () => mark(null),
      onDrop: () => mark(null),
    }),
  );
}

/** Makes a column's list a drop target (its end); returns the undoing function. */
export function dropOnColumn(element: HTMLElement, column: string): () => void {
  return dropTargetForElements({
    element,
    canDrop: ({ source }) => draggedCardId(source.data) !== null,
    getData: () => ({ kind: "tasks-column", column }),
    onDragEnter: () => (element.dataset.dropOver = "true"),
    onDragLeave: () => delete element.dataset.dropOver,
    onDrop: () => delete element.dataset.dropOver,
  });
}

/** Calls `onDrop` with the dragged card and where it landed, for every drop of a card on the page. */
export function watchDrops(onDrop: (cardId: string, target: DropTarget) => void): () => void {
  return monitorForElements({
    canMonitor: ({ source }) => draggedCardId(source.data) !== null,
    onDrop: ({ source, location }) => {
      const cardId = draggedCardId(source.data);
      const target = dropTargetOf(location.current.dropTargets);
      if (cardId && target) onDrop(cardId, target);
    },
  });
}
