/**
 * The DSFR theme (`dsfr.css`), a chunk of its own that `app/theme.ts` loads when the deployment
 * chose it (`"theme": "dsfr"` of `GET /api/v1/info`), or remembers it did.
 */
import "./dsfr.css";
