# Slim image, non-root user, data on a volume. Build: docker build -t inpaint-bot .
FROM python:3.11-slim

# WEB_HOST: inside the container the web server (mask editor) must listen on all interfaces to be
# published; publish it to the host's loopback and put a TLS reverse proxy in front (README "Mask editor").
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
# SIGTERM (docker stop) shuts the bot down cleanly; give it the grace period plus a margin.
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "bot"]
