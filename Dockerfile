# woo-telegram-bridge: one process, one container.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bridge ./bridge
COPY templates ./templates
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.12-slim
ENV PYTHONUNBUFFERED=1 \
    PTB_TIMEDELTA=1 \
    BRIDGE_DATA_DIR=/data
COPY --from=build /install /usr/local
RUN useradd --system --uid 10001 --home-dir /data bridge \
    && mkdir -p /data && chown bridge /data
USER bridge
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]
# Exec form, so that SIGTERM reaches Python and in-flight sends finish.
ENTRYPOINT ["woo-bridge"]
CMD ["serve"]
