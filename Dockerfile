# Slim image, non-root user, data on a volume. Build: docker build -t inpaint-bot .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY storage ./storage
RUN pip install . && useradd --create-home --uid 10001 bot && mkdir -p /data && chown bot:bot /data

USER bot
VOLUME ["/data"]
# SIGTERM (docker stop) shuts the bot down cleanly; give it the grace period plus a margin.
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "bot"]
