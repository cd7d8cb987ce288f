"""CHN103: lazy relation access in async code."""

from __future__ import annotations

from collections.abc import Iterator

from channels_lint.analysis import Family
from channels_lint.analysis.facts import ASYNC_MARKERS
from channels_lint.diagnostics import Violation
from channels_lint.rules.base import Invalid, Rule
from channels_lint.rules.orm import describe, operations_on_loop


class LazyRelationInAsync(Rule):
    """
    ## What it does
    Checks, in code that runs on the event loop, for a ForeignKey or OneToOne attribute read
    on a model instance that was fetched without `select_related` of that relation, and for a
    reverse or many-to-many manager that is evaluated (iterated, `list()`, `count()`,
    `first()`...) without `prefetch_related` of it. Relations are read statically from the
    project's `models.py` files (no Django import); `*_id` attributes never count.
    `self.scope["user"]`'s plain fields are fine (AuthMiddleware resolves the user before the
    consumer runs), its relations (`groups`, a `profile`...) are not.

    ## Why is this bad?
    Loading a relation that is not cached runs a query, which raises
    `SynchronousOnlyOperation` on the event loop. It is easy to miss because the same line
    works in a view, and works in a test if the relation happened to be cached.

    ## Example
    ```python
    from channels.generic.websocket import AsyncJsonWebsocketConsumer

    from .models import Gadget


    class GadgetConsumer(AsyncJsonWebsocketConsumer):
        async def connect(self):
            gadget = await Gadget.objects.aget(pk=1)
            await self.send_json({"shelf": gadget.shelf.label})
    ```

    Use instead:
    ```python
    from channels.generic.websocket import AsyncJsonWebsocketConsumer

    from .models import Gadget


    class GadgetConsumer(AsyncJsonWebsocketConsumer):
        async def connect(self):
            gadget = await Gadget.objects.select_related("shelf").aget(pk=1)
            await self.send_json({"shelf": gadget.shelf.label})
    ```

    ## Fix safety
    No fix: whether to add `select_related`/`prefetch_related` to the query that fetched the
    instance, or to read the relation inside `database_sync_to_async`, depends on the code.

    ## Known problems
    Relations of models the index cannot resolve (models outside the project, ambiguous
    names) are not checked. A relation cached by an earlier access is still reported.
    """

    code = "CHN103"
    name = "lazy-relation-in-async"
    markers = ASYNC_MARKERS

    example_models = """
from django.conf import settings
from django.db import models


class Shelf(models.Model):
    label = models.CharField(max_length=20)


class Tag(models.Model):
    name = models.CharField(max_length=20)


class Gadget(models.Model):
    name = models.CharField(max_length=50)
    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE, related_name="gadgets")
    tags = models.ManyToManyField(Tag)


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    nickname = models.CharField(max_length=20)
"""

    valid = (
        """
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Gadget, Shelf

class C(AsyncWebsocketConsumer):
    async def connect(self):
        gadget = await Gadget.objects.select_related("shelf").aget(pk=1)
        label = gadget.shelf.label
        shelf_id = gadget.shelf_id
        name = self.scope["user"].username
        shelf = await Shelf.objects.prefetch_related("gadgets").aget(pk=1)
        names = [g.name for g in shelf.gadgets.all()]
        async for tag in gadget.tags.all():
            pass
        count = await gadget.tags.acount()
        label = await database_sync_to_async(lambda: gadget.shelf.label)()
""",
        """
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from shop.models import Order

class OrderConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.order = None
        self.order = await Order.objects.select_related("customer").aget(pk=1)
        await self.accept()

    async def receive_json(self, content):
        order = self.order
        await self.send_json({
            "customer": order.customer.email,
            "customer_id": order.customer_id,
            "placed": order.placed_at.isoformat(),
            "year": order.placed_at.year,
            "total": str(order.total.quantize(1)),
            "note": order.extra.get("note"),
            "invoice": order.invoice.url,
            "name": self.scope["user"].username.upper(),
            "email": self.scope["user"].email,
        })
        order.extra.clear()
        order.tags.remove("x")
""",
    )
    invalid = (
        Invalid(
            """
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Gadget

class C(AsyncWebsocketConsumer):
    async def connect(self):
        gadget = await Gadget.objects.aget(pk=1)
        label = gadget.shelf.label  # error
        for tag in gadget.tags.all():  # error
            pass
        first = gadget.shelf.gadgets.first()  # error
        groups = list(self.scope["user"].groups.all())  # error
        nickname = self.scope["user"].profile.nickname  # error
"""
        ),
        Invalid(
            """
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from shop.models import Order

class OrderConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.order = await Order.objects.aget(pk=self.scope["url_route"]["kwargs"]["pk"])
        await self.accept()

    async def receive_json(self, content):
        await self.send_json({"customer": self.order.customer.email})  # error
        for line in self.order.lines.all():  # error
            pass
        if self.order.lines.count():  # error
            pass
""",
            messages=(
                "`self.order.customer` looks like a relation (`.email` is read on it, and no field value has that "
                "attribute) and loads the related object with a query, which raises SynchronousOnlyOperation on the "
                "event loop; load it up front with select_related()/prefetch_related()",
                "iterating the queryset `self.order.lines.all()` runs a query (`.lines` looks like a related manager: "
                "the models index does not know its model), which raises SynchronousOnlyOperation on the event loop; "
                "load it up front with select_related()/prefetch_related()",
                "`self.order.lines.count()` runs a database query (`.lines` looks like a related manager: the models "
                "index does not know its model), which raises SynchronousOnlyOperation on the event loop; load it up "
                "front with select_related()/prefetch_related()",
            ),
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for operation in operations_on_loop(a, Family.RELATION):
            if not (operation.evidence is not None and operation.evidence.weak):
                yield self.violation(
                    operation.node,
                    f"{describe(a, operation)}, which raises SynchronousOnlyOperation on the event loop; "
                    "load it up front with select_related()/prefetch_related()",
                )
