// Starts GraphiQL (the vendored UMD builds set window.React, ReactDOM and GraphiQL) against
// this hub's /graphql: queries and mutations over HTTP, subscriptions over the same path's
// WebSocket. An API key goes in the Headers tab ({"Authorization": "Bearer ..."}); it is not
// kept in the browser's storage.
(function () {
  "use strict";

  var EXAMPLE = [
    "# E-Ledger Hub: the GraphQL API.",
    "# Ctrl-Enter runs the query; the Docs panel lists every type and field.",
    "# Writes need a key: add it in the Headers tab below as",
    '#   {"Authorization": "Bearer <key>"}',
    "",
    "{",
    "  regions(first: 5) {",
    "    totalCount",
    "    nodes { code name }",
    "  }",
    "}",
    "",
  ].join("\n");

  var url = window.location.origin + "/graphql";
  var socket = new URL(url);
  socket.protocol = socket.protocol === "https:" ? "wss:" : "ws:";

  var fetcher = GraphiQL.createFetcher({ url: url, subscriptionUrl: socket.toString() });
  var element = React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: EXAMPLE,
    defaultEditorToolsVisibility: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
    inputValueDeprecation: true,
  });
  ReactDOM.createRoot(document.getElementById("graphiql")).render(element);
})();
