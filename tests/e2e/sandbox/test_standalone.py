"""The sandbox as its own process (`crmbot sandbox`, `python -m sandbox`), and its logs."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.cli import main as cli_main
from sandbox import Sandbox, SandboxConfig
from sandbox.standalone import main as standalone_main
from tests.e2e.sandbox_harness import SandboxClient, make_bot

ROOT = Path(__file__).resolve().parents[3]
SECRET_TOKEN = "123:abcSECRET"
COMMANDS = {
    "crmbot": [
        sys.executable,
        "-c",
        "import sys; from bot.cli import main; sys.exit(main())",
        "sandbox",
    ],
    "python -m sandbox": [sys.executable, "-m", "sandbox"],
}


async def test_the_access_log_never_shows_the_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with Sandbox(SandboxConfig(access_log=True, strict_chats=False)) as sandbox:
        bot = make_bot(sandbox.base_url, SECRET_TOKEN)
        try:
            await bot.get_me()
            await bot.send_message(5, "hello")
            async with aiohttp.ClientSession() as session:
                url = f"{sandbox.base_url}/bot{SECRET_TOKEN}/noSuchMethod"
                async with session.post(url) as response:
                    assert response.status == 404
                url = f"{sandbox.base_url}/file/bot{SECRET_TOKEN}/documents/none.txt"
                async with session.get(url) as response:
                    assert response.status == 404
        finally:
            await bot.session.close()

    assert "abcSECRET" not in caplog.text
    assert "POST /bot123:***/getMe" in caplog.text
    assert "POST /bot123:***/sendMessage" in caplog.text
    assert "GET /file/bot123:***/documents/none.txt" in caplog.text


async def _start(command: list[str], *args: str) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        *command,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
    assert line.startswith("Bot API sandbox: "), line
    return process, line.split()[3]


@pytest.mark.parametrize("name", list(COMMANDS))
async def test_standalone_serves_identities_and_logs_without_the_token(
    name: str, tmp_path: Path
) -> None:
    people = tmp_path / "people.json"
    people.write_text(
        json.dumps([{"id": 101, "first_name": "Анна", "role": "manager", "language_code": "ru"}]),
        encoding="utf-8",
    )
    process, base_url = await _start(
        COMMANDS[name], "--host", "127.0.0.1", "--port", "0", "--identities", str(people)
    )
    try:
        async with SandboxClient(base_url) as client:
            users = await client.users()
            assert [(u["id"], u["first_name"]) for u in users][:1] == [(101, "Анна")]
            bot = make_bot(base_url, SECRET_TOKEN)
            try:
                assert (await bot.get_me()).id == 123
                await bot.send_message(101, "Привет")
            finally:
                await bot.session.close()
            assert (await client.messages(101))["messages"][0]["text"] == "Привет"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)

    assert process.returncode == 0
    log = stderr.decode()
    assert "abcSECRET" not in log
    assert "/bot123:***/getMe" in log and "/bot123:***/sendMessage" in log


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[{", "not valid JSON"),
        ('{"id": 1}', "expected a JSON list"),
        ('[{"id": "x"}]', "entry 1 needs a positive integer id"),
        ('[{"id": true}]', "entry 1 needs a positive integer id"),
        ('[{"id": 1}, {"id": 1}]', "id 1 appears twice"),
        ('[{"id": 1, "first_name": 5}]', "first_name must be a string"),
    ],
)
def test_a_bad_identities_file_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    people = tmp_path / "people.json"
    people.write_text(content, encoding="utf-8")

    code = cli_main(["sandbox", "--port", "0", "--identities", str(people)])

    assert code == 2
    text = capsys.readouterr().err
    assert text.startswith("error: ") and message in text
    assert "Traceback" not in text


def test_a_missing_identities_file_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    code = standalone_main(["--identities", "/nonexistent/people.json"])

    assert code == 2
    assert "error: /nonexistent/people.json: No such file or directory" in capsys.readouterr().err


def test_crmbot_lists_the_sandbox_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli_main(["sandbox", "--help"])

    shown = capsys.readouterr().out
    assert "--identities FILE.json" in shown and "--no-limits" in shown
