# The image for the Docker work pool (prefect.yaml: the `interviews-docker` deployments).
#   docker build -t interviews:latest .
# Flow runs start in /opt/interviews (the deployments' pull step) with the locked environment.
# They keep nothing in the container: give them a bucket data dir and a shared ledger, e.g.
#   INTERVIEWS_DATA_DIR=gs://bucket/interviews  INTERVIEWS_LEDGER_URL=postgresql+psycopg://…
# (README, "Several machines"). Credentials come from Prefect blocks or the providers' env vars.
FROM python:3.11-slim

# uv from its official image, pinned: the same resolver as the lock file
COPY --from=ghcr.io/astral-sh/uv:0.13 /uv /uvx /bin/

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DO_NOT_TRACK=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false

WORKDIR /opt/interviews

# dependencies first (a layer that survives code changes), exactly as uv.lock pins them
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

COPY blocks ./blocks
COPY flows ./flows
COPY interviews ./interviews
COPY tasks ./tasks
COPY data/sample ./data/sample
COPY prefect.yaml ./
RUN uv sync --frozen --no-dev

# health data: never run as root; workspaces go to the container's own temporary folder
RUN useradd --create-home --uid 10001 interviews
USER interviews

CMD ["interviews", "--help"]
