# A slim image that runs `briefbot run` as a non-root user, with its database on a volume.
#   docker build -t briefbot .
#   docker run --rm -it -v briefbot-data:/data --env-file .env briefbot
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.12-slim
ENV PYTHONUNBUFFERED=1 \
    BRIEFBOT_DB=/data/briefbot.db
COPY --from=build /install /usr/local
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin briefbot \
    && mkdir -p /data /app \
    && chown briefbot /data
WORKDIR /app
COPY config ./config
USER briefbot
VOLUME ["/data"]
ENTRYPOINT ["briefbot"]
CMD ["run"]
