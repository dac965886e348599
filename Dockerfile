# syntax=docker/dockerfile:1
# woo-telegram-bridge: one process, one container.
#   docker build -t woo-telegram-bridge .
#   docker run -d -p 8080:8080 -v bridge-data:/data --env-file .env \
#     --ulimit nofile=4096:4096 woo-telegram-bridge
# or compose.yaml beside this file. Each open connection takes a file descriptor: keep the
# open-file limit above BRIDGE_MAX_CONNECTIONS (1000) + 64; the bridge closes connections
# beyond that bound.

ARG PYTHON=python:3.12-slim-bookworm

FROM ${PYTHON} AS build
WORKDIR /src
# The dependencies first, at the versions of constraints/pinned.txt, in a layer of their
# own: a change to the code reuses it instead of resolving and reinstalling them.
# Byte-code is compiled here, checked by nothing at run time: the code is read-only, and
# a start (or a `docker exec woo-bridge ...`) does not pay for compiling it.
COPY constraints/pinned.txt ./constraints/
RUN pip install --no-cache-dir --prefix=/deps -r constraints/pinned.txt \
    && python -m compileall -q -f --invalidation-mode unchecked-hash /deps
# Then the bridge alone: its dependencies are the pinned ones above.
COPY pyproject.toml README.md LICENSE ./
COPY bridge ./bridge
COPY templates ./templates
RUN pip install --no-cache-dir --no-deps --prefix=/app . \
    && python -m compileall -q -f --invalidation-mode unchecked-hash /app

# The runtime image: no compiler, no pip cache, no sources; code owned by root, read-only.
FROM ${PYTHON}
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PTB_TIMEDELTA=1 \
    BRIDGE_DATA_DIR=/data \
    BRIDGE_PORT=8080
# Two layers: an update that changes only the code downloads only the second.
COPY --from=build /deps /usr/local
COPY --from=build /app /usr/local
RUN useradd --system --uid 10001 --no-create-home --home-dir /nonexistent bridge \
    && mkdir /data \
    && chown bridge:bridge /data
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# /healthz answers 200 while the process is alive; python is there, curl is not.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('BRIDGE_PORT', '8080'), timeout=4).status != 200)"]
# Exec form: SIGTERM reaches Python, which finishes the sends in flight.
ENTRYPOINT ["woo-bridge"]
CMD ["serve"]
