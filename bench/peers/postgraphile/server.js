// PostGraphile 4 over the generated province in PostgreSQL: the peer of `python -m bench api`.
// A benchmark fixture, not part of the product. One node process, the plugins a PostgreSQL user
// would add for these reads: simplify-inflector (project, projects), connection-filter (with
// relation filters: the projects of a city) and pg-aggregates (sums and counts by stage).
// DATABASE_URL, PORT; prints "peer ready http://127.0.0.1:PORT/graphql".
"use strict";
const http = require("node:http");
const { postgraphile } = require("postgraphile");
const PgSimplifyInflectorPlugin = require("@graphile-contrib/pg-simplify-inflector");
const ConnectionFilterPlugin = require("postgraphile-plugin-connection-filter");
const PgAggregatesPlugin = require("@graphile/pg-aggregates").default;

const port = Number(process.env.PORT ?? 5000);
const middleware = postgraphile(process.env.DATABASE_URL, "public", {
  appendPlugins: [PgSimplifyInflectorPlugin, ConnectionFilterPlugin, PgAggregatesPlugin],
  graphileBuildOptions: { connectionFilterRelations: true },
  // Production settings, as the PostGraphile docs recommend them.
  retryOnInitFail: false,
  dynamicJson: true,
  setofFunctionsContainNulls: false,
  ignoreRBAC: false,
  disableQueryLog: true,
  extendedErrors: ["errcode"],
  enableQueryBatching: false,
  legacyRelations: "omit",
});
const server = http.createServer(middleware);
server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`peer ready http://127.0.0.1:${port}/graphql\n`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close();
    middleware.release().finally(() => process.exit(0));
  });
}
