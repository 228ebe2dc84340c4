# Slim image, non-root user, data on a volume. Build: docker build -t inpaint-bot .
# Run (the stop timeout must exceed SHUTDOWN_GRACE_S, 250 s by default, or Docker kills a bot that is
# still waiting for a running edit):  docker run --stop-timeout 280 --env-file .env -v inpaint-data:/data inpaint-bot
# Several processes on PostgreSQL: compose.yaml (README "Operations").
FROM python:3.11-slim

# WEB_HOST: inside the container the web server (health, metrics, mask editor) must listen on all
# interfaces to be reachable; publish it to the host's loopback and put a TLS reverse proxy in front of
# the editor (README "Mask editor"). /metrics and /healthz are for your network only.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 DATA_DIR=/data WEB_HOST=0.0.0.0 WEB_PORT=8080

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY storage ./storage
RUN pip install . && useradd --create-home --uid 10001 bot && mkdir -p /data && chown bot:bot /data

USER bot
VOLUME ["/data"]
EXPOSE 8080
# Ready = event loop responsive, database reachable, gateway connected (a worker: the image API
# reachable); 503 otherwise, which urlopen raises. No curl in the image: Python's urllib does it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('WEB_PORT', '8080'), timeout=4)" || exit 1
# SIGTERM (docker stop) shuts the bot down cleanly: it stops taking jobs and waits up to SHUTDOWN_GRACE_S
# for running edits. A Dockerfile cannot set the stop timeout: pass --stop-timeout (docker run) or
# stop_grace_period (compose.yaml) above the grace.
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "bot"]
