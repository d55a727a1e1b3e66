/**
 * The wiki's page tree, from each page's `parent`. Pages whose parent is missing (deleted,
 * or not readable) are shown at the top level; a cycle (A under B under A) is cut.
 */
import type { Publication } from "../api/types";

/** A page and its children, sorted by title. */
export interface TreeNode<T> {
  item: T;
  children: TreeNode<T>[];
}

type Page = Pick<Publication, "object_id" | "parent" | "title">;

const byTitle = (a: Page, b: Page) => a.title.localeCompare(b.title, undefined, { sensitivity: "base" });

/** The forest of pages. */
export function pageTree<T extends Page>(items: readonly T[]): TreeNode<T>[] {
  const byId = new Map(items.map((item) => [item.object_id, item]));
  const children = new Map<string, T[]>();
  const roots: T[] = [];
  for (const item of items) {
    const parent = item.parent && item.parent !== item.object_id && byId.has(item.parent) ? item.parent : null;
    if (parent === null) roots.push(item);
    else children.set(parent, [...(children.get(parent) ?? []), item]);
  }
  const placed = new Set<string>();
  const build = (item: T): TreeNode<T> => {
    placed.add(item.object_id);
    const kids = (children.get(item.object_id) ?? []).filter((child) => !placed.has(child.object_id)).sort(byTitle);
    return { item, children: kids.map(build) };
  };
  const forest = roots.sort(byTitle).map(build);
  // Pages only reachable through a cycle: shown at the top level rather than lost.
  for (const item of [...items].sort(byTitle)) {
    if (!placed.has(item.object_id)) forest.push(build(item));
  }
  return forest;
}

/** `id` and every page under it (a page cannot become its own descendant's child). */
export function subtreeIds(items: readonly Page[], id: string): Set<string> {
  const ids = new Set([id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const item of items) {
      if (item.parent && ids.has(item.parent) && !ids.has(item.object_id)) {
        ids.add(item.object_id);
        grew = true;
      }
    }
  }
  return ids;
}

/** The pages above `id`, from the top (for breadcrumbs); stops at a cycle. */
export function ancestors<T extends Page>(items: readonly T[], id: string): T[] {
  const byId = new Map(items.map((item) => [item.object_id, item]));
  const chain: T[] = [];
  const seen = new Set([id]);
  let parent = byId.get(id)?.parent ?? null;
  while (parent && !seen.has(parent)) {
    const item = byId.get(parent);
    if (!item) break;
    chain.unshift(item);
    seen.add(parent);
    parent = item.parent ?? null;
  }
  return chain;
}

/** Depth-first order with depths, for a `<select>` of pages. */
export function flatten<T>(forest: TreeNode<T>[], depth = 0): { item: T; depth: number }[] {
  return forest.flatMap((node) => [{ item: node.item, depth }, ...flatten(node.children, depth + 1)]);
}
