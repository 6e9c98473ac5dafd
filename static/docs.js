// /docs: the API reference (Scalar, vendored), pointed at this server's OpenAPI document,
// with everything that would reach the internet turned off.
(function () {
  "use strict";
  Scalar.createApiReference("#app", {
    url: "/api-docs/openapi.json",
    withDefaultFonts: false,
    hideClientButton: true,
    telemetry: false,
    showDeveloperTools: "never",
    agent: { disabled: true },
    mcp: { disabled: true }
  });
})();
