# The two set-up commands of the README: `make demo` and `make test`.
.PHONY: demo test stress lint bench schema web

.venv/.bootstrapped: pyproject.toml uv.lock scripts/bootstrap
	./scripts/bootstrap

# The web console (hub/web -> hub/web/dist); a no-op unless its sources changed.
web:
	./scripts/build-web

demo: .venv/.bootstrapped web
	.venv/bin/hub demo

test: .venv/.bootstrapped web
	.venv/bin/python -m pytest

stress: .venv/.bootstrapped
	.venv/bin/python -m pytest -m stress

lint: .venv/.bootstrapped
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

bench: .venv/.bootstrapped
	.venv/bin/python -m bench

# schema.graphql is the contract front-end clients generate from; a test fails when it drifts.
schema: .venv/.bootstrapped
	.venv/bin/hub schema > schema.graphql.tmp && mv schema.graphql.tmp schema.graphql
