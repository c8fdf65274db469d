"""What a survivor downloads on the way into a crisis chat, compressed as a proxy serves it.

A survivor on a small data plan or a rural line must be able to chat: this
walks the journey through Django's test client (home page, notice, the
optional questions, the chat page, the page after its end), adds every stylesheet and script those
pages load, compresses each response with gzip (level 6, a common proxy
setting) and prints each one's size and the total. Nothing of the journey is
cached between pages except the static files, which a browser fetches once.

Builds a database ``shelterchat_weight`` on the local PostgreSQL.

    .venv/bin/python bench/survivor_weight.py
"""

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "shelterchat_weight"
GZIP_LEVEL = 6
# The budget the test suite holds the journey to (tests/shelterchat/test_survivor_weight.py).
BUDGET_BYTES = 12 * 1024
ASSET = re.compile(r'<(?:link rel="stylesheet" href|script src)="(/static/[^"]+)"')


def compressed(body):
    return len(gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0))


def journey_responses(client, language="en"):
    """Walk the way into a chat; return (what, raw bytes, gzip bytes) of every download.

    The organization behind ``client``'s host must be open and staffed, with
    its notice published; with optional questions, their page is walked too.
    """
    from django.contrib.staticfiles import finders

    pages = []

    def fetch(what, response):
        assert response.status_code == 200, (what, response.status_code)
        pages.append((what, response.content))
        return response

    fetch("home", client.get(f"/{language}/"))
    notice = fetch("notice", client.get(f"/{language}/connect/"))
    version = re.search(rb'name="version" value="(\d+)"', notice.content).group(1).decode()
    after_notice = fetch("questions", client.post(f"/{language}/connect/", {"version": version}))
    ticket = re.search(rb'name="ticket" value="([^"]+)"', after_notice.content)
    if ticket:
        fetch(
            "chat",
            client.post(f"/{language}/connect/questions/", {"ticket": ticket.group(1).decode()}),
        )
    else:
        pages[-1] = ("chat", after_notice.content)
    fetch("ended", client.get(f"/{language}/connect/ended/", {"reason": "worker_ended"}))
    assets = []
    for _what, body in pages:
        for url in ASSET.findall(body.decode()):
            if url not in assets:
                assets.append(url)
    downloads = list(pages)
    for url in assets:
        path = finders.find(url.removeprefix("/static/"))
        downloads.append((url, Path(path).read_bytes()))
    return [(what, len(body), compressed(body)) for what, body in downloads]


def prepare_database():
    subprocess.run(
        [
            "psql",
            "-q",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-c",
            f"DROP DATABASE IF EXISTS {DATABASE}",
            "-c",
            f"CREATE DATABASE {DATABASE}",
        ],
        check=True,
    )


def main():
    sys.path.insert(0, str(ROOT))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="shelterchat.settings",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        HTTPS="off",
        SECRET_KEY="bench-only-secret-key-0123456789-0123456789-0123456789",
        LOG_LEVEL="ERROR",
    )
    prepare_database()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from tests.conversations.conftest import make_chat_ready, on_shift, optional_question_create
    from tests.factories import client_for, organization_create

    call_command("migrate", verbosity=0)
    settings.PLATFORM_DOMAIN = "platform.test"
    organization = organization_create("harbour")
    make_chat_ready(organization)
    optional_question_create(organization)
    on_shift(organization)
    rows = journey_responses(client_for(organization))
    width = max(len(what) for what, _raw, _packed in rows)
    for what, raw, packed in rows:
        print(f"{what:<{width}}  {raw:>7,} B  {packed:>6,} B gzip")
    total = sum(packed for _what, _raw, packed in rows)
    print(f"{'total':<{width}}  {sum(raw for _w, raw, _p in rows):>7,} B  {total:>6,} B gzip")
    print(f"budget {BUDGET_BYTES:,} B: {'within' if total < BUDGET_BYTES else 'OVER'}")


if __name__ == "__main__":
    main()
