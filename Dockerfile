# A slim image that runs `briefbot run` as a non-root user, headless, with its database on the
# /data volume and its configuration in /config (the bundled one, or a folder mounted there).
#   docker build -t briefbot .
#   docker run -d --name briefbot -v briefbot-data:/data -v "$PWD/config:/config:ro" \
#       --env-file .env -p 3000:3000 briefbot
# The working directory is /, so every command's default `--config config/` is /config:
#   docker exec briefbot briefbot status
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.12-slim
ENV PYTHONUNBUFFERED=1 \
    BRIEFBOT_DB=/data/briefbot.db
COPY --from=build /install /usr/local
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin briefbot \
    && mkdir -p /data \
    && chown briefbot /data
COPY config /config
WORKDIR /
USER briefbot
VOLUME ["/data"]
# Slack's HTTP mode listens here (SLACK_HTTP_PORT); Socket Mode needs no port.
EXPOSE 3000
# docker stop sends SIGTERM and waits 10 s: the bot drains deliveries for at most 8.
STOPSIGNAL SIGTERM
ENTRYPOINT ["briefbot"]
CMD ["run"]
