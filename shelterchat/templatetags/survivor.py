"""What survivor pages say in her terms: clock times, when chat reopens, her other languages.

Times read as people say them ("6 PM", "18 h"), never as a time-zone name or a
bare 24-hour range, and the language links lead to the same step in the
other language.
"""

import datetime

from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils import formats, timezone
from django.utils.translation import get_language, get_language_info, pgettext, pgettext_lazy
from django.utils.translation import gettext as _

register = template.Library()

# Weekday names inside a sentence ("lundi à 9 h"): French writes them in lower case.
WEEKDAYS_IN_SENTENCE = [
    pgettext_lazy("weekday in a sentence", "Monday"),
    pgettext_lazy("weekday in a sentence", "Tuesday"),
    pgettext_lazy("weekday in a sentence", "Wednesday"),
    pgettext_lazy("weekday in a sentence", "Thursday"),
    pgettext_lazy("weekday in a sentence", "Friday"),
    pgettext_lazy("weekday in a sentence", "Saturday"),
    pgettext_lazy("weekday in a sentence", "Sunday"),
]


@register.filter
def clock(value):
    """Format a time of day as it is said: "9 AM", "9:30 PM", "9 h", "9 h 30", "midnight".

    A datetime is read in the current time zone. English has no "p.m." whose
    period would double the one ending a sentence.
    """
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).time()
    if value == datetime.time(0):
        return pgettext("time of day", "midnight")
    if get_language().startswith("fr"):
        return f"{value.hour} h {value.minute:02d}" if value.minute else f"{value.hour} h"
    hour = value.hour % 12 or 12
    minutes = f":{value.minute:02d}" if value.minute else ""
    return f"{hour}{minutes} {'AM' if value.hour < 12 else 'PM'}"


@register.filter
def reopening(moment, organization):
    """Say when ``moment`` is, from today in the organization's time zone: "tomorrow at 9 AM"."""
    local = timezone.localtime(moment, organization.tz)
    days = (local.date() - timezone.localtime(timezone=organization.tz).date()).days
    time = clock(local.time())
    if days <= 0:
        return _("today at %(time)s") % {"time": time}
    if days == 1:
        return _("tomorrow at %(time)s") % {"time": time}
    if days < 7:
        day = str(WEEKDAYS_IN_SENTENCE[local.weekday()])
        return _("%(day)s at %(time)s") % {"day": day, "time": time}
    return _("on %(date)s at %(time)s") % {
        "date": formats.date_format(local, "DATE_FORMAT"),
        "time": time,
    }


@register.filter
def always_open(week):
    """Return True when the week's hours (accounts.selectors.weekly_hours) cover every hour."""
    return len(week) == 7 and all(all_day for _day, _rows, all_day in week)


@register.filter
def zone_city(organization):
    """Return the place a time zone is named after: "America/Toronto" gives "Toronto"."""
    return organization.time_zone.rsplit("/", 1)[-1].replace("_", " ")


@register.simple_tag(takes_context=True)
def language_links(context):
    """Return (code, name, address) of the same page in each other language offered.

    A view that rendered a step at another address than the request's (a form
    answered by a POST) names the step's own in ``page_path``.
    """
    request = context["request"]
    organization = getattr(request, "organization", None)
    offered = (organization.languages if organization else None) or [
        code for code, _n in settings.LANGUAGES
    ]
    known = dict(settings.LANGUAGES)
    path = context.get("page_path") or request.path
    current = get_language()
    return [
        (code, get_language_info(code)["name_local"], translate_url(path, code))
        for code in offered
        if code in known and code != current
    ]
