/**
 * The wiki tool's own strings (those of every publishing tool, `publication.*`, are in
 * `src/i18n/`), merged into the catalogues by `i18n/index.ts`.
 */
import { toolMessages } from "../../i18n/tool-messages";

const messages = toolMessages({
  en: {
    "wiki.new": "New page",
    "wiki.empty": "The wiki has no pages yet. Write the first one!",
    "wiki.tree": "Pages",
    "wiki.recent": "Recently changed",
    "wiki.newBy": "New page by {sender}.",
  },
  fr: {
    "wiki.new": "Nouvelle page",
    "wiki.empty": "Le wiki n’a pas encore de pages. Écrivez la première !",
    "wiki.tree": "Pages",
    "wiki.recent": "Modifiées récemment",
    "wiki.newBy": "Nouvelle page de {sender}.",
  },
});

export default messages;

declare module "../../i18n/tool-messages" {
  interface ToolMessageKeys {
    wiki: keyof typeof messages.en;
  }
}
