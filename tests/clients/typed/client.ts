// A typed client of the hub, as a front-end writes it with graphql-codegen's client preset:
// tests/clients/test_codegen.py generates ./gql from the live endpoint, the README's queries
// (named Readme<root field>) and the graphql() documents below, then runs `tsc --noEmit`.
// The @ts-expect-error lines are part of the check: each must be a type error, so they fail
// the build if the generated types were `any` or lost their shape.
import { ApolloClient } from '@apollo/client';
import { graphql } from './gql/index.js';
import {
  ReadmeBarometerDocument,
  ReadmeCityScoreboardDocument,
  ReadmeIndustryChainDocument,
  ReadmeProjectsDocument,
  type ReadmeProjectsQuery,
} from './gql/graphql.js';

const LargestProjects = graphql(`
  query LargestProjects($first: Int!) {
    projects(first: $first, sort: [{field: TOTAL_INVESTMENT, direction: DESC}]) {
      totalCount
      nodes { id code name totalInvestment }
    }
  }
`);

export async function largest(client: ApolloClient, first: number): Promise<string[]> {
  const { data } = await client.query({ query: LargestProjects, variables: { first } });
  // @ts-expect-error: $first is an Int
  await client.query({ query: LargestProjects, variables: { first: String(first) } });
  if (data === undefined) return [];
  const total: number = data.projects.totalCount;
  // @ts-expect-error: totalCount is a number
  const wrong: string = data.projects.totalCount;
  // @ts-expect-error: the document selects no such field
  void data.projects.nodes[0]?.plannedStart;
  void wrong;
  return data.projects.nodes.map(
    (p) => `${p.code} ${p.name}: ${p.totalInvestment.toFixed(1)} of ${total}`,
  );
}

// The README's screens through the documents codegen made of them.
export async function screens(client: ApolloClient): Promise<number> {
  const projects = await client.query({ query: ReadmeProjectsDocument });
  const page: ReadmeProjectsQuery['projects'] | undefined = projects.data?.projects;
  const names: string[] = page?.nodes.map((p) => p.name) ?? [];
  const more: boolean = page?.pageInfo.hasNextPage ?? false;
  const chain = await client.query({ query: ReadmeIndustryChainDocument });
  const scoreboard = await client.query({ query: ReadmeCityScoreboardDocument });
  const barometer = await client.query({ query: ReadmeBarometerDocument });
  // @ts-expect-error: a screen's answer has only the fields its document selects
  void barometer.data?.projects;
  return names.length + Number(more) + (chain.data ? 1 : 0) + (scoreboard.data ? 1 : 0);
}
