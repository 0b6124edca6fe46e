// Casework browser entry point.
//
// Served as /static/dist/app.mjs and loaded with
//   <script type="module" src="/static/dist/app.mjs" nonce="..."></script>
// scripts/build-assets.mjs copies the two bundles and our own modules next to
// it. All are self-contained ES modules (no imports of their own), so relative
// imports work without a bundler, an import map or a CDN:
//   govuk-frontend.min.js  <- govuk-frontend/dist/govuk/govuk-frontend.min.js
//   moj-frontend.min.js    <- @ministryofjustice/frontend/moj/moj-frontend.min.js
//   session-timeout.mjs    <- assets/js/session-timeout.mjs
import { initAll as initGovukFrontend } from "./govuk-frontend.min.js";
import { initAll as initMojFrontend } from "./moj-frontend.min.js";
import { initSessionTimeout } from "./session-timeout.mjs";

// GOV.UK Frontend's components only initialise when <body> has the
// `govuk-frontend-supported` class. The page template normally adds it (and
// `js-enabled`) straight after <body>; if it did not, add them here. Module
// scripts only run in browsers that support ES modules, which is exactly
// GOV.UK Frontend's own support test.
document.body.classList.add("js-enabled", "govuk-frontend-supported");

initGovukFrontend();
initMojFrontend();

// The warning before the session times out (signed-in pages only; see the module).
initSessionTimeout();

// "Print this notice" (the printable required-assessment notices): hidden without JavaScript.
for (const button of document.querySelectorAll("[data-app-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
