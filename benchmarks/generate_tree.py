"""Generate a tree of realistic Django apps with a few Channels consumers (benchmark input).

Usage::

    .venv/bin/python benchmarks/generate_tree.py DEST [--apps 100] [--consumers 6] [--clean]

Each app is what ``startapp`` grows into in a product: models, admin, views (function and
class based, a few async), DRF serializers and viewsets, forms, URLs, signals, Celery tasks,
services, management commands, template tags, migrations and tests, about 21 files; a few
apps also hold Channels consumers, routing and helpers, some with the bugs channels-lint
reports (ORM on the event loop, a non-awaited ``group_send``, a datetime in an event, an
``async_to_sync`` in async code), so ``check`` has findings and ``fix`` has work.  The
project has ``manage.py``, a settings package, ``asgi.py`` and a ``requirements.txt``
pinning Django 4.2 and Channels 4.  Deterministic: the same arguments give the same bytes.
``--clean`` writes the consumers without the bugs (nothing to fix).
"""

from __future__ import annotations

import argparse
import random
import shutil
import textwrap
from pathlib import Path

WORDS = [
    "invoice",
    "order",
    "customer",
    "product",
    "stock",
    "shipment",
    "payment",
    "refund",
    "ticket",
    "comment",
    "room",
    "message",
    "profile",
    "account",
    "team",
    "project",
    "task",
    "report",
    "audit",
    "event",
    "booking",
    "venue",
    "coupon",
    "review",
    "rating",
]
FIELDS = [
    ("models.CharField(max_length=200)", "'x'"),
    ("models.TextField(blank=True)", "''"),
    ("models.IntegerField(default=0)", "0"),
    ("models.DecimalField(max_digits=10, decimal_places=2, default=0)", "0"),
    ("models.BooleanField(default=False)", "False"),
    ("models.DateTimeField(auto_now_add=True)", "None"),
    ("models.SlugField(unique=True)", "'s'"),
    ("models.EmailField(blank=True)", "''"),
    ("models.JSONField(default=dict)", "{}"),
]


