# One image for every fleetstream command (ENTRYPOINT fleetstream: describer, sink, plan,
# lag-exporter, topics ensure, restore-from-state, ...) and for Lambda mode (the functions
# override the entry point with the runtime interface client; deploy/aws/lambda.yaml).
# Not built in CI: the development machines have no Docker engine. Nothing depends on it:
# `pip install .` runs every command the same way.
#
#   docker build -t fleetstream .
#   docker run --rm fleetstream --help

# The base image is referenced by tag, not digest: pin it (python:3.11-slim-bookworm@sha256:...)
# from a machine that can pull and verify it (docs/security.md).
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /app/venv
WORKDIR /src
# Every dependency (the lambda extra's and the build backend's included) from the hash-locked
# file: a changed or substituted distribution fails the build. Regenerate it with pip-compile
# (README "Development": the dependency lock).
COPY requirements.lock ./
RUN /app/venv/bin/pip install --no-deps --require-hashes -r requirements.lock
COPY pyproject.toml setup.py README.md ./
COPY fleetstream fleetstream
COPY producers producers
COPY consumers consumers
# The Avro schemas are package data of the wheel (fleetstream/schemas).
COPY schemas schemas
# The package itself, with what the lock installed: nothing more is fetched.
RUN /app/venv/bin/pip install --no-deps --no-index --no-build-isolation .

FROM python:3.11-slim-bookworm
COPY --from=build /app/venv /app/venv
ENV FLEETSTREAM_LOG_FORMAT=json \
    PATH=/app/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin fleetstream
USER 10001
WORKDIR /app
ENTRYPOINT ["/app/venv/bin/fleetstream"]
CMD ["--help"]
