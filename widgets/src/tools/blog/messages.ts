/**
 * The blog tool's own strings (the others it shares with the publishing pages are in
 * `src/i18n/`), merged into the catalogues by `i18n/index.ts`.
 */
import { toolMessages } from "../../i18n/tool-messages";

const messages = toolMessages({
  en: {
    "blog.newBy": "New post by {sender}.",
  },
  fr: {
    "blog.newBy": "Nouveau billet de {sender}.",
  },
});

export default messages;

declare module "../../i18n/tool-messages" {
  interface ToolMessageKeys {
    blog: keyof typeof messages.en;
  }
}
