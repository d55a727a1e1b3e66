/**
 * The likes tool: 👍 "like" and ⭐ "recommend" on every object, as Matrix reactions
 * (`m.reaction`, `m.annotation` on the object's current revision) in the object's own room, so
 * any Matrix client shows and can add them; and the community's most recommended objects on its
 * home. It has no page and no room of its own, so no navigation entry, and every community has
 * it. Found by `src/tools/index.ts`; its renderers are chunks of their own, loaded when shown.
 */
import type { PageContext } from "../../app/context";
import type { ToolDef } from "../../app/registry";
import { capability } from "../../session/capabilities";

const likes: ToolDef<PageContext> = {
  id: "likes",
  order: 50,
  everyCommunity: true,
  objectPanels: [{ name: "reactions", load: () => import("./object-panel") }],
  homeSections: [{ name: "most-recommended", load: () => import("./home-section") }],
  // In widget mode Element sends the reaction, and withdraws it by redacting it. Others'
  // reactions and withdrawals, as they arrive, update the counts (in both modes).
  capabilities: [
    capability.sendEvent("m.reaction"),
    capability.sendEvent("m.room.redaction"),
    capability.receiveEvent("m.reaction"),
    capability.receiveEvent("m.room.redaction"),
  ],
};

export default likes;
