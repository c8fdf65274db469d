"""The way into a crisis chat stays light: under 12 KB compressed (bench/survivor_weight.py)."""

import importlib.util

import pytest
from django.conf import settings

from tests.conversations.conftest import make_chat_ready, on_shift, optional_question_create
from tests.factories import client_for

pytestmark = pytest.mark.django_db


def _bench():
    path = settings.BASE_DIR / "bench" / "survivor_weight.py"
    spec = importlib.util.spec_from_file_location("survivor_weight", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_journey_to_a_chat_weighs_under_the_budget(organization, language):
    bench = _bench()
    make_chat_ready(organization)
    optional_question_create(organization)
    on_shift(organization)
    rows = bench.journey_responses(client_for(organization), language=language)
    assert [what for what, _raw, _packed in rows] == [
        "home",
        "notice",
        "questions",
        "chat",
        "ended",
        "/static/css/site.css",
        "/static/js/survivor.js",
        "/static/js/chat.js",
    ]
    total = sum(packed for _what, _raw, packed in rows)
    assert total < bench.BUDGET_BYTES, rows
