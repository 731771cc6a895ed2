# The two set-up commands of the README: `make demo` and `make test`.
.PHONY: demo test test-stress test-serial system-deps lint lint-cypher-full bench schema web clients bytecode neo4j

.venv/.bootstrapped: pyproject.toml uv.lock scripts/bootstrap
	./scripts/bootstrap

# The web console (hub/web -> hub/web/dist); a no-op unless its sources changed.
web:
	./scripts/build-web

# The npm GraphQL clients the tests run against a hub (tests/clients: Apollo Client, graphql-ws,
# graphql-codegen, tsc, graphql-inspector); a no-op unless its lock changed.
clients:
	./scripts/build-clients

# The Neo4j 5.26 server the tests and benchmarks start (tools/neo4j-server); a no-op unless its
# sources changed.
neo4j:
	./scripts/build-neo4j

demo: .venv/.bootstrapped web bytecode
	.venv/bin/hub demo

# The system packages the tests need (scripts/system-packages): installed when root with apt,
# otherwise one line naming what is missing and how to get it.
system-deps:
	./scripts/system-deps

# The whole suite, in parallel (pytest-xdist, TEST_WORKERS processes, by default one more than
# the cores: much of the suite waits on brokers, servers and subprocesses, and on the 2-core CI
# machine 3 workers ran the idle clean-clone job in 4:41 against 5:34 with 2, same CPU);
# prints the 20 slowest tests.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1); echo $$((n + 1)))
test: system-deps .venv/.bootstrapped web clients neo4j bytecode
	.venv/bin/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=20

# The project's own .pyc, written once before the tests (scripts/bootstrap does the packages'):
# with PYTHONDONTWRITEBYTECODE set, each of the suite's Python processes would compile them
# again (36 % of the CPU of the CLI and worker tests, measured).
PACKAGES = hub graph_schema ingest vision connectors bench tests
# pytest's assertion-rewritten test modules and plugins likewise (tests/assert_cache.py: 4 CPU-s
# once, instead of ~6 in every pytest process).
bytecode: .venv/.bootstrapped
	.venv/bin/python -m compileall -q -j 0 $(PACKAGES)
	.venv/bin/python -m tests.assert_cache

# The same, in one process (easier to debug).
test-serial: system-deps .venv/.bootstrapped web clients neo4j bytecode
	.venv/bin/python -m pytest

# The time-sensitive tests (marked `timing`) with a CPU hog on every core: they must pass when
# the machine is busy. scripts/cpu-hog starts one busy process per core and stops them after.
# STRESS_TESTS narrows the selection (a pytest -m expression; .ci/run leaves out `slow`).
STRESS_TESTS ?= timing
test-stress: system-deps .venv/.bootstrapped web clients neo4j bytecode
	./scripts/cpu-hog -- .venv/bin/python -m pytest -n auto --dist loadgroup -m "$(STRESS_TESTS)" --durations=10

lint: .venv/.bootstrapped
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

# Every Neo4j-dialect statement through Neo4j's own linter (about 90 CPU-s), then the record of
# clean statements rewritten (tests/graph_schema/neo4j_lint_clean.json): the test lints only
# what the record lacks, plus a sample of what it holds.
lint-cypher-full: .venv/.bootstrapped
	.venv/bin/python -m tests.graph_schema.neo4j_lint

bench: .venv/.bootstrapped
	.venv/bin/python -m bench

# schema.graphql is the contract front-end clients generate from; a test fails when it drifts.
schema: .venv/.bootstrapped
	.venv/bin/hub schema > schema.graphql.tmp && mv schema.graphql.tmp schema.graphql
