/**
 * The guides tool's own strings (those of every publishing tool, `publication.*`, are in
 * `src/i18n/`), merged into the catalogues by `i18n/index.ts`.
 */
import { toolMessages } from "../../i18n/tool-messages";

const messages = toolMessages({
  en: {
    "guides.new": "New guide",
    "guides.empty": "No guides yet. A guide leads through wiki pages in order.",
    "guides.addPage": "Wiki page",
    "guides.newBy": "New guide by {sender}.",
  },
  fr: {
    "guides.new": "Nouveau guide",
    "guides.empty": "Aucun guide pour l’instant. Un guide mène à travers des pages du wiki, dans l’ordre.",
    "guides.addPage": "Page du wiki",
    "guides.newBy": "Nouveau guide de {sender}.",
  },
});

export default messages;

declare module "../../i18n/tool-messages" {
  interface ToolMessageKeys {
    guides: keyof typeof messages.en;
  }
}
