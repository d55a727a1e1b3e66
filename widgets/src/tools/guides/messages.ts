/**
 * The guides tool's own strings (the others it shares with the publishing pages are in
 * `src/i18n/`), merged into the catalogues by `i18n/index.ts`.
 */
import { toolMessages } from "../../i18n/tool-messages";

const messages = toolMessages({
  en: {
    "guides.newBy": "New guide by {sender}.",
  },
  fr: {
    "guides.newBy": "Nouveau guide de {sender}.",
  },
});

export default messages;

declare module "../../i18n/tool-messages" {
  interface ToolMessageKeys {
    guides: keyof typeof messages.en;
  }
}
