"""``python -m bot edit|check|sync|run`` as a real subprocess against the fake Ideogram server.

The fake runs in the test's event loop on 127.0.0.1; the CLI runs with ``asyncio.create_subprocess_exec``
so the loop keeps serving while the test waits. Each run gets a fresh temporary working directory (no
stray ``.env``) and an environment built from scratch: only PATH, PYTHONPATH and what the test adds.
Every run also checks that no secret the test handed it shows up in its stdout or stderr.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat

from tests import REPO_ROOT
from tests.fakes.ideogram import FakeIdeogram, pattern, sample_image, sample_mask

KEY = "sk-ideo-CLI-TOPSECRET-0123456789abcdef"
DISCORD = "discord-CLI-TOPSECRET.abcdef.0123456789"
W, H = 128, 96
BOX = (32, 24, 96, 72)  # the mask file's black (edit) rectangle, in pixels
PROMPT = "a red umbrella"
RUN_TIMEOUT_S = 60.0

Box = tuple[int, int, int, int]


# --- running the CLI --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def printed_paths(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.strip()]


async def run_cli(
    *args: str | Path,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    secrets: tuple[str, ...] = (KEY, DISCORD),
) -> Run:
    """``python -m bot ARGS`` in ``cwd``; asserts that none of ``secrets`` appears in its output."""
    full_env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO_ROOT),
        "PYTHONIOENCODING": "utf-8",
        "HOME": str(cwd),
        "WEB_PORT": "0",  # `run` starts the web server: any free port
    }
    full_env.update(env or {})
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *map(str, args),
        cwd=cwd,
        env=full_env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), RUN_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    run = Run(proc.returncode, out.decode(), err.decode(), time.perf_counter() - started)
    for secret in secrets:
        assert secret not in run.output, f"a secret leaked into the output of {args}"
    return run


# --- the configured API set-ups ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Setup:
    """One way an operator can point the bot at an API: how the fake answers, what the env says."""

    name: str
    shape: str
    path: str
    auth: str
    fake: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def server(self, **overrides: Any) -> FakeIdeogram:
        kwargs = {"shape": self.shape, "path": self.path, "auth": self.auth, "api_key": KEY, **self.fake}
        return FakeIdeogram(**{**kwargs, **overrides})

    def environment(self, fake: FakeIdeogram, **extra: str) -> dict[str, str]:
        return {"IDEOGRAM_API_KEY": KEY, "IDEOGRAM_BASE_URL": fake.base_url, **self.env, **extra}


OFFICIAL_V3 = Setup("official-v3", "v3", "/v1/ideogram-v3/edit", "api-key")  # everything else defaults
AGGREGATOR_V3 = Setup(
    "aggregator-v3",
    "v3",
    "/ideogram/v1/ideogram-v3/edit",
    "bearer",
    env={"IDEOGRAM_EDIT_PATH": "/ideogram/v1/ideogram-v3/edit", "IDEOGRAM_AUTH": "bearer"},
)
AGGREGATOR_LEGACY = Setup(
    "aggregator-legacy",
    "legacy",
    "/ideogram/edit",
    "bearer",
    env={
        "IDEOGRAM_API": "legacy",
        "IDEOGRAM_EDIT_PATH": "/ideogram/edit",
        "IDEOGRAM_AUTH": "bearer",
        "IDEOGRAM_MODEL": "V_2",
    },
)
AGGREGATOR_TASKS = Setup(
    "aggregator-v3-tasks",
    "v3",
    "/ideogram/v1/ideogram-v3/edit",
    "bearer",
    # task_polls=0: the first poll (after the client's 1 s poll interval) reports the result
    fake={"task_mode": "succeed", "task_path": "/ideogram/v1/tasks/{task_id}", "task_polls": 0},
    env={
        "IDEOGRAM_EDIT_PATH": "/ideogram/v1/ideogram-v3/edit",
        "IDEOGRAM_AUTH": "bearer",
        "IDEOGRAM_TASK_PATH": "/ideogram/v1/tasks/{task_id}",
    },
)
SETUPS = [OFFICIAL_V3, AGGREGATOR_V3, AGGREGATOR_LEGACY, AGGREGATOR_TASKS]


# --- inputs and pixel checks --------------------------------------------------------------------------


def write_inputs(directory: Path, *, mask: bytes | None = None) -> tuple[Path, Path]:
    image_path, mask_path = directory / "photo.png", directory / "mask.png"
    image_path.write_bytes(sample_image(W, H))
    mask_path.write_bytes(mask if mask is not None else sample_mask(W, H, BOX))
    return image_path, mask_path


def png_bytes(im: Image.Image) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, "PNG")
    return buffer.getvalue()


def load(path: Path) -> Image.Image:
    with Image.open(path) as im:
        im.load()
        return im.copy()


def file_format(path: Path) -> str | None:
    with Image.open(path) as im:
        return im.format


def area(boxes: list[Box], *, invert: bool = False) -> Image.Image:
    """Mode L, 255 where the edit should happen (the union of ``boxes``, or its complement)."""
    im = Image.new("L", (W, H), 255 if invert else 0)
    for box in boxes:
        im.paste(0 if invert else 255, box)
    return im


def changed(before: Image.Image, after: Image.Image) -> Image.Image:
    """Mode L, 255 wherever any channel differs."""
    diff = ImageChops.difference(before.convert("RGB"), after.convert("RGB"))
    return reduce(ImageChops.lighter, diff.split()).point(lambda v: 255 if v else 0)


def count(mask: Image.Image) -> int:
    return mask.histogram()[255]


def assert_edited(before: Image.Image, after: Image.Image, edit: Image.Image, *, seed: int, index: int) -> None:
    """Outside ``edit`` bit-identical to the input; inside, the fake's pattern for (prompt, seed, index)."""
    assert after.size == before.size
    moved = changed(before, after)
    outside = ImageChops.subtract(moved, edit)
    assert count(outside) == 0, f"{count(outside)} pixels changed outside the edit area"
    inside = ImageChops.multiply(moved, edit)
    assert count(inside) >= 0.9 * count(edit), f"only {count(inside)} of {count(edit)} pixels changed"
    expected = pattern("RGB", before.size, PROMPT, seed, index)
    off_pattern = ImageChops.multiply(changed(expected, after), edit)
    assert count(off_pattern) == 0, "the edit area is not the result for this prompt, seed and index"


