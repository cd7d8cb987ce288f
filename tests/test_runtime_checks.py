"""Tests for the channels_lint system check (issue 10), through ``manage.py check``."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from io import StringIO

import pytest
from channels.auth import AuthMiddlewareStack
from channels.middleware import BaseMiddleware
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import OriginValidator
from channels.sessions import SessionMiddlewareStack
from django.core.asgi import get_asgi_application
from django.core.checks import Error, Warning, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings
from django.urls import path, re_path
from hypothesis import event, given
from hypothesis import strategies as st

import channels_lint.runtime.checks as checks_module
from channels_lint.runtime import RoutingValidator
from channels_lint.runtime.checks import check_asgi_routing
from tests.routing_projects import generated
from tests.routing_projects.consumers import EchoConsumer, EventsConsumer

ID = re.compile(r"\((channels_lint\.[EW]\d{3})\)")


def run_check_command(asgi_application: str | None) -> tuple[list[str], str]:
    """``manage.py check`` (every registered check); the channels_lint ids it printed, and its text.

    Other apps' checks may report too (their ids are not ``channels_lint.*``); an error among
    them makes the command raise ``SystemCheckError``, whose text holds every message.
    """
    out, err = StringIO(), StringIO()
    with override_settings(ASGI_APPLICATION=asgi_application):
        try:
            call_command("check", stdout=out, stderr=err)
            text = out.getvalue() + err.getvalue()
        except SystemCheckError as exc:
            text = str(exc)
    return ID.findall(text), text


def test_silent_when_asgi_application_is_unset():
    with override_settings():
        from django.conf import settings

        if hasattr(settings, "ASGI_APPLICATION"):
            del settings.ASGI_APPLICATION
        assert check_asgi_routing() == []
    assert run_check_command(None)[0] == []
    assert run_check_command("")[0] == []


def test_broken_project_reports_every_id():
    found, text = run_check_command("tests.routing_projects.broken.application")
    assert Counter(found) == Counter(
        {
            "channels_lint.E002": 1,
            "channels_lint.E003": 1,
            "channels_lint.E004": 1,
            "channels_lint.E005": 2,
            "channels_lint.E007": 1,
            "channels_lint.E009": 1,
            "channels_lint.W001": 1,
            "channels_lint.W002": 1,
            "channels_lint.W003": 1,
            "channels_lint.W005": 1,
            "channels_lint.W006": 1,
        }
    )
    assert (
        "tests.routing_projects.broken.application['websocket'].routes[0]: (channels_lint.E004) path('/ws/leading/') "
        "starts with '/'" in text
    )
    assert "\tHINT: Remove the leading '/'." in text


def test_fixed_project_reports_nothing():
    found, text = run_check_command("tests.routing_projects.fixed.application")
    assert found == [], text


def test_protocol_router_without_http():
    assert run_check_command("tests.routing_projects.broken_no_http.application")[0] == ["channels_lint.W004"]


def test_include_in_url_router_fails_the_import_and_is_named():
    found, text = run_check_command("tests.routing_projects.broken_include.application")
    assert found == ["channels_lint.E006"]
    assert "include() is not supported in URLRouter" in text
    assert "HINT: Nest a URLRouter([...])" in text


@pytest.mark.parametrize(
    ("dotted", "exception"),
    [
        ("tests.routing_projects.no_such_module.application", "ModuleNotFoundError"),
        ("tests.routing_projects.fixed.no_such_name", "ImportError"),
        ("no_dots", "ImportError"),
    ],
)
def test_an_application_that_cannot_be_imported_is_an_error_not_a_crash(dotted, exception):
    found, text = run_check_command(dotted)
    assert found == ["channels_lint.E001"]
    assert f"ASGI_APPLICATION {dotted!r} cannot be imported: {exception}" in text


def test_messages_are_errors_and_warnings_with_obj_and_hint():
    with override_settings(ASGI_APPLICATION="tests.routing_projects.broken.application"):
        messages = check_asgi_routing()
    assert {type(m) for m in messages} == {Error, Warning}
    assert all(m.obj.startswith("tests.routing_projects.broken.application[") and m.hint for m in messages)
    assert all(isinstance(m, Error) is m.id.startswith("channels_lint.E") for m in messages)


def test_registered_under_urls_and_its_own_tag():
    with override_settings(ASGI_APPLICATION="tests.routing_projects.broken_no_http.application"):
        assert [m.id for m in run_checks(tags=["channels_lint"])] == ["channels_lint.W004"]
        assert "channels_lint.W004" in [m.id for m in run_checks(tags=["urls"])]


def test_silenced_ids_are_not_reported():
    with override_settings(
        ASGI_APPLICATION="tests.routing_projects.broken_no_http.application", SILENCED_SYSTEM_CHECKS=["channels_lint.W004"]
    ):
        assert [m.id for m in run_checks(tags=["channels_lint"]) if not m.is_silenced()] == []


# -- Property 8 -----------------------------------------------------------------------------------

DJANGO_APP = get_asgi_application()
ECHO = EchoConsumer.as_asgi()
MIDDLEWARE = [
    lambda app: app,
    AuthMiddlewareStack,
    SessionMiddlewareStack,
    BaseMiddleware,
    lambda app: OriginValidator(app, ["*"]),
]
#: route kind -> (builder taking a unique name, ids expected on the route)
FAULTS = {
    "path": (lambda n: path(f"{n}/<int:x>/", ECHO), []),
    "re_path": (lambda n: re_path(rf"^{n}/(?P<x>\d+)/$", ECHO), []),
    "leading slash": (lambda n: path(f"/{n}/", ECHO), ["channels_lint.E004"]),
    "regex in path": (lambda n: path(f"^{n}/$", ECHO), ["channels_lint.E003"]),
    "bad regex": (lambda n: re_path(rf"^{n}/(?<x>\w+)/$", ECHO), ["channels_lint.E002"]),
    "no as_asgi": (lambda n: path(f"{n}/", EchoConsumer), ["channels_lint.E005"]),
    "instance": (lambda n: path(f"{n}/", EchoConsumer()), ["channels_lint.W006"]),
    "unanchored": (lambda n: re_path(rf"{n}/", ECHO), ["channels_lint.W001"]),
    "redos": (lambda n: re_path(rf"^{n}/(a+)+/$", ECHO), ["channels_lint.W003"]),
    "bad converter": (lambda n: path(f"{n}/<int:x/", ECHO), ["channels_lint.E009"]),
}
CLEAN = ("path", "re_path")


@st.composite
def routing_configs(draw, clean: bool):
    """(application, expected [(id, location)]): routes, nested routers and middleware."""
    names = (f"r{i}" for i in itertools.count())
    expected: list[tuple[str, str]] = []

    def router(location: str, depth: int) -> URLRouter:
        routes: list = []
        for _ in range(draw(st.integers(1, 4))):
            choices = list(CLEAN) + ([] if clean else sorted(set(FAULTS) - set(CLEAN)) + ["duplicate", "hidden router"])
            if depth < 2:
                choices.append("nested")
            kind = draw(st.sampled_from(choices))
            name = next(names)
            here = f"{location}.routes[{len(routes)}]"
            if kind == "nested":
                wrap = draw(st.sampled_from(MIDDLEWARE))
                routes.append(re_path(rf"^{name}/", wrap(router(here, depth + 1))))
            elif kind == "hidden router":  # path() to a middleware-wrapped router: E007
                routes.append(path(f"{name}/", AuthMiddlewareStack(URLRouter([path("x/", ECHO)]))))
                expected.append(("channels_lint.E007", here))
            elif kind == "duplicate":  # the second of two identical routes never matches: W002
                routes.append(path(f"{name}/", ECHO))
                routes.append(path(f"{name}/", ECHO))
                expected.append(("channels_lint.W002", f"{location}.routes[{len(routes) - 1}]"))
            else:
                build, ids = FAULTS[kind]
                routes.append(build(name))
                expected.extend((problem_id, here) for problem_id in ids)
        return URLRouter(routes)

    name = "tests.routing_projects.generated.application"
    websocket = draw(st.sampled_from(MIDDLEWARE))(router(f"{name}['websocket']", 0))
    mapping = {"websocket": websocket}
    if clean or draw(st.booleans()):
        mapping["http"] = URLRouter([path("events/", EventsConsumer.as_asgi()), re_path(r"", DJANGO_APP)])
    else:
        expected.append(("channels_lint.W004", name))
    return ProtocolTypeRouter(mapping), expected


def check_findings(application) -> list[tuple[str, str, str, str, str]]:
    generated.application = application
    try:
        with override_settings(ASGI_APPLICATION="tests.routing_projects.generated.application"):
            messages = run_checks(tags=["channels_lint"])
    finally:
        generated.application = None
    return [(m.id, "error" if isinstance(m, Error) else "warning", m.obj, m.msg, m.hint) for m in messages]


def validator_findings(application) -> list[tuple[str, str, str, str, str]]:
    problems = RoutingValidator().check_application(application, name="tests.routing_projects.generated.application")
    return [(p.id, p.level, p.location, p.message, p.hint) for p in problems]


@given(config=routing_configs(clean=False))
def test_property_check_reports_what_the_validator_finds(config):
    """Feature: messaging-system-fixes, Property 8: Startup Routing Validation"""
    application, expected = config
    from_check = check_findings(application)
    event(f"{len(from_check)} findings")
    assert from_check == validator_findings(application)
    assert sorted((finding[0], finding[2]) for finding in from_check) == sorted(expected)


@given(config=routing_configs(clean=True))
def test_property_a_clean_config_gives_no_finding(config):
    """Feature: messaging-system-fixes, Property 8: Startup Routing Validation"""
    application, expected = config
    assert expected == []
    assert check_findings(application) == []
    assert RoutingValidator().validate_all_patterns(application)["valid"] is True


def test_the_check_module_documents_every_id():
    from channels_lint.runtime.routing import PROBLEM_IDS

    for problem_id in PROBLEM_IDS:
        assert f"``{problem_id}``" in checks_module.__doc__
