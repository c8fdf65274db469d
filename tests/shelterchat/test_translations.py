"""French ships complete: makemessages finds nothing untranslated, and the catalog is compiled."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

SKIPPED = {
    ".venv",
    ".demo",
    "node_modules",
    ".git",
    "staticfiles",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
}


def parse_po(path):
    """Return the catalog's entries as dicts: msgid, msgid_plural, msgctxt, msgstr list, flags."""
    entries, entry, field = [], None, None
    for line in [*Path(path).read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if entry and "msgid" in entry:
                entries.append(entry)
            entry, field = None, None
            continue
        entry = entry if entry is not None else {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(field, tuple):
                entry["msgstr"][field[1]] += value
            else:
                entry[field] += value
        else:
            keyword, _, rest = line.partition(" ")
            value = ast.literal_eval(rest)
            if keyword.startswith("msgstr"):
                index = keyword[len("msgstr[") : -1] if "[" in keyword else "0"
                field = ("msgstr", index)
                entry["msgstr"][index] = value
            else:
                field = keyword
                entry[keyword] = value
    return [each for each in entries if each["msgid"]]


@pytest.fixture(scope="module")
def fresh_catalog(tmp_path_factory):
    """Run makemessages over a copy of the project and return the French catalog it leaves."""
    copy = tmp_path_factory.mktemp("project") / "shelterchat"
    shutil.copytree(
        settings.BASE_DIR, copy, ignore=lambda _dir, names: [n for n in names if n in SKIPPED]
    )
    for domain in ("django", "djangojs"):
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "makemessages",
                "-l",
                "fr",
                "-d",
                domain,
                "--no-obsolete",
                "-i",
                "tests/*",
                "-i",
                "bench/*",
            ],
            cwd=copy,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return copy / "locale" / "fr" / "LC_MESSAGES"


def test_makemessages_finds_nothing_untranslated(fresh_catalog):
    entries = parse_po(fresh_catalog / "django.po")
    assert len(entries) > 100
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"].values())]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []
    js_catalog = fresh_catalog / "djangojs.po"
    if js_catalog.exists():
        assert all(all(e["msgstr"].values()) for e in parse_po(js_catalog))


def test_compiled_catalog_matches_the_sources(fresh_catalog):
    for entry in parse_po(fresh_catalog / "django.po"):
        if "msgid_plural" in entry or "msgctxt" in entry:
            continue
        with translation.override("fr"):
            assert translation.gettext(entry["msgid"]) == entry["msgstr"]["0"], entry["msgid"]
