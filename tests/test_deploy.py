"""The deployment files: ``compose.yaml`` and the ``Dockerfile`` (Docker does not run here, so they are
checked structurally), and their health check command run for real against the bot's web server."""

from __future__ import annotations

import asyncio
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import Settings
from bot.web import WebServer
from tests import REPO_ROOT

COMPOSE = REPO_ROOT / "compose.yaml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
BOT_SERVICES = ("gateway", "worker")
GRACE_S = Settings().shutdown_grace_s  # the default SHUTDOWN_GRACE_S


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def seconds(duration: str) -> float:
    """A compose duration such as ``280s``, ``4m40s`` or ``1m``."""
    parts = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert parts and any(parts.groups()), duration
    return int(parts[1] or 0) * 60 + int(parts[2] or 0)


def dockerfile_instruction(name: str) -> str:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    found = [line[len(name) :].strip() for line in text.splitlines() if line.startswith(name + " ")]
    assert len(found) == 1, (name, found)
    return found[0]


def test_compose_has_postgres_one_gateway_and_scalable_workers() -> None:
    spec = compose()
    services = spec["services"]
    assert set(services) == {"postgres", "gateway", "worker"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["postgres"]["volumes"])
    entrypoint = yaml.safe_load(dockerfile_instruction("ENTRYPOINT"))
    assert entrypoint + services["worker"]["command"] == ["python", "-m", "bot", "worker"]
    assert "command" not in services["gateway"]  # python -m bot: the gateway
    assert services["gateway"]["environment"]["RUN_WORKER"] == "false"
    assert services["worker"]["environment"].get("RUN_WORKER", "true") != "false"
    worker = services["worker"]
    assert "ports" not in worker and "container_name" not in worker  # --scale worker=3 must not collide
    for name in BOT_SERVICES:
        service = services[name]
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert Settings.from_mapping(env).database_url == env["DATABASE_URL"]  # a URL the bot accepts


def test_the_image_volume_is_shared_by_every_bot_service() -> None:
    spec = compose()
    mounts = {name: set(spec["services"][name]["volumes"]) for name in BOT_SERVICES}
    data_dir = {spec["services"][name]["environment"]["DATA_DIR"] for name in BOT_SERVICES}
    assert data_dir == {"/data"}
    shared = set.intersection(*mounts.values())
    assert any(m.endswith(":/data") and m.split(":")[0] in spec["volumes"] for m in shared), mounts
    assert set(spec["volumes"]) >= {m.split(":")[0] for m in shared} | {"pgdata"}


def test_every_service_has_a_healthcheck_and_bots_outlast_the_shutdown_grace() -> None:
    services = compose()["services"]
    for name, service in services.items():
        check = service["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL") and int(check["retries"]) >= 1, name
    for name in BOT_SERVICES:
        service = services[name]
        assert "/healthz" in " ".join(service["healthcheck"]["test"])
        assert seconds(service["stop_grace_period"]) > GRACE_S, (name, service["stop_grace_period"], GRACE_S)


def test_dockerfile_healthcheck_needs_no_curl_and_the_docs_give_a_stop_timeout_above_the_grace() -> None:
    healthcheck = dockerfile_instruction("HEALTHCHECK")
    assert "CMD python -c" in healthcheck and "urllib" in healthcheck and "curl" not in healthcheck
    assert dockerfile_instruction("STOPSIGNAL") == "SIGTERM"
    readme = (REPO_ROOT / "README.md").read_text()
    timeouts = [int(t) for t in re.findall(r"--stop-timeout (\d+)", readme + DOCKERFILE.read_text())]
    assert timeouts and all(t > GRACE_S for t in timeouts), timeouts
    assert "docker compose up" in readme and "--scale worker=" in readme


def healthcheck_commands() -> list[list[str]]:
    """The exact commands Docker runs: the Dockerfile's (a shell line) and compose's (exec form)."""
    line = dockerfile_instruction("HEALTHCHECK").split(" CMD ", 1)[1]
    from_dockerfile = shlex.split(line.split(" || ")[0])
    from_compose = compose()["services"]["worker"]["healthcheck"]["test"][1:]
    assert from_dockerfile == from_compose
    return [from_dockerfile]


@pytest.mark.parametrize("ready", [True, False])
async def test_the_healthcheck_command_passes_on_200_and_fails_on_503(tmp_path: Path, ready: bool) -> None:
    server = WebServer(Settings(data_dir=tmp_path, web_port=0), None)
    server.health.set_ready_check("database", lambda: ready)
    await server.start()
    try:
        for argv in healthcheck_commands():
            assert argv[0] == "python"
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                *argv[1:],
                env={"WEB_PORT": str(server.port)},
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            assert await asyncio.wait_for(proc.wait(), 30) == (0 if ready else 1)
    finally:
        await server.stop()
