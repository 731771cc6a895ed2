// A front-end's Apollo Client 4, as the docs set it up, against a running hub; run by
// tests/clients/test_apollo.py:   node apollo.mjs PLAN.json
// PLAN: {url, queries: [README query, ...], alert: {type, projectCode}, timeoutMs}
//
// - HTTP through Apollo's automatic-persisted-queries link (SHA-256 from node:crypto, hashed
//   queries over GET), every exchange recorded by a fetch wrapper;
// - the normalized InMemoryCache (objects keyed by __typename and id);
// - subscriptions over graphql-ws (the `ws` package: Node 20 has no WebSocket).
// It prints one JSON object of what it saw; the Python test asserts on it. A failed query
// or subscription exits non-zero with the error.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApolloClient, HttpLink, InMemoryCache, gql, split } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { isSubscriptionOperation } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));

// Every HTTP exchange: method, whether the query text travelled, the hash sent, the status
// and the error codes of the answer.
const exchanges = [];
async function recordingFetch(input, init = {}) {
  const url = new URL(typeof input === 'string' ? input : input.url);
  const method = (init.method ?? 'GET').toUpperCase();
  const sent = method === 'GET'
    ? Object.fromEntries(url.searchParams)
    : JSON.parse(init.body ?? '{}');
  const extensions = typeof sent.extensions === 'string'
    ? JSON.parse(sent.extensions) : (sent.extensions ?? {});
  const response = await fetch(input, init);
  let codes = [];
  try {
    const body = await response.clone().json();
    codes = (body.errors ?? []).map((e) => e.extensions?.code ?? e.message);
  } catch {
    codes = ['<not JSON>'];
  }
  exchanges.push({
    method,
    operation: sent.operationName ?? null,
    withQuery: Boolean(sent.query),
    hash: extensions.persistedQuery?.sha256Hash ?? null,
    status: response.status,
    codes,
  });
  return response;
}

const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const http = new PersistedQueryLink({ sha256, useGETForHashedQueries: true })
  .concat(new HttpLink({ uri: plan.url, fetch: recordingFetch }));
const wsClient = createClient({ url: plan.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket });
const link = split(({ query }) => isSubscriptionOperation(query), new GraphQLWsLink(wsClient), http);
const cache = new InMemoryCache();
const client = new ApolloClient({ link, cache });

// Without the __typename fields Apollo adds to every selection, to compare with a plain answer.
const plain = (value) => JSON.parse(JSON.stringify(value, (k, v) => (k === '__typename' ? undefined : v)));

const out = { readme: [], exchanges, cache: {}, alert: null };
try {
  // The README's screens: each query twice from the network (the second time the hub knows
  // its hash), then once from the cache alone.
  for (const text of plan.queries) {
    const query = gql(text);
    const first = await client.query({ query, fetchPolicy: 'network-only' });
    const again = await client.query({ query, fetchPolicy: 'network-only' });
    const cached = client.readQuery({ query });
    out.readme.push({
      data: plain(first.data),
      sameAgain: JSON.stringify(again.data) === JSON.stringify(first.data),
      sameFromCache: JSON.stringify(cached) === JSON.stringify(first.data),
    });
  }

  // Normalization: one project through a list and through node(id:), each with fields the
  // other lacks, is one cache entry; a query of both fields is then answered from the cache.
  const page = await client.query({
    query: gql`query ProjectsPage { projects(first: 3, sort: [{field: TOTAL_INVESTMENT, direction: DESC}]) {
      nodes { id code name } } }`,
  });
  const { id } = page.data.projects.nodes[0];
  const byId = await client.query({
    query: gql`query ProjectById($id: ID!) { node(id: $id) { id ... on Project { code totalInvestment } } }`,
    variables: { id },
  });
  const before = exchanges.length;
  const both = await client.query({
    query: gql`query ProjectBoth($id: ID!) { node(id: $id) { id ... on Project { name totalInvestment } } }`,
    variables: { id },
    fetchPolicy: 'cache-only',
  });
  const store = cache.extract();
  const key = cache.identify({ __typename: 'Project', id });
  const root = store.ROOT_QUERY ?? {};
  const pageField = Object.keys(root).find((k) => k.startsWith('projects(') && k.includes('"first":3'));
  const nodeField = Object.keys(root).find((k) => k.startsWith('node(') && k.includes(id));
  out.cache = {
    id,
    key,
    projectKeys: Object.keys(store).filter((k) => k.startsWith('Project:')),
    entry: store[key] ?? null,
    pageRefs: (root[pageField]?.nodes ?? []).map((n) => n.__ref ?? null),
    nodeRef: root[nodeField]?.__ref ?? null,
    byIdTotal: byId.data.node.totalInvestment,
    both: plain(both.data),
    bothRequests: exchanges.length - before,
  };

  // The alert feed: subscribe, then wait for the alert the test raises (it watches the
  // hub's subscriber count before raising it).
  out.alert = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${plan.alert.type} alert for ${plan.alert.projectCode} in ${plan.timeoutMs} ms`)),
      plan.timeoutMs,
    );
    const seen = [];
    const subscription = client.subscribe({
      query: gql`subscription AlertFeed { alertFeed {
        change alert { alertId type subject severity status projectCode } } }`,
    }).subscribe({
      next: ({ data, error }) => {
        if (error) {
          clearTimeout(timer);
          reject(error);
          return;
        }
        const event = plain(data.alertFeed);
        seen.push(event);
        const { alert } = event;
        if (event.change === 'RAISED' && alert.type === plan.alert.type
            && alert.projectCode === plan.alert.projectCode) {
          clearTimeout(timer);
          subscription.unsubscribe();
          resolve({ event, seen: seen.length });
        }
      },
      error: (error) => {
        clearTimeout(timer);
        reject(error);
      },
    });
  });
} finally {
  await wsClient.dispose();
  client.stop();
}
process.stdout.write(JSON.stringify(out));
