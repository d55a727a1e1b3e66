/**
 * The faq tool's own strings (those of every publishing tool, `publication.*`, are in
 * `src/i18n/`), merged into the catalogues by `i18n/index.ts`.
 */
import { toolMessages } from "../../i18n/tool-messages";

const messages = toolMessages({
  en: {
    "faq.new": "New question",
    "faq.empty": "No questions yet.",
    "faq.general": "General",
    "faq.newBy": "New question by {sender}.",
  },
  fr: {
    "faq.new": "Nouvelle question",
    "faq.empty": "Aucune question pour l’instant.",
    "faq.general": "Général",
    "faq.newBy": "Nouvelle question de {sender}.",
  },
});

export default messages;

declare module "../../i18n/tool-messages" {
  interface ToolMessageKeys {
    faq: keyof typeof messages.en;
  }
}
