"""The engine on bad and odd input: it never raises, reports CHN900, honours # noqa."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels_lint.diagnostics import Violation
from channels_lint.engine import lint_bytes, may_contain_findings, selected_rules
from channels_lint.fixes import fix_bytes

from .helpers import fix_snippet, found, lint_snippet

CASES = sorted((Path(__file__).parent / "cases").glob("*.py"))
ORM_IN_ASYNC = """\
from .models import Note

async def handler():
    Note.objects.create(body="x"){comment}
"""


def codes(source: str) -> list[str]:
    return [code for _, code in found(source)]


@pytest.mark.parametrize(
    "data",
    [
        b"async def connect(self)\n    await self.accept()\n",
        b"async def f():\n    x = 1\x00\n",
        b"async def f():\n    return " + b"(" * 500 + b")" * 500 + b"\n",
    ],
    # an unknown codec or invalid UTF-8 is decoded as latin-1, as flake8 does
    # (tests/test_file_preservation.py)
    ids=["syntax-error", "null-byte", "too-deep"],
)
def test_unanalysable_file_gives_exactly_one_chn900(data: bytes) -> None:
    _, violations = lint_bytes(data)
    assert [v.code for v in violations] == ["CHN900"]
    assert violations[0].line >= 1
    result = fix_bytes(data)
    assert result.fixed == data and result.error


def test_syntax_error_position_is_reported() -> None:
    (violation,) = lint_snippet("async def f():\n    pass\nasync def g(:\n")
    assert (violation.code, violation.line) == ("CHN900", 3)


def test_rule_crash_is_reported_not_raised(monkeypatch) -> None:
    from channels_lint.rules.chn101_sync_orm_query import SyncOrmQueryInAsync

    def boom(self):
        raise KeyError("boom")

    monkeypatch.setattr(SyncOrmQueryInAsync, "check", boom)
    (violation,) = lint_snippet(ORM_IN_ASYNC.format(comment=""))
    assert violation.code == "CHN900" and "internal error KeyError" in violation.message


def test_prefilter_skips_files_without_markers() -> None:
    rules = selected_rules()
    assert not may_contain_findings("import os\nprint(os.getcwd())\n", rules)
    assert may_contain_findings("layer = get_channel_layer()\n", rules)  # sync code, no async def
    assert may_contain_findings("websocket_urlpatterns = [path('ws/', C)]\n", rules)
    assert lint_snippet("def f(:\n") == []  # no marker: not even parsed


@pytest.mark.parametrize(
    ("comment", "silenced"),
    [
        ("  # noqa", True),
        ("  # NOQA", True),
        ("  # noqa: CHN101", True),
        ("  # noqa:CHN101,E501", True),
        ("  # noqa: CHN1", True),
        ("  # noqa: CHN105", False),
        ("  # noqa: E501", False),
        ("", False),
    ],
)
def test_noqa(comment: str, silenced: bool) -> None:
    assert codes(ORM_IN_ASYNC.format(comment=comment)) == ([] if silenced else ["CHN101"])


def test_columns_count_characters_not_bytes() -> None:
    source = 'from .models import Note\n\nasync def f():\n    s = "ééé"; Note.objects.create(body=s)\n'
    (violation,) = lint_snippet(source)
    assert violation.col == source.splitlines()[3].index("Note.objects")
    fixed = fix_snippet(source)
    assert 's = "ééé"; await database_sync_to_async(Note.objects.create)(body=s)' in fixed


# Example counts, deadline and health checks come from the Hypothesis profile (tests/conftest.py).
@given(
    st.lists(st.sampled_from([*"async def():\n =[]{}.'\"#\\xé1", "await ", "Note.objects.get()", "channel_layer", "    "])).map(
        "".join
    )
)
def test_engine_never_raises_on_arbitrary_text(text: str) -> None:
    violations = lint_snippet(text)
    assert all(isinstance(v, Violation) and v.line >= 1 and v.col >= 0 for v in violations)


@given(case=st.sampled_from(CASES), data=st.data())
def test_engine_never_raises_on_truncated_cases(case: Path, data) -> None:
    raw = case.read_bytes()
    start = data.draw(st.integers(0, len(raw)))
    end = data.draw(st.integers(start, len(raw)))
    mutated = raw[:start] + raw[end:]
    _, violations = lint_bytes(mutated)
    assert all(isinstance(v, Violation) for v in violations)
    result = fix_bytes(mutated)
    assert result.error or result.fixed == mutated or compile(result.fixed, case.name, "exec")
