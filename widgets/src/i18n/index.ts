/**
 * French and English. Every string of the shared interface is a key of the English catalogue
 * (`en.ts`); the French one (`fr.ts`) must have exactly the same keys, which the compiler checks.
 * Each tool keeps its own strings in its folder (`src/tools/<name>/messages.ts`, see
 * `tool-messages.ts`), found at build time and merged here, its keys checked the same way.
 *
 * The language is the one the user chose (remembered in `localStorage`), else the browser's
 * first French or English preference, else French (Parvis's users are French public agents).
 */
import { en, type CoreMessageKey } from "./en";
import { fr } from "./fr";
import { mergeCatalogues, toolOfPath, type Lang, type ToolCatalogue, type ToolMessageKey, type ToolMessages } from "./tool-messages";

export type { Lang } from "./tool-messages";

/** Every message of the interface: the shared ones and those of every tool. */
export type MessageKey = CoreMessageKey | ToolMessageKey;

const toolModules = import.meta.glob<{ default: ToolMessages }>("../tools/*/messages.ts", { eager: true });

/** Every tool's strings, by tool folder. */
export function toolCatalogues(): ToolCatalogue[] {
  return Object.entries(toolModules).map(([path, module]) => ({ tool: toolOfPath(path), messages: module.default }));
}

/** Every language, in the order the switcher lists them. */
export const LANGS: readonly Lang[] = ["fr", "en"];

/** Where the choice is remembered. */
export const LANG_STORAGE_KEY = "parvis.lang";

const catalogues = mergeCatalogues({ en, fr }, toolCatalogues()) as Record<Lang, Record<MessageKey, string>>;

/** Values put into `{name}` placeholders. */
export type MessageParams = Record<string, string | number>;

/** A message in a language, with `{name}` placeholders filled (unknown placeholders stay). */
export function translate(lang: Lang, key: MessageKey, params: MessageParams = {}): string {
  const template = catalogues[lang][key] ?? catalogues.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

/** Whether a string names a language of the interface. */
export function isLang(value: unknown): value is Lang {
  return value === "fr" || value === "en";
}

/** The language to use: a remembered choice first, then the browser's preferences. */
export function detectLang(stored: string | null, preferences: readonly string[]): Lang {
  if (isLang(stored)) return stored;
  for (const preference of preferences) {
    const primary = preference.toLowerCase().split(/[-_]/)[0];
    if (isLang(primary)) return primary;
  }
  return "fr";
}

/** Something that can remember the choice (`localStorage`, or a map in tests). */
export interface LangStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** The current language, its messages and formats; tells listeners when it changes. */
export class I18n {
  #lang: Lang;
  readonly #storage: LangStorage | null;
  readonly #listeners = new Set<(lang: Lang) => void>();

  constructor(lang: Lang, storage: LangStorage | null = null) {
    this.#lang = lang;
    this.#storage = storage;
  }

  get lang(): Lang {
    return this.#lang;
  }

  /** A message in the current language. */
  t = (key: MessageKey, params?: MessageParams): string => translate(this.#lang, key, params);

  /** Switches language and remembers the choice. */
  setLang(lang: Lang): void {
    if (lang === this.#lang) return;
    this.#lang = lang;
    try {
      this.#storage?.setItem(LANG_STORAGE_KEY, lang);
    } catch {
      // Storage may be refused (private mode, partitioned iframe): the choice lasts this visit.
    }
    for (const listener of this.#listeners) listener(lang);
  }

  /** Calls `listener` after each change; returns the unsubscribe function. */
  onChange(listener: (lang: Lang) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A date and time (milliseconds since the epoch), in the current language's format. */
  dateTime(ms: number): string {
    return new Intl.DateTimeFormat(this.#lang === "fr" ? "fr-FR" : "en-GB", {
      dateStyle: "medium",
      timeStyle: "short",
    }).format(new Date(ms));
  }
}
