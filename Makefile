# The two set-up commands of the README: `make demo` and `make test`.
.PHONY: demo test lint bench

.venv/.bootstrapped: pyproject.toml uv.lock scripts/bootstrap
	./scripts/bootstrap

demo: .venv/.bootstrapped
	.venv/bin/hub demo

test: .venv/.bootstrapped
	.venv/bin/python -m pytest

lint: .venv/.bootstrapped
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

bench: .venv/.bootstrapped
	.venv/bin/python -m bench