def assert_preview_tints(preview: Image.Image, before: Image.Image, box: Box) -> None:
    """The preview is the input, tinted inside the edit box (JPEG: compare means, not pixels)."""
    assert preview.size == before.size
    diff = ImageChops.difference(before.convert("RGB"), preview.convert("RGB"))
    x1, y1, x2, y2 = box
    inner = area([(x1 + 4, y1 + 4, x2 - 4, y2 - 4)])
    outer = area([(x1 - 4, y1 - 4, x2 + 4, y2 + 4)], invert=True)
    assert sum(ImageStat.Stat(diff, mask=inner).mean) > 60
    assert sum(ImageStat.Stat(diff, mask=outer).mean) < 10


def sidecar(out: Path) -> dict[str, Any]:
    return json.loads((out / "photo-edit.json").read_text())


# --- edits for every API set-up ------------------------------------------------------------------------


@pytest.mark.parametrize("setup", SETUPS, ids=lambda s: s.name)
async def test_edit_writes_correct_images_for_each_api_setup(setup: Setup, tmp_path: Path) -> None:
    image_path, mask_path = write_inputs(tmp_path)
    async with setup.server() as fake:
        run = await run_cli(
            "edit",
            image_path,
            "--prompt",
            PROMPT,
            "--mask",
            mask_path,
            "--seed",
            "42",
            "--count",
            "2",
            "--out",
            "out",
            "--preview",
            cwd=tmp_path,
            env=setup.environment(fake),
        )
        edit_url = fake.edit_url
    assert run.code == 0, run.output

    # the request went where the settings said, authenticated the configured way
    [request] = fake.edit_requests
    assert request.status == 200
    assert request.path == setup.path
    if setup.auth == "bearer":
        assert request.headers.get("Authorization") == f"Bearer {KEY}"
        assert "Api-Key" not in request.headers
    else:
        assert request.headers.get("Api-Key") == KEY
        assert "Authorization" not in request.headers
    assert request.field("prompt") == PROMPT
    assert (request.field("seed"), request.field("num_images")) == ("42", "2")
    if setup.shape == "legacy":
        assert request.field("model") == "V_2"
        assert set(request.files) == {"image_file", "mask"}
    else:
        assert set(request.files) == {"image", "mask"}
    assert len(fake.poll_requests) == (1 if setup.fake.get("task_mode") else 0)

    # the sidecar says what was done
    out = tmp_path / "out"
    meta = sidecar(out)
    assert meta["prompt"] == PROMPT
    assert meta["input"] == str(image_path)
    assert meta["input_sha256"] == hashlib.sha256(image_path.read_bytes()).hexdigest()
    assert meta["api"] == {"shape": setup.shape, "url": edit_url}
    assert meta["options"]["num_images"] == 2
    assert meta["options"]["seed"] == 42
    assert meta["edit_fraction"] == pytest.approx(count(area([BOX])) / (W * H), abs=1e-4)
    entries = meta["images"]
    assert [(e["index"], e["seed"]) for e in entries] == [(0, 42), (1, 43)]

    # the files: printed, present, decodable, the size the fake returned, edited only inside the mask
    before = load(image_path)
    files = [out / e["file"] for e in entries]
    preview_path = out / "photo-mask-preview.jpg"
    assert run.printed_paths == [str(p.relative_to(tmp_path)) for p in [*files, preview_path, out / "photo-edit.json"]]
    for entry, path in zip(entries, files, strict=True):
        assert entry["withheld_by_safety_filter"] is False
        assert entry["prompt_used"] == PROMPT
        assert file_format(path) == "PNG"
        after = load(path)
        assert after.size == (entry["width"], entry["height"]) == (W, H)
        assert entry["resolution"] == f"{W}x{H}"
        assert_edited(before, after, area([BOX]), seed=entry["seed"], index=entry["index"])
    assert load(files[0]).tobytes() != load(files[1]).tobytes()
    assert file_format(preview_path) == "JPEG"
    assert_preview_tints(load(preview_path), before, BOX)


