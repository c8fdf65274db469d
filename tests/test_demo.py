"""The README's first command, as a newcomer runs it: a fresh copy, ``bin/demo``, a whole visit.

The copy holds what a clone of this checkout would (the files git tracks or
would track), with no virtual environment and no demo data, so ``bin/demo``
installs, starts its embedded PostgreSQL, migrates, seeds and serves as it
does on a new machine. In Chromium, a survivor and a support worker then
carry a crisis chat, and a facilitator and a participant a group chat; Ctrl-C
must leave no process behind.
"""

import datetime
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zoneinfo
from pathlib import Path

import pytest
from django.conf import settings

from tests.asgi_server import free_port
from tests.browser import browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

ARABIC = "مرحبا، هل يمكنني التحدث معك؟"
WORKER_REPLY = "I am here with you. Take your time."
GROUP_MESSAGE = "Hello everyone, it is good to be here."
# The demo organizations' time zone (seed_demo leaves the default).
DEMO_TIME_ZONE = zoneinfo.ZoneInfo("America/Toronto")
START_SECONDS = 420
STOP_SECONDS = 30


def fresh_copy(destination):
    """Copy what a clone of this checkout would hold into ``destination``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = Path(settings.BASE_DIR, name)
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def session_processes(session_id):
    """Return the pids of every process in the session ``session_id``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == session_id:
                found.append(int(entry.name))
    return found


def process_ends(pid, within=5):
    """Return True once ``pid`` has exited (a zombie waiting for its reaper counts as exited)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def demo_folder():
    """A folder outside pytest's own, which pytest closes to other users at each start.

    The embedded server runs as a user of its own when the demo runs as root,
    and must reach its data folder.
    """
    folder = Path(tempfile.mkdtemp(prefix="shelterchat-demo-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def demo(demo_folder):
    """Run ``bin/demo`` from a fresh copy on a free port; yield (base URL, its output so far)."""
    checkout = demo_folder / "shelterchat"
    fresh_copy(checkout)
    port = free_port()
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV")
    }
    output = demo_folder / "demo.log"
    with output.open("w") as log:
        process = subprocess.Popen(
            ["bin/demo"],
            cwd=checkout,
            env={**environment, "PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
            # As in a terminal: its own process group, and Ctrl-C not ignored.
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    deadline = time.monotonic() + START_SECONDS
    while "Serving on" not in output.read_text():
        assert process.poll() is None, output.read_text()
        assert time.monotonic() < deadline, output.read_text()
        time.sleep(0.5)
    postmaster = checkout / ".demo" / "postgres" / "postmaster.pid"
    postgres_pid = int(postmaster.read_text().split()[0])
    try:
        yield f"http://harbour.localhost:{port}", output.read_text()
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(STOP_SECONDS)
        finally:
            leftover = session_processes(process.pid)
            for pid in leftover:
                os.kill(pid, signal.SIGKILL)
    assert process.returncode == 0, output.read_text()
    assert leftover == []
    # pg_ctl's stop returns once the server has removed its pid file, just before it exits.
    assert process_ends(postgres_pid)
    assert not postmaster.exists()


def backup_codes(output, username):
    line = re.search(rf"^  {username} / \S+  backup codes: (.+)$", output, re.MULTILINE)
    return line.group(1).split()


def sign_in(browser, base_url, output, username):  # noqa: F811
    page = browser.new_context().new_page()
    page.goto(f"{base_url}/staff/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo-only-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill(backup_codes(output, username)[0])
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("heading", name=f"Hello, {username}").wait_for()
    return page


def test_bin_demo_carries_a_crisis_chat_and_a_group_chat(demo, browser):  # noqa: F811
    base_url, output = demo
    assert len(backup_codes(output, "harbour-support-worker")) == 10

    worker = sign_in(browser, base_url, output, "harbour-support-worker")
    worker.get_by_role("link", name="Crisis chat console").click()
    shift_end = datetime.datetime.now(DEMO_TIME_ZONE) + datetime.timedelta(hours=4)
    worker.get_by_label("My shift ends at").fill(f"{shift_end:%H:%M}")
    worker.get_by_role("button", name="Go on shift").click()
    worker.get_by_role("button", name="Leave shift").wait_for()

    survivor = browser.new_context().new_page()
    survivor.goto(f"{base_url}/en/")
    survivor.get_by_role("link", name="Start a chat").click()
    survivor.get_by_role("button", name="I understand, continue").click()
    survivor.get_by_role("heading", name="Before we start").wait_for()
    survivor.get_by_label("No", exact=True).check()
    survivor.get_by_role("button", name="Start chat").click()
    survivor.get_by_text("Your place in line: 1").wait_for()

    worker.locator("#queue button.accept").click()
    worker.locator(".pane textarea").wait_for()
    survivor.locator("#text").fill(ARABIC)
    survivor.get_by_role("button", name="Send").click()
    worker.locator(".pane .bubble.from-survivor", has_text=ARABIC).wait_for()
    worker.locator(".pane textarea").fill(WORKER_REPLY)
    worker.locator(".pane button", has_text="Send").click()
    survivor.locator(".bubble.from-worker", has_text=WORKER_REPLY).wait_for()
    worker.locator(".pane button.end").click()
    survivor.wait_for_url(f"{base_url}/en/connect/ended/?reason=worker_ended")
    assert ARABIC not in survivor.content()

    link = re.search(r"group chat, open all day: (http://harbour\.\S+)", output).group(1)
    facilitator = sign_in(browser, base_url, output, "harbour-moderator")
    facilitator.get_by_role("link", name="Forums and group chats").click()
    facilitator.get_by_role("link", name="Evening circle").click()
    facilitator.get_by_role("link", name="Facilitate the session").click()
    facilitator.get_by_role("heading", name="Waiting room").wait_for()

    participant = browser.new_context().new_page()
    participant.goto(link)
    participant.get_by_label("Your name in the group chat").fill("Quiet Heron")
    participant.get_by_label("I have read the group agreement and I accept it.").check()
    participant.get_by_role("button", name="Go to the waiting room").click()
    participant.get_by_role("heading", name="Waiting room").wait_for()

    waiting = facilitator.locator("#waiting li", has_text="Quiet Heron")
    waiting.get_by_role("button", name="Let in").click()
    participant.locator("#room").wait_for()
    participant.locator("#text").fill(GROUP_MESSAGE)
    participant.get_by_role("button", name="Send").click()
    participant.locator(".bubble.from-self", has_text=GROUP_MESSAGE).wait_for()
    facilitator.locator(".bubble", has_text=GROUP_MESSAGE).wait_for()


def test_the_demo_settings_pass_the_system_checks():
    """``manage.py check`` as ``bin/demo`` configures it: debug on, plain HTTP, its own database."""
    demo_environment = {**os.environ, "DEBUG": "on", "HTTPS": "off"}
    demo_environment.pop("DJANGO_SETTINGS_MODULE", None)
    checked = subprocess.run(
        [sys.executable, "manage.py", "check", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=demo_environment,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    assert "no issues" in checked.stdout
