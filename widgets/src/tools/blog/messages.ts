/**
 * The blog tool's own strings (those of every publishing tool, `publication.*`, are in
 * `src/i18n/`), merged into the catalogues by `i18n/index.ts`.
 */
import { toolMessages } from "../../i18n/tool-messages";

const messages = toolMessages({
  en: {
    "blog.new": "New post",
    "blog.empty": "No posts yet.",
    "blog.newBy": "New post by {sender}.",
  },
  fr: {
    "blog.new": "Nouveau billet",
    "blog.empty": "Aucun billet pour l’instant.",
    "blog.newBy": "Nouveau billet de {sender}.",
  },
});

export default messages;

declare module "../../i18n/tool-messages" {
  interface ToolMessageKeys {
    blog: keyof typeof messages.en;
  }
}
