"""SerializableModelMixin: to_dict() from websocket_fields, to_websocket_message(), the class check.

The models here use the app label ``channels_lint_runtime_tests``, which is not installed: they are
registered (relations resolve) but belong to no app config, so no migration or system check sees
them, and they have no table. No test touches the database (pytest-django would fail any query).
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import msgpack
import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from channels_lint.runtime import SerializableModelMixin, safe_serialize
from channels_lint.runtime.layers import check_message

APP = "channels_lint_runtime_tests"
WHEN = datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc)


class Author(models.Model):
    uid = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=50)
    password = models.CharField(max_length=50)

    class Meta:
        app_label = APP


class Tag(models.Model):
    label = models.CharField(max_length=20, unique=True)

    class Meta:
        app_label = APP


class Article(SerializableModelMixin, models.Model):
    websocket_fields = ("id", "title", "author", "price", "published", "editor", "pk")

    title = models.CharField(max_length=100)
    secret = models.TextField(default="do not send")
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    editor = models.ForeignKey(Author, on_delete=models.SET_NULL, null=True, related_name="+")
    price = models.DecimalField(max_digits=6, decimal_places=2)
    published = models.DateTimeField()
    tags = models.ManyToManyField(Tag)

    class Meta:
        app_label = APP


class Label(SerializableModelMixin, models.Model):
    websocket_fields = ("tag",)
    tag = models.OneToOneField(Tag, on_delete=models.CASCADE, to_field="label")

    class Meta:
        app_label = APP


AUTHOR_ID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def article(**overrides: object) -> Article:
    fields = {
        "id": 7,
        "title": "Hello",
        "author_id": AUTHOR_ID,
        "price": Decimal("9.90"),
        "published": WHEN,
        "editor_id": None,
    }
    fields.update(overrides)
    return Article(**fields)


EXPECTED = {
    "id": 7,
    "title": "Hello",
    "author": "12345678-1234-5678-1234-567812345678",
    "price": "9.90",
    "published": "2024-01-02T03:04:05.123Z",
    "editor": None,
    "pk": 7,
}


def test_to_dict_has_only_the_declared_fields_in_order() -> None:
    result = article().to_dict()
    assert result == EXPECTED
    assert list(result) == ["id", "title", "author", "price", "published", "editor", "pk"]
    assert "secret" not in result and "tags" not in result


def test_foreign_key_gives_the_column_value_without_a_query() -> None:
    # No django_db mark: reading ``article.author`` would query and fail; ``author_id`` does not.
    assert article(author_id=AUTHOR_ID).to_dict()["author"] == str(AUTHOR_ID)
    assert Label(tag_id="news").to_dict() == {"tag": "news"}  # to_field: the referenced column


def test_deferred_fields_are_left_out_not_loaded() -> None:
    partial = Article.from_db("default", ["id", "title"], [3, "Only"])
    assert partial.get_deferred_fields() >= {"price", "published", "author_id"}
    assert partial.to_dict() == {"id": 3, "title": "Only", "pk": 3}


def test_to_websocket_message_is_a_safe_event() -> None:
    event = article().to_websocket_message(type="article.updated")
    assert event == {"type": "article.updated", "data": EXPECTED}
    assert json.loads(json.dumps(event, allow_nan=False)) == event
    assert msgpack.unpackb(msgpack.packb(event), strict_map_key=True) == event
    assert check_message(event) == event  # what a channels_redis receiver would get
    assert article().to_websocket_message(type=5) == {"type": "5", "data": EXPECTED}


def test_safe_serialize_uses_to_dict() -> None:
    assert safe_serialize(article()) == EXPECTED
    assert safe_serialize({"items": [article(id=1), article(id=2)]}) == {
        "items": [{**EXPECTED, "id": 1, "pk": 1}, {**EXPECTED, "id": 2, "pk": 2}]
    }


def test_models_without_to_dict_give_only_their_pk() -> None:
    assert safe_serialize(Author(uid=AUTHOR_ID, name="n", password="p")) == {"pk": str(AUTHOR_ID)}
    assert safe_serialize(Group(pk=3, name="staff")) == {"pk": 3}


def test_the_mixin_defines_no_model() -> None:
    from channels_lint.runtime import models_mixin

    assert not any(isinstance(value, type) and issubclass(value, models.Model) for value in vars(models_mixin).values())
    assert SerializableModelMixin.websocket_fields == ()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (("id", "nope"), "has no field 'nope'"),
        (("id", "tags"), "'tags' is a many-to-many, reverse or virtual field"),
        ("title", "must be a tuple of field names"),
        ((1,), "1 is not a field name"),
    ],
)
def test_wrong_websocket_fields_fail_when_the_class_is_defined(fields: object, message: str) -> None:
    name = f"Broken{abs(hash((fields, message)))}"
    attrs = {
        "__module__": __name__,
        "websocket_fields": fields,
        "title": models.CharField(max_length=10),
        "tags": models.ManyToManyField(Tag, related_name="+"),
        "Meta": type("Meta", (), {"app_label": APP}),
    }
    with pytest.raises(ImproperlyConfigured, match=message):
        type(name, (SerializableModelMixin, models.Model), attrs)


def test_runtime_import_does_not_import_models_or_mixins() -> None:
    code = (
        "import sys\n"
        "import channels_lint.runtime as runtime\n"
        "assert 'channels_lint.runtime.models_mixin' not in sys.modules\n"
        "assert 'channels_lint.runtime.layers' not in sys.modules\n"
        "assert 'channels_lint.runtime.consumers' not in sys.modules\n"
        "assert 'django.db.models' not in sys.modules, 'a model import at package import time'\n"
        "print(sorted(n for n in ('SerializableModelMixin', 'StrictInMemoryChannelLayer', "
        "'SafeJsonConsumerMixin', 'AsyncSafeJsonConsumerMixin', 'encode_or_fallback') if n in dir(runtime)))\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=60
    )
    assert process.returncode == 0, process.stderr
    assert process.stdout.split("\n")[0] == str(
        [
            "AsyncSafeJsonConsumerMixin",
            "SafeJsonConsumerMixin",
            "SerializableModelMixin",
            "StrictInMemoryChannelLayer",
            "encode_or_fallback",
        ]
    )
