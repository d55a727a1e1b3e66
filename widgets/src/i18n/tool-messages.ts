/**
 * A tool's own strings, in its folder (`src/tools/<name>/messages.ts`), merged into the
 * catalogues by `i18n/index.ts` (found by the same kind of glob as the tools): adding a tool
 * changes no shared catalogue.
 *
 * A tool's messages module declares its strings with `toolMessages` (French must have exactly
 * the English keys, which the compiler checks), default-exports them, and adds its keys to
 * `MessageKey` by declaration merging, so `app.t("polls.vote")` is checked like a shared key:
 *
 * ```ts
 * const messages = toolMessages({ en: { "polls.vote": "Vote" }, fr: { "polls.vote": "Voter" } });
 * export default messages;
 * declare module "../../i18n/tool-messages" {
 *   interface ToolMessageKeys { polls: keyof typeof messages.en }
 * }
 * ```
 *
 * Every key of a tool starts with its folder's name and a dot (`polls.vote`), so tools cannot
 * take each other's keys nor the shared ones; `mergeCatalogues` refuses any that does not.
 */

/** The languages of the interface. */
export type Lang = "fr" | "en";

/**
 * The keys each tool adds, by tool: one member per tool, declared in the tool's messages module
 * (`polls: keyof typeof messages.en`). Empty here.
 */
export interface ToolMessageKeys {}

/** Every key a tool adds. */
export type ToolMessageKey = ToolMessageKeys[keyof ToolMessageKeys];

/** A tool's strings in both languages, with the same keys. */
export type ToolMessages<K extends string = string> = Record<Lang, Record<K, string>>;

/** Declares a tool's strings: French must have exactly the keys of English. */
export function toolMessages<const E extends Record<string, string>>(messages: {
  en: E;
  fr: { [K in keyof E]: string };
}): ToolMessages<Extract<keyof E, string>> {
  return messages as ToolMessages<Extract<keyof E, string>>;
}

/** A tool's strings, as the glob found them: the tool's folder name and its messages. */
export interface ToolCatalogue {
  tool: string;
  messages: ToolMessages;
}

/**
 * The shared catalogues with every tool's strings added. A tool key outside the tool's
 * namespace, or one already taken, is a programming error (as two tools with one ID are).
 */
export function mergeCatalogues(
  core: Record<Lang, Record<string, string>>,
  tools: readonly ToolCatalogue[],
): Record<Lang, Record<string, string>> {
  const merged: Record<Lang, Record<string, string>> = { en: { ...core.en }, fr: { ...core.fr } };
  for (const { tool, messages } of tools) {
    for (const lang of ["en", "fr"] as const) {
      for (const [key, text] of Object.entries(messages[lang])) {
        if (!key.startsWith(`${tool}.`)) throw new Error(`tool ${tool}: message ${key} is not in its namespace (${tool}.…)`);
        if (Object.prototype.hasOwnProperty.call(merged[lang], key)) throw new Error(`tool ${tool}: message ${key} defined twice`);
        merged[lang][key] = text;
      }
    }
  }
  return merged;
}

/** `../tools/polls/messages.ts` → `polls`. */
export function toolOfPath(path: string): string {
  const parts = path.split("/");
  const name = parts[parts.length - 2];
  if (!name || name === "." || name === "..") throw new Error(`no tool folder in ${path}`);
  return name;
}
