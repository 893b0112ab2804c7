"""Helpers for the production-runtime tests: free ports, metrics, HTTP checks, processes, a proxy.

* `free_port()` – a loopback port nobody listens on right now.
* `metric(text, name, **labels)` – one sample of a Prometheus text page (0 when absent).
* `get_status(url)` / `wait_status(url, status, timeout)` – plain HTTP checks.
* `BotProcess` – `crmbot run` (or any command) as a real subprocess, its log in a file:
  `start()`, `wait_log(text)`, `terminate()`, `kill()`, `wait(timeout) -> exit code`.
* `RoundRobinProxy` – the load balancer in front of the replicas: each request goes to the
  next upstream; a refused connection or a 503 moves on to the following one (as nginx's
  `proxy_next_upstream error timeout http_503`), all down answers 502.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

# The installed command line, exactly what deploy/ runs.
CRMBOT = [str(Path(sys.executable).with_name("crmbot"))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def metric(text: str, name: str, **labels: str) -> float:
    """The value of `name` with exactly these labels (counters: without `_total`)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in (name, f"{name}_total") and all(
                sample.labels.get(key) == value for key, value in labels.items()
            ):
                total += sample.value
    return total


async def get_status(url: str, within: float = 5.0) -> tuple[int, str]:
    """(HTTP status, body) of a GET; (0, error) when nothing answers."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=within)) as session,
            session.get(url) as response,
        ):
            return response.status, await response.text()
    except (aiohttp.ClientError, TimeoutError) as error:
        return 0, f"{type(error).__name__}: {error}"


async def wait_status(url: str, status: int, within: float) -> str:
    deadline = time.monotonic() + within
    last: tuple[int, str] = (0, "")
    while time.monotonic() < deadline:
        last = await get_status(url, within=2)
        if last[0] == status:
            return last[1]
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} did not answer {status} within {within} s; last: {last}")


def process_env(**values: str) -> dict[str, str]:
    """The environment for a child process: this one, without `.env` surprises, plus values."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.update({"PYTHONUNBUFFERED": "1", "LOG_LEVEL": "INFO"})
    env.update(values)
    return env


class BotProcess:
    """A real process with its output in a log file (read it with `log()`)."""

    def __init__(self, name: str, command: Sequence[str], env: dict[str, str], workdir: Path):
        self.name = name
        self.command = list(command)
        self.env = env
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> BotProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        # cwd without a .env: every setting comes from `env`
        self.process = subprocess.Popen(
            self.command, cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def wait_log(self, text: str, within: float = 30.0, count: int = 1) -> None:
        deadline = time.monotonic() + within
        while self.log().count(text) < count:
            if not self.running():
                raise AssertionError(f"{self.name} exited before logging {text!r}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not log {text!r}:\n{self.tail()}")
            await asyncio.sleep(0.1)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def signal(self, sig: int) -> None:
        if self.running():
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.signal(signal.SIGTERM)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)

    async def wait(self, within: float = 30.0) -> int:
        assert self.process is not None
        deadline = time.monotonic() + within
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} still running after {within} s:\n{self.tail()}")
            await asyncio.sleep(0.05)
        return int(self.process.returncode)

    async def stop(self) -> None:
        """Teardown: SIGTERM, then SIGKILL if it does not end in time."""
        if not self.running():
            return
        self.terminate()
        try:
            await self.wait(20)
        except AssertionError:
            self.kill()
            await self.wait(5)


def sandbox_process(port: int, workdir: Path, identities: Path | None = None) -> BotProcess:
    """The standalone sandbox, `crmbot sandbox`, with Telegram's rate limits off."""
    command = [*CRMBOT, "sandbox", "--port", str(port), "--no-limits"]
    if identities is not None:
        command += ["--identities", str(identities)]
    return BotProcess(f"sandbox-{port}", command, process_env(), workdir)


def bot_process(name: str, workdir: Path, **env: str) -> BotProcess:
    return BotProcess(name, [*CRMBOT, "run"], process_env(**env), workdir)


class RoundRobinProxy:
    """A tiny reverse proxy: request N goes to upstream N mod len, skipping the dead ones."""

    def __init__(self, upstreams: Sequence[str]) -> None:
        self.upstreams = list(upstreams)
        self.port = free_port()
        self.forwarded: list[tuple[str, int]] = []  # (upstream, status)
        self._next = itertools.count()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> RoundRobinProxy:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {
            key: value
            for key, value in request.headers.items()
            if key.lower() not in ("host", "content-length", "transfer-encoding", "connection")
        }
        first = next(self._next)
        for step in range(len(self.upstreams)):
            upstream = self.upstreams[(first + step) % len(self.upstreams)]
            try:
                async with self._session.request(
                    request.method, upstream + request.path_qs, data=body, headers=headers
                ) as response:
                    payload = await response.read()
                    self.forwarded.append((upstream, response.status))
                    if response.status == 503 and step < len(self.upstreams) - 1:
                        continue
                    return web.Response(
                        status=response.status,
                        body=payload,
                        content_type=response.content_type,
                    )
            except (aiohttp.ClientConnectionError, TimeoutError):
                self.forwarded.append((upstream, 0))
                continue
        return web.Response(status=502, text="no upstream answered")


def write_json(path: Path, value: Any) -> Path:
    import json

    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return path