def _d(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def app_files(app: str, index: int, rng: random.Random, consumers: bool, clean: bool) -> dict[str, str]:
    model = app.title().replace("_", "")
    other = f"{model}Item"
    fields = rng.sample(FIELDS, k=rng.randint(3, 6))
    field_lines = "".join(f"    field_{n} = {spec}\n" for n, (spec, _) in enumerate(fields))
    files: dict[str, str] = {}
    files["__init__.py"] = ""
    files["apps.py"] = _d(
        f"""
        from django.apps import AppConfig


        class {model}Config(AppConfig):
            default_auto_field = "django.db.models.BigAutoField"
            name = "apps.{app}"

            def ready(self):
                from . import signals  # noqa: F401
        """
    )
    files["models.py"] = (
        _d(
            f"""
            from django.conf import settings
            from django.db import models
            from django.utils import timezone


            class {model}QuerySet(models.QuerySet):
                def active(self):
                    return self.filter(is_active=True)

                def recent(self, days=7):
                    return self.filter(created__gte=timezone.now() - timezone.timedelta(days=days))


            class {model}(models.Model):
                owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="{app}s")
                name = models.CharField(max_length=120)
                is_active = models.BooleanField(default=True)
                created = models.DateTimeField(default=timezone.now)
            """
        )
        + field_lines
        + _d(
            f"""

                objects = {model}QuerySet.as_manager()

                class Meta:
                    ordering = ["-created"]
                    indexes = [models.Index(fields=["owner", "created"])]

                def __str__(self):
                    return self.name

                def total(self):
                    return sum(item.quantity for item in self.items.all())


            class {other}(models.Model):
                parent = models.ForeignKey({model}, on_delete=models.CASCADE, related_name="items")
                quantity = models.PositiveIntegerField(default=1)
                note = models.CharField(max_length=200, blank=True)
            """
        )
    )
    files["admin.py"] = _d(
        f"""
        from django.contrib import admin

        from .models import {model}, {other}


        class {other}Inline(admin.TabularInline):
            model = {other}
            extra = 0


        @admin.register({model})
        class {model}Admin(admin.ModelAdmin):
            list_display = ("name", "owner", "is_active", "created")
            list_filter = ("is_active",)
            search_fields = ("name", "owner__username")
            inlines = [{other}Inline]
            actions = ("deactivate",)

            @admin.action(description="Deactivate")
            def deactivate(self, request, queryset):
                queryset.update(is_active=False)
        """
    )
    files["serializers.py"] = _d(
        f"""
        from rest_framework import serializers

        from .models import {model}, {other}


        class {other}Serializer(serializers.ModelSerializer):
            class Meta:
                model = {other}
                fields = ["id", "quantity", "note"]


        class {model}Serializer(serializers.ModelSerializer):
            items = {other}Serializer(many=True, read_only=True)
            total = serializers.SerializerMethodField()

            class Meta:
                model = {model}
                fields = ["id", "name", "is_active", "created", "items", "total"]

            def get_total(self, obj):
                return obj.total()

            def validate_name(self, value):
                if len(value) < 3:
                    raise serializers.ValidationError("too short")
                return value
        """
    )
    files["views.py"] = _d(
        f"""
        import json

        from django.contrib.auth.decorators import login_required
        from django.http import Http404, JsonResponse
        from django.shortcuts import get_object_or_404, render
        from django.views.generic import DetailView, ListView
        from rest_framework import permissions, viewsets
        from rest_framework.decorators import action
        from rest_framework.response import Response

        from .models import {model}
        from .serializers import {model}Serializer
        from .services import summarize


        class {model}ViewSet(viewsets.ModelViewSet):
            serializer_class = {model}Serializer
            permission_classes = [permissions.IsAuthenticated]

            def get_queryset(self):
                return {model}.objects.filter(owner=self.request.user).prefetch_related("items")

            @action(detail=True, methods=["post"])
            def deactivate(self, request, pk=None):
                obj = self.get_object()
                obj.is_active = False
                obj.save(update_fields=["is_active"])
                return Response({{"status": "ok"}})


        class {model}ListView(ListView):
            model = {model}
            paginate_by = 25

            def get_queryset(self):
                return super().get_queryset().active()


        class {model}DetailView(DetailView):
            model = {model}


        @login_required
        def summary(request, pk):
            obj = get_object_or_404({model}, pk=pk, owner=request.user)
            return render(request, "{app}/summary.html", {{"summary": summarize(obj)}})


        def export(request):
            if request.method != "POST":
                raise Http404
            try:
                payload = json.loads(request.body or b"{{}}")
            except ValueError:
                return JsonResponse({{"error": "invalid JSON"}}, status=400)
            rows = list({model}.objects.filter(pk__in=payload.get("ids", [])).values("id", "name"))
            return JsonResponse({{"rows": rows}})
        """
    )
    files["urls.py"] = _d(
        f"""
        from django.urls import include, path
        from rest_framework.routers import DefaultRouter

        from . import views

        router = DefaultRouter()
        router.register("{app}", views.{model}ViewSet, basename="{app}")

        app_name = "{app}"
        urlpatterns = [
            path("", views.{model}ListView.as_view(), name="list"),
            path("<int:pk>/", views.{model}DetailView.as_view(), name="detail"),
            path("<int:pk>/summary/", views.summary, name="summary"),
            path("export/", views.export, name="export"),
            path("api/", include(router.urls)),
        ]
        """
    )
    files["forms.py"] = _d(
        f"""
        from django import forms

        from .models import {model}


        class {model}Form(forms.ModelForm):
            class Meta:
                model = {model}
                fields = ["name", "is_active"]

            def clean_name(self):
                name = self.cleaned_data["name"].strip()
                if {model}.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).exists():
                    raise forms.ValidationError("taken")
                return name
        """
    )
    files["services.py"] = _d(
        f"""
        from decimal import Decimal

        from django.db import transaction

        from .models import {model}, {other}


        def summarize(obj: {model}) -> dict:
            items = list(obj.items.all())
            return {{"name": obj.name, "count": len(items), "quantity": sum(i.quantity for i in items)}}


        @transaction.atomic
        def copy_{app}(obj: {model}, owner) -> {model}:
            clone = {model}.objects.create(owner=owner, name=f"{{obj.name}} (copy)")
            {other}.objects.bulk_create([{other}(parent=clone, quantity=i.quantity) for i in obj.items.all()])
            return clone


        def price(quantity: int, unit: Decimal = Decimal("{index}.50")) -> Decimal:
            return (unit * quantity).quantize(Decimal("0.01"))
        """
    )
    files["signals.py"] = _d(
        f"""
        import logging

        from django.db.models.signals import post_save
        from django.dispatch import receiver

        from .models import {model}

        logger = logging.getLogger(__name__)


        @receiver(post_save, sender={model})
        def log_{app}(sender, instance, created, **kwargs):
            if created:
                logger.info("created %s", instance.pk)
        """
    )
    files["tasks.py"] = _d(
        f"""
        from celery import shared_task

        from .models import {model}


        @shared_task(bind=True, max_retries=3)
        def refresh_{app}(self, pk):
            obj = {model}.objects.get(pk=pk)
            obj.save()
            return obj.pk
        """
    )
    files["management/__init__.py"] = ""
    files["management/commands/__init__.py"] = ""
    files[f"management/commands/prune_{app}.py"] = _d(
        f"""
        from django.core.management.base import BaseCommand

        from ...models import {model}


        class Command(BaseCommand):
            help = "Delete inactive {app}s"

            def add_arguments(self, parser):
                parser.add_argument("--dry-run", action="store_true")

            def handle(self, *args, dry_run=False, **options):
                queryset = {model}.objects.filter(is_active=False)
                self.stdout.write(f"{{queryset.count()}} to delete")
                if not dry_run:
                    queryset.delete()
        """
    )
    files["templatetags/__init__.py"] = ""
    files[f"templatetags/{app}_tags.py"] = _d(
        f"""
        from django import template

        register = template.Library()


        @register.filter
        def {app}_label(value):
            return str(value).upper()
        """
    )
    files["migrations/__init__.py"] = ""
    files["migrations/0001_initial.py"] = _d(
        f"""
        import django.db.models.deletion
        from django.conf import settings
        from django.db import migrations, models


        class Migration(migrations.Migration):
            initial = True
            dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

            operations = [
                migrations.CreateModel(
                    name="{model}",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                        ("name", models.CharField(max_length=120)),
                        ("is_active", models.BooleanField(default=True)),
                        ("owner", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),
                    ],
                ),
            ]
        """
    )
    files["migrations/0002_item.py"] = _d(
        f"""
        from django.db import migrations, models


        class Migration(migrations.Migration):
            dependencies = [("{app}", "0001_initial")]

            operations = [
                migrations.CreateModel(
                    name="{other}",
                    fields=[("id", models.BigAutoField(primary_key=True, serialize=False)), ("quantity", models.PositiveIntegerField(default=1))],
                ),
            ]
        """
    )
    files["tests/__init__.py"] = ""
    files["tests/test_models.py"] = _d(
        f"""
        import pytest

        from ..models import {model}


        @pytest.mark.django_db
        def test_str(django_user_model):
            user = django_user_model.objects.create(username="u{index}")
            assert str({model}.objects.create(owner=user, name="n")) == "n"
        """
    )
    files["tests/test_views.py"] = _d(
        f"""
        import pytest
        from django.urls import reverse


        @pytest.mark.django_db
        def test_list(client, admin_user):
            client.force_login(admin_user)
            assert client.get(reverse("{app}:list")).status_code == 200


        async def test_async_ping(async_client):
            response = await async_client.get("/health/")
            assert response.status_code in (200, 404)
        """
    )
    if consumers:
        files.update(consumer_files(app, model, index, clean))
    return files


def consumer_files(app: str, model: str, index: int, clean: bool) -> dict[str, str]:
    """Consumers, routing and a helper; unless ``clean``, with bugs channels-lint fixes."""
    lookup = f"await database_sync_to_async({model}.objects.get)(pk=pk)" if clean else f"{model}.objects.get(pk=pk)"
    send = "await self.channel_layer.group_send" if clean else "self.channel_layer.group_send"
    when = "timezone.now().isoformat()" if clean else "timezone.now()"
    bridge = "await notify(self.group, text)" if clean else "async_to_sync(notify)(self.group, text)"
    return {
        "consumers.py": _d(
            f"""
            import json

            from asgiref.sync import async_to_sync
            from channels.db import database_sync_to_async
            from channels.generic.websocket import AsyncWebsocketConsumer, JsonWebsocketConsumer
            from django.utils import timezone

            from .helpers import notify
            from .models import {model}


            class {model}Consumer(AsyncWebsocketConsumer):
                async def connect(self):
                    self.group = f"{app}_{{self.scope['url_route']['kwargs']['pk']}}"
                    await self.channel_layer.group_add(self.group, self.channel_name)
                    await self.accept()

                async def disconnect(self, code):
                    await self.channel_layer.group_discard(self.group, self.channel_name)

                async def receive(self, text_data=None, bytes_data=None):
                    try:
                        data = json.loads(text_data)
                    except (TypeError, ValueError):
                        return
                    pk = data.get("pk")
                    obj = {lookup}
                    {send}(self.group, {{"type": "{app}.update", "name": obj.name, "at": {when}}})

                async def {app}_update(self, event):
                    await self.send(text_data=json.dumps({{"name": event["name"]}}))

                async def announce(self, text):
                    {bridge}


            class {model}SyncConsumer(JsonWebsocketConsumer):
                def connect(self):
                    self.accept()
                    async_to_sync(self.channel_layer.group_add)("{app}", self.channel_name)

                def receive_json(self, content, **kwargs):
                    count = {model}.objects.filter(is_active=True).count()
                    self.send_json({{"count": count}})
            """
        ),
        "helpers.py": _d(
            f"""
            from channels.layers import get_channel_layer


            async def notify(group, text):
                await get_channel_layer().group_send(group, {{"type": "{app}.update", "name": text}})
            """
        ),
        "routing.py": _d(
            f"""
            from django.urls import path

            from . import consumers

            websocket_urlpatterns = [
                path("ws/{app}/<int:pk>/", consumers.{model}Consumer.as_asgi()),
                path("ws/{app}/count/", consumers.{model}SyncConsumer.as_asgi()),
            ]
            """
        ),
    }


def project_files(apps: list[str], consumer_apps: list[str]) -> dict[str, str]:
    routing_imports = "".join(f"from apps.{a}.routing import websocket_urlpatterns as {a}_routes\n" for a in consumer_apps)
    routes = " + ".join(f"{a}_routes" for a in consumer_apps) or "[]"
    return {
        "manage.py": _d(
            """
            #!/usr/bin/env python
            import os
            import sys

            if __name__ == "__main__":
                os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
                from django.core.management import execute_from_command_line

                execute_from_command_line(sys.argv)
            """
        ),
        "requirements.txt": "Django>=4.2,<5.0\nchannels>=4.0\nchannels-redis>=4.1\ndjangorestframework>=3.14\ncelery>=5.3\n",
        "config/__init__.py": "",
        "config/settings/__init__.py": "",
        "config/settings/base.py": _d(
            f"""
            from pathlib import Path

            BASE_DIR = Path(__file__).resolve().parent.parent.parent
            INSTALLED_APPS = [
                "daphne",
                "django.contrib.admin",
                "django.contrib.auth",
                "django.contrib.contenttypes",
                "rest_framework",
                "channels",
            ] + {[f"apps.{a}" for a in apps]!r}
            ASGI_APPLICATION = "config.asgi.application"
            CHANNEL_LAYERS = {{"default": {{"BACKEND": "channels_redis.core.RedisChannelLayer"}}}}
            ROOT_URLCONF = "config.urls"
            """
        ),
        "config/settings/dev.py": "from .base import *  # noqa: F403\n\nDEBUG = True\n",
        "config/urls.py": "from django.urls import include, path\n\nurlpatterns = [\n"
        + "".join(f'    path("{a}/", include("apps.{a}.urls")),\n' for a in apps)
        + "]\n",
        "config/asgi.py": _d(
            """
            import os

            from django.core.asgi import get_asgi_application

            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
            django_asgi_app = get_asgi_application()

            from channels.auth import AuthMiddlewareStack  # noqa: E402
            from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

            """
        )
        + routing_imports.replace("\n", "  # noqa: E402\n")
        + _d(
            f"""

            application = ProtocolTypeRouter(
                {{"http": django_asgi_app, "websocket": AuthMiddlewareStack(URLRouter({routes}))}}
            )
            """
        ),
        "apps/__init__.py": "",
    }


def generate(destination: Path, apps: int = 100, consumers: int = 6, clean: bool = False, seed: int = 12) -> int:
    """Write the tree; returns the number of ``.py`` files."""
    rng = random.Random(seed)
    names = [f"{WORDS[i % len(WORDS)]}_{i // len(WORDS)}" if i >= len(WORDS) else WORDS[i] for i in range(apps)]
    consumer_apps = names[:: max(1, apps // max(1, consumers))][:consumers]
    files = project_files(names, consumer_apps)
    for index, app in enumerate(names):
        for relative, text in app_files(app, index, rng, app in consumer_apps, clean).items():
            files[f"apps/{app}/{relative}"] = text
    for relative, text in files.items():
        path = destination / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return sum(1 for name in files if name.endswith(".py"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("destination", type=Path)
    parser.add_argument("--apps", type=int, default=100)
    parser.add_argument("--consumers", type=int, default=6)
    parser.add_argument("--clean", action="store_true", help="consumers without bugs (nothing to fix)")
    args = parser.parse_args()
    if args.destination.exists():
        shutil.rmtree(args.destination)
    count = generate(args.destination, args.apps, args.consumers, args.clean)
    print(f"{args.destination}: {count} Python files")


if __name__ == "__main__":
    main()
