/**
 * The likes tool's strings, merged into the catalogues by `i18n/index.ts`; French has exactly
 * the English keys (the compiler checks), and the keys join `MessageKey` below.
 */
import { toolMessages } from "../../i18n/tool-messages";

const messages = toolMessages({
  en: {
    "likes.group": "Reactions",
    "likes.like": "Like",
    "likes.recommend": "Recommend",
    "likes.liked": "Like added.",
    "likes.unliked": "Like withdrawn.",
    "likes.recommended": "Recommendation added.",
    "likes.unrecommended": "Recommendation withdrawn.",
    "likes.mostRecommended": "Most recommended",
    "likes.likeCount": "{count} like(s)",
    "likes.recommendCount": "{count} recommendation(s)",
  },
  fr: {
    "likes.group": "Réactions",
    "likes.like": "J’aime",
    "likes.recommend": "Recommander",
    "likes.liked": "« J’aime » ajouté.",
    "likes.unliked": "« J’aime » retiré.",
    "likes.recommended": "Recommandation ajoutée.",
    "likes.unrecommended": "Recommandation retirée.",
    "likes.mostRecommended": "Les plus recommandés",
    "likes.likeCount": "{count} j’aime",
    "likes.recommendCount": "{count} recommandation(s)",
  },
});

export default messages;

declare module "../../i18n/tool-messages" {
  interface ToolMessageKeys {
    likes: keyof typeof messages.en;
  }
}
