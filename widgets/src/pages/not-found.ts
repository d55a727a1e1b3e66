/** Unknown links. */
import type { PageContext } from "../app/context";
import { h } from "../app/dom";
import { pageHeader } from "../app/ui";

export default function notFound({ app, main }: PageContext): void {
  app.setTitle(app.t("notFound.title"));
  main.append(pageHeader(app.t("notFound.title")), h("p", null, h("a", { href: "#/" }, app.t("notFound.back"))));
}
