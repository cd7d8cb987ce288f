"""Files are never damaged (issue 12).

``fix`` changes the bytes of its edits and nothing else: every variant below holds one fixable
finding (``self.scope["user"].save()`` on the event loop, CHN102) among bytes the printer is
prone to lose (CRLF, CR-only and mixed line endings, tabs, form feeds, a BOM, a PEP 263
cookie, latin-1 without a cookie as flake8 decodes it, no final newline), and the fixed file
must equal the original with exactly the edited line and the added import changed.  An
unparseable file is reported and left alone byte for byte; a fix that fails midway leaves
the original; the mode is kept; symlinks are written through and read-only files refused,
as README documents.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from channels_lint import fixes
from channels_lint.cli import main
from channels_lint.engine import Source, lint_bytes
from channels_lint.fixes import fix_bytes

BEFORE = b'        self.scope["user"].save()'
AFTER = b'        await database_sync_to_async(self.scope["user"].save)()'
IMPORT = b"from channels.db import database_sync_to_async"


def module(newline: bytes = b"\n", head: bytes = b"", odd: bytes = b"", final: bool = True) -> bytes:
    """A consumer module: ``head`` (cookie/BOM/comments), the Channels import, the finding,
    then ``odd`` module-level bytes in untouched places; lines end with ``newline``."""
    lines = [
        head + b"from channels.generic.websocket import AsyncWebsocketConsumer",
        b"",
        b"",
        b"class C(AsyncWebsocketConsumer):",
        b"    async def connect(self):",
        BEFORE,
        b"",
        b"    async def other(self):",
        b"        pass",
        odd + b"x = 0",
    ]
    text = newline.join(lines)
    return text + newline if final else text


def expected(data: bytes, newline: bytes = b"\n") -> bytes:
    """``data`` with the finding fixed and the import added after the first import line."""
    first_end = data.index(b"AsyncWebsocketConsumer") + len(b"AsyncWebsocketConsumer")
    return data[:first_end] + newline + IMPORT + data[first_end:].replace(BEFORE, AFTER, 1)


VARIANTS = {
    "lf": (module(), b"\n"),
    "crlf": (module(b"\r\n"), b"\r\n"),
    "cr-only": (module(b"\r"), b"\r"),
    "cr-only-no-final-newline": (module(b"\r", final=False), b"\r"),
    "no-final-newline": (module(final=False), b"\n"),
    "mixed-endings": (module().replace(b"\n", b"\r\n", 3), b"\r\n"),
    "tabs": (module(odd=b"def tabbed():\n\treturn '\t'  # \ttab\n\t\n"), b"\n"),
    "form-feed-lines": (module(odd=b"\x0c\n\x0cx = 1\n"), b"\n"),
    "form-feed-indent": (module(odd=b"def g():\n\x0c    y = 2\n  \x0c    z = 3\n"), b"\n"),
    "bom": (module(head=b"\xef\xbb\xbf"), b"\n"),
    "pep263-latin-1": (module(head=b"# -*- coding: latin-1 -*-\n", odd=b"caf\xe9 = '\xe9t\xe9'\n"), b"\n"),
    "latin-1-without-cookie": (module(odd=b"caf\xe9 = '\xe9t\xe9'  # flake8 reads latin-1\n"), b"\n"),
    "unknown-cookie": (module(head=b"# -*- coding: uft-8 -*-\n"), b"\n"),
    "utf-8-non-ascii": (module(odd="note = '€ — ünïcödé'  # ✓\n".encode()), b"\n"),
    "trailing-whitespace": (module(odd=b"x = 1   \n   \n"), b"\n"),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_fix_changes_only_the_edited_bytes(name: str) -> None:
    data, newline = VARIANTS[name]
    result = fix_bytes(data)
    assert result.error is None, result.error
    assert result.fixed == expected(data, newline), (result.fixed, expected(data, newline))
    again = fix_bytes(result.fixed)
    assert again.error is None and not again.changed


@pytest.mark.parametrize("name", VARIANTS)
def test_nothing_to_fix_leaves_every_byte(name: str) -> None:
    data = VARIANTS[name][0].replace(BEFORE, b"        pass")
    result = fix_bytes(data)
    assert result.error is None and result.fixed == data


def test_latin_1_without_a_cookie_is_analysed_as_flake8_decodes_it() -> None:
    """flake8 (``FileProcessor.read_lines_from_filename``) falls back to latin-1 when the
    declared or default codec fails: the file is analysed, not reported as unanalysable."""
    data, _ = VARIANTS["latin-1-without-cookie"]
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    source, violations = lint_bytes(data)
    assert source is not None and source.encoding == "latin-1" and source.fallback
    assert [v.code for v in violations] == ["CHN102"]
    assert Source.from_bytes(VARIANTS["pep263-latin-1"][0]).encoding == "iso-8859-1"


@pytest.mark.parametrize(
    "data",
    [
        b"class C(AsyncWebsocketConsumer)\n    async def connect(self): self.scope['user'].save()\n",
        b"async def f():\r\n    x = (\r\n",
        b"async def f():\n    return " + b"(" * 500 + b")" * 500 + b"\n",
        b"async def f():\n    s = 1\x00\n",
    ],
    ids=["syntax-error", "unclosed-crlf", "too-deep", "null-byte"],
)
def test_an_unparseable_file_is_reported_and_untouched(tmp_path: Path, data: bytes, capsys) -> None:
    path = tmp_path / "consumers.py"
    path.write_bytes(data)
    assert main(["check", str(path)]) == 1
    assert "CHN900" in capsys.readouterr().out
    assert main(["fix", "--unsafe-fixes", str(path)]) == 1
    assert path.read_bytes() == data


def test_a_fix_that_fails_midway_leaves_the_original(tmp_path: Path, monkeypatch, capsys) -> None:
    path = tmp_path / "consumers.py"
    data = VARIANTS["crlf"][0]
    path.write_bytes(data)

    def fail(*args, **kwargs):
        raise fixes.FixError("failed on purpose")

    # a proof that fails: the fix is refused, reported, and nothing changes
    monkeypatch.setattr(fixes.ApplyChannelsLintFixes, "_prove", fail)
    result = fix_bytes(data)
    assert not result.changed and [(v.code, why) for v, why in result.refused] == [("CHN102", "failed on purpose")]
    main(["fix", str(path)])
    assert path.read_bytes() == data
    # a failure of the whole rewrite: reported as an error, nothing written
    monkeypatch.setattr(fixes.ApplyChannelsLintFixes, "transform_text", fail)
    assert main(["fix", str(path)]) == 1
    assert path.read_bytes() == data
    assert "failed on purpose" in capsys.readouterr().err


def test_a_write_that_fails_midway_leaves_the_original(tmp_path: Path, monkeypatch, capsys) -> None:
    """The rewrite goes to a temporary file renamed over the original: a failure while
    writing leaves the original and no temporary file behind."""
    path = tmp_path / "consumers.py"
    data = module()
    path.write_bytes(data)

    def broken_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    assert main(["fix", str(path)]) == 1
    assert path.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["consumers.py"]


@pytest.mark.parametrize("mode", [0o644, 0o600, 0o755, 0o640])
def test_fix_keeps_the_mode(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "consumers.py"
    path.write_bytes(module())
    path.chmod(mode)
    assert main(["fix", str(path)]) == 1
    assert path.read_bytes() == expected(module())
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_symlinks_are_written_through_and_read_only_files_refused(tmp_path: Path, capsys) -> None:
    """README: ``fix`` writes a symlink's target (the link stays a link); a read-only file is
    left unchanged and reported."""
    target = tmp_path / "real.py"
    target.write_bytes(module())
    link = tmp_path / "link.py"
    link.symlink_to(target)
    assert main(["fix", str(link)]) == 1
    assert link.is_symlink() and target.read_bytes() == expected(module())

    locked = tmp_path / "locked.py"
    locked.write_bytes(module())
    locked.chmod(0o444)
    assert main(["fix", str(locked)]) == 1
    assert locked.read_bytes() == module()
    assert "read-only" in capsys.readouterr().err
