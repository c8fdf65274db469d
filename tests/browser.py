"""A real headless Chromium (the system's /usr/bin/chromium), driven by Playwright."""

import http.server
import os
import shutil
import threading

import pytest

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    assert os.path.exists(executable), "browser tests need Debian's chromium package"
    # Playwright's sync API keeps an event loop in this thread; the test's
    # own ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def neutral_site():
    """Serve a neutral page (a weather report) standing in for the quick-exit destination."""
    visits = []

    class Weather(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            visits.append(self.path)
            body = b"<title>Weather</title><p>Sunny</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Weather)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/weather", visits
    server.shutdown()
