/**
 * The faq tool's own strings (the others it shares with the publishing pages are in
 * `src/i18n/`), merged into the catalogues by `i18n/index.ts`.
 */
import { toolMessages } from "../../i18n/tool-messages";

const messages = toolMessages({
  en: {
    "faq.newBy": "New question by {sender}.",
  },
  fr: {
    "faq.newBy": "Nouvelle question de {sender}.",
  },
});

export default messages;

declare module "../../i18n/tool-messages" {
  interface ToolMessageKeys {
    faq: keyof typeof messages.en;
  }
}