def inverted_mask_file() -> bytes:
    """White (edit, with --invert-mask) inside BOX on black."""
    mask = Image.new("L", (W, H), 0)
    mask.paste(255, BOX)
    return png_bytes(mask)


WHERE_CASES: list[tuple[str, list[str], bytes | None, Image.Image]] = [
    ("region-top", ["--region", "top"], None, area([(0, 0, W, H // 2)])),
    ("region-center", ["--region", "center"], None, area([(W // 4, H // 4, W - W // 4, H - H // 4)])),
    # 10,40,50,90 % of 128x96 = x 12.8..64, y 38.4..86.4, rounded outwards
    ("box", ["--box", "10,40,50,90"], None, area([(12, 38, 64, 87)])),
    ("mask-inverted", ["--mask", "mask.png", "--invert-mask"], inverted_mask_file(), area([BOX])),
    ("mask-white-without-invert", ["--mask", "mask.png"], inverted_mask_file(), area([BOX], invert=True)),
]


@pytest.mark.parametrize(("where", "mask", "expected"), [c[1:] for c in WHERE_CASES], ids=[c[0] for c in WHERE_CASES])
async def test_edit_area_follows_region_box_and_invert(
    where: list[str], mask: bytes | None, expected: Image.Image, tmp_path: Path
) -> None:
    image_path, _ = write_inputs(tmp_path, mask=mask)
    async with OFFICIAL_V3.server() as fake:
        run = await run_cli(
            "edit",
            "photo.png",
            "--prompt",
            PROMPT,
            *where,
            "--seed",
            "7",
            "--out",
            "out",
            cwd=tmp_path,
            env=OFFICIAL_V3.environment(fake),
        )
    assert run.code == 0, run.output
    [entry] = sidecar(tmp_path / "out")["images"]
    assert sidecar(tmp_path / "out")["edit_fraction"] == pytest.approx(count(expected) / (W * H), abs=1e-4)
    after = load(tmp_path / "out" / entry["file"])
    assert_edited(load(image_path), after, expected, seed=7, index=0)


async def test_edit_keeps_the_size_the_api_returned(tmp_path: Path) -> None:
    image_path, mask_path = write_inputs(tmp_path)
    async with OFFICIAL_V3.server(output_size=(2 * W, 2 * H)) as fake:
        env = OFFICIAL_V3.environment(fake)
        run = await run_cli("edit", image_path, "--prompt", PROMPT, "--mask", mask_path, cwd=tmp_path, env=env)
    assert run.code == 0, run.output
    [entry] = sidecar(tmp_path / "edits")["images"]  # --out defaults to ./edits
    assert entry["resolution"] == f"{2 * W}x{2 * H}"
    assert (entry["width"], entry["height"]) == (2 * W, 2 * H)
    assert load(tmp_path / "edits" / entry["file"]).size == (2 * W, 2 * H)


# --- the safety filter ------------------------------------------------------------------------------------


async def test_withheld_image_is_reported_and_marked_in_the_sidecar(tmp_path: Path) -> None:
    image_path, mask_path = write_inputs(tmp_path)
    async with OFFICIAL_V3.server(unsafe_indices=(1,)) as fake:
        env = OFFICIAL_V3.environment(fake)
        args = ("edit", image_path, "--prompt", PROMPT, "--mask", mask_path, "--count", "2", "--seed", "5")
        run = await run_cli(*args, "--out", "out", cwd=tmp_path, env=env)
    assert run.code == 0, run.output
    assert "image 2 was withheld by the safety filter" in run.stderr
    delivered, withheld = sidecar(tmp_path / "out")["images"]
    assert delivered["withheld_by_safety_filter"] is False
    assert (tmp_path / "out" / delivered["file"]).is_file()
    assert withheld["withheld_by_safety_filter"] is True
    assert withheld["file"] is None
    assert "width" not in withheld
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == [delivered["file"]]


async def test_all_images_withheld_exits_1_with_a_sidecar(tmp_path: Path) -> None:
    image_path, mask_path = write_inputs(tmp_path)
    async with OFFICIAL_V3.server(unsafe_indices=(0,)) as fake:
        env = OFFICIAL_V3.environment(fake)
        run = await run_cli(
            "edit", image_path, "--prompt", PROMPT, "--mask", mask_path, "--out", "out", cwd=tmp_path, env=env
        )
    assert run.code == 1, run.output
    assert "image 1 was withheld by the safety filter" in run.stderr
    [entry] = sidecar(tmp_path / "out")["images"]
    assert entry["withheld_by_safety_filter"] is True
    assert list((tmp_path / "out").glob("*.png")) == []


# --- edit failures --------------------------------------------------------------------------------------


async def test_edit_without_api_key_exits_2_before_any_request(tmp_path: Path) -> None:
    image_path, mask_path = write_inputs(tmp_path)
    async with OFFICIAL_V3.server() as fake:
        env = {"IDEOGRAM_BASE_URL": fake.base_url}
        run = await run_cli("edit", image_path, "--prompt", PROMPT, "--mask", mask_path, cwd=tmp_path, env=env)
    assert run.code == 2, run.output
    assert "Cannot edit: IDEOGRAM_API_KEY is not set" in run.stderr
    assert fake.requests == []
    assert not (tmp_path / "edits").exists()


@pytest.mark.parametrize("log_level", ["INFO", "DEBUG"])
@pytest.mark.parametrize("api_answer", ["wrong-key", "key-echoed"])
async def test_api_401_exits_1_and_never_prints_the_key(api_answer: str, log_level: str, tmp_path: Path) -> None:
    image_path, mask_path = write_inputs(tmp_path)
    server_key = "some-other-key-0123456789" if api_answer == "wrong-key" else KEY
    async with OFFICIAL_V3.server(api_key=server_key) as fake:
        if api_answer == "key-echoed":  # an aggregator that quotes the key back in its error
            fake.fail_next(401, {"error": f"Invalid API key {KEY} (Api-Key: {KEY})"})
        env = OFFICIAL_V3.environment(fake, LOG_LEVEL=log_level)
        run = await run_cli("edit", image_path, "--prompt", PROMPT, "--mask", mask_path, cwd=tmp_path, env=env)
    assert run.code == 1, run.output
    assert len(fake.edit_requests) == 1  # 401 is not retried
    [failed] = [line for line in run.stderr.splitlines() if line.startswith("Edit failed:")]
    assert "IDEOGRAM_API_KEY" in failed  # the CLI's user is the operator: say what to fix
    assert "operator has the details" not in failed
    if api_answer == "key-echoed":
        assert "[redacted]" in failed
    assert "Traceback" not in run.output
    assert list((tmp_path / "edits").glob("*")) == []


async def test_debug_logging_of_a_successful_task_edit_never_prints_the_key(tmp_path: Path) -> None:
    image_path, mask_path = write_inputs(tmp_path)
    async with AGGREGATOR_TASKS.server() as fake:
        env = AGGREGATOR_TASKS.environment(fake, LOG_LEVEL="DEBUG", DISCORD_TOKEN=DISCORD)
        run = await run_cli("edit", image_path, "--prompt", PROMPT, "--mask", mask_path, cwd=tmp_path, env=env)
    assert run.code == 0, run.output
    assert " DEBUG " in run.stderr  # debug logging really was on


async def test_mask_with_another_aspect_ratio_exits_1_with_the_pipeline_message(tmp_path: Path) -> None:
    image_path, mask_path = write_inputs(tmp_path, mask=sample_mask(96, 96, (10, 10, 50, 50)))
    async with OFFICIAL_V3.server() as fake:
        env = OFFICIAL_V3.environment(fake)
        run = await run_cli("edit", image_path, "--prompt", PROMPT, "--mask", mask_path, cwd=tmp_path, env=env)
    assert run.code == 1, run.output
    assert "Edit failed: The mask is 96×96 but the image is 128×96" in run.stderr
    assert "Traceback" not in run.output
    assert fake.requests == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nope.png", "--region", "top"], "Cannot read nope.png: No such file or directory"),
        (["sub", "--region", "top"], "Cannot read sub: Is a directory"),
        (["photo.png", "--mask", "gone.png"], "Cannot read gone.png: No such file or directory"),
        (["notes.txt", "--region", "top"], "Edit failed: "),
    ],
    ids=["missing-image", "image-is-a-directory", "missing-mask", "not-an-image"],
)
async def test_unreadable_inputs_give_a_clear_message(argv: list[str], message: str, tmp_path: Path) -> None:
    write_inputs(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "notes.txt").write_text("just some notes, not a picture\n")
    async with OFFICIAL_V3.server() as fake:
        run = await run_cli("edit", *argv, "--prompt", PROMPT, cwd=tmp_path, env=OFFICIAL_V3.environment(fake))
    assert run.code == 1, run.output
    [line] = run.stderr.splitlines()
    assert line.startswith(message)
    assert len(line) > len("Edit failed: ") + 10
    assert fake.requests == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--region", "top", "--count", "9"], "Number of images must be between 1 and 8 (got 9)."),
        (["--region", "top", "--seed", "-1"], "Seed must be between 0 and"),
        (["--region", "top", "--style", "ANIME"], "Style ANIME is not available here"),
        (["--box", "60,10,20,90"], "The box's left edge must be smaller than its right"),
        (["--box", "10,20,30"], "A box needs exactly four numbers"),
        ([], "Tell me what to change"),
    ],
    ids=["count", "seed", "style-not-v3", "box-order", "box-short", "no-mask"],
)
async def test_bad_options_exit_1_before_any_request(argv: list[str], message: str, tmp_path: Path) -> None:
    write_inputs(tmp_path)
    async with OFFICIAL_V3.server() as fake:
        env = OFFICIAL_V3.environment(fake)
        run = await run_cli("edit", "photo.png", "--prompt", PROMPT, *argv, cwd=tmp_path, env=env)
    assert run.code == 1, run.output
    assert run.stderr.startswith(f"Edit failed: {message}")
    assert fake.requests == []


async def test_empty_prompt_exits_1_before_any_request(tmp_path: Path) -> None:
    write_inputs(tmp_path)
    async with OFFICIAL_V3.server() as fake:
        env = OFFICIAL_V3.environment(fake)
        run = await run_cli("edit", "photo.png", "--prompt", "   ", "--region", "top", cwd=tmp_path, env=env)
    assert run.code == 1, run.output
    assert run.stderr.startswith("Edit failed: Please describe the edit: the prompt is empty.")
    assert fake.requests == []


async def test_unwritable_out_dir_fails_before_the_billed_request(tmp_path: Path) -> None:
    write_inputs(tmp_path)
    (tmp_path / "taken").write_text("a file where the output folder should go")
    async with OFFICIAL_V3.server() as fake:
        env = OFFICIAL_V3.environment(fake)
        run = await run_cli(
            "edit", "photo.png", "--prompt", PROMPT, "--region", "top", "--out", "taken", cwd=tmp_path, env=env
        )
    assert run.code == 1, run.output
    assert run.stderr.startswith("Cannot write to taken:")
    assert fake.requests == []


# --- check, run, settings ----------------------------------------------------------------------------------


async def test_check_lists_what_is_missing_and_exits_1(tmp_path: Path) -> None:
    run = await run_cli("check", cwd=tmp_path)
    assert run.code == 1, run.output
    missing = [line for line in run.stdout.splitlines() if line.startswith("MISSING: ")]
    assert len(missing) == 2
    assert "DISCORD_TOKEN" in missing[0]
    assert "IDEOGRAM_API_KEY" in missing[1]
    assert "2 problem(s)." in run.stdout


async def test_check_exits_0_when_everything_is_set(tmp_path: Path) -> None:
    env = {
        "DISCORD_TOKEN": DISCORD,
        "IDEOGRAM_API_KEY": KEY,
        "IDEOGRAM_BASE_URL": "http://127.0.0.1:9",
        "IDEOGRAM_EDIT_PATH": "/ideogram/edit",
        "IDEOGRAM_API": "legacy",
        "IDEOGRAM_AUTH": "bearer",
    }
    run = await run_cli("check", cwd=tmp_path, env=env)
    assert run.code == 0, run.output
    assert "MISSING" not in run.stdout
    assert "Settings OK." in run.stdout
    assert "API: legacy shape at http://127.0.0.1:9/ideogram/edit (bearer auth)" in run.stdout
    assert "Web server: 127.0.0.1:0 (/healthz, /livez, /readyz, /metrics); logs: text" in run.stdout


async def test_check_reads_the_env_file_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN={DISCORD}\nIDEOGRAM_API_KEY={KEY}\n")
    run = await run_cli("check", cwd=tmp_path)
    assert run.code == 0, run.output
    assert "Settings OK." in run.stdout


@pytest.mark.parametrize("command", [[], ["run"], ["sync"]], ids=["default", "run", "sync"])
async def test_bot_without_discord_token_exits_2_naming_it(command: list[str], tmp_path: Path) -> None:
    run = await run_cli(*command, cwd=tmp_path, env={"IDEOGRAM_API_KEY": KEY})
    assert run.code == 2, run.output
    assert "Cannot start: DISCORD_TOKEN is not set" in run.stderr
    assert "python -m bot check" in run.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_IMAGES_IN_FLIGHT", "abc"),
        ("MAX_IMAGES_IN_FLIGHT", "0"),
        ("IDEOGRAM_API", "v4"),
        ("IDEOGRAM_BASE_URL", "api.ideogram.ai"),
        ("IDEOGRAM_TASK_PATH", "/tasks/latest"),
    ],
)
@pytest.mark.parametrize("command", ["check", "edit"])
async def test_invalid_setting_exits_2_naming_the_variable(command: str, name: str, value: str, tmp_path: Path) -> None:
    argv = ["edit", "photo.png", "--prompt", PROMPT, "--region", "top"] if command == "edit" else ["check"]
    run = await run_cli(*argv, cwd=tmp_path, env={"IDEOGRAM_API_KEY": KEY, name: value})
    assert run.code == 2, run.output
    [line] = run.stderr.splitlines()
    assert line.startswith(f"Configuration error: {name} is invalid")
    assert value not in line  # values are not echoed: they might be misplaced secrets
