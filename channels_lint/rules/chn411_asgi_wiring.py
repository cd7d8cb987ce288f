"""CHN411: ASGI application wiring that fails when the server starts or serves HTTP."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis import regexes
from channels_lint.analysis.facts import DJANGO_SETUP_CALLS, HTTP_REQUIRED_SINCE
from channels_lint.analysis.routes import ImportBeforeSetup, ProtocolRouter, Route, TargetKind, _is_test_path
from channels_lint.analysis.syntax import walk_scope
from channels_lint.diagnostics import Applicability, InsertAfter, RemoveStatement, Violation
from channels_lint.rules.base import Invalid, Rule
from channels_lint.rules.routing import shown


class AsgiWiring(Rule):
    """
    ## What it does
    Checks how the ASGI application is put together:

    * a module imported above `get_asgi_application()` / `django.setup()` in the ASGI module
      that imports models, directly or through project modules (`routing` imports
      `consumers`, which imports `models`);
    * Django's ASGI application routed inside a `URLRouter` by a route that matches one path
      only (`path("", django_asgi_app)` serves `/` and nothing else);
    * on Channels 4.0+, the `ProtocolTypeRouter` named by `ASGI_APPLICATION` without an
      `"http"` entry when the project serves HTTP through it (`daphne` in `INSTALLED_APPS`,
      so `runserver` does).

    ## Why is this bad?
    Importing a models module before the app registry is populated raises
    `AppRegistryNotReady: Apps aren't loaded yet.` (docs/semantics.md §10.3): the server
    (Daphne, Uvicorn) fails to start, while `runserver`, which sets Django up first, hides it.
    A fallback that is not a catch-all answers every other HTTP path with `ValueError: No
    route found for path`. Channels 4 no longer adds an HTTP handler: a `ProtocolTypeRouter`
    without `"http"` raises `ValueError: No application configured for scope type 'http'` on
    every request (§1.5).

    ## Example
    ```python
    import os

    from channels.routing import ProtocolTypeRouter, URLRouter
    from django.core.asgi import get_asgi_application
    from django.contrib.auth.models import User

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
    django_asgi_app = get_asgi_application()
    ```

    Use instead:
    ```python
    import os

    from channels.routing import ProtocolTypeRouter, URLRouter
    from django.core.asgi import get_asgi_application

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
    django_asgi_app = get_asgi_application()
    from django.contrib.auth.models import User  # noqa: E402
    ```

    ## Fix safety
    For the import order, the fix moves the import below the statement that calls
    `get_asgi_application()`/`django.setup()`, with `# noqa: E402`. It is unsafe: the moved
    module's import-time code now runs later, after Django's setup. It is not offered when a
    name the import binds is used before that statement, or comments sit above the import.
    The other findings have no fix (which routes and protocols the project serves is the
    author's choice).

    ## Known problems
    Only module-level imports of project modules (followed through their own module-level
    imports) and of modules named `models` are considered. Whether HTTP is served through the
    ASGI application is only known from `daphne` in `INSTALLED_APPS`; a project that runs
    Daphne or Uvicorn for HTTP without it is not reported.
    """

    code = "CHN411"
    markers = ("get_asgi_application", "django.setup", ("setup()", "django"), "ProtocolTypeRouter", "URLRouter")
    name = "asgi-wiring"
    fix_applicability = Applicability.UNSAFE
    example_models = """
from django.db import models


class Room(models.Model):
    name = models.CharField(max_length=50)
"""

    valid = (
        # django.setup() before late imports, with noqa
        """
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
django.setup()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

from .models import Room  # noqa: E402
""",
        # Channels and Django modules that do not import models are fine above the call;
        # a catch-all fallback; an HTTP router without a ProtocolTypeRouter problem
        """
import os

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application
from django.db import models
from django.urls import path, re_path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
django_asgi_app = get_asgi_application()

from . import consumers  # noqa: E402

application = ProtocolTypeRouter({
    "http": URLRouter([
        path("events/", consumers.EventsConsumer.as_asgi()),
        re_path(r"", django_asgi_app),
    ]),
    "websocket": AuthMiddlewareStack(URLRouter([path("ws/", consumers.Chat.as_asgi())])),
})
""",
    )
    invalid = (
        Invalid(
            """
import os

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application
from django.urls import path

from .models import Room  # error
from django.contrib.auth.models import User  # error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
django_asgi_app = get_asgi_application()

application = ProtocolTypeRouter({
    "http": URLRouter([path("", django_asgi_app)]),  # error
})
""",
            fixed="""
import os

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application
from django.urls import path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
django_asgi_app = get_asgi_application()
from .models import Room  # noqa: E402  # error
from django.contrib.auth.models import User  # noqa: E402  # error

application = ProtocolTypeRouter({
    "http": URLRouter([path("", django_asgi_app)]),  # error
})
""",
        ),
        # a name the import binds is used before the call: reported, not moved
        Invalid(
            """
from django.contrib.auth.models import AnonymousUser  # error
from django.core.asgi import get_asgi_application

GUEST = AnonymousUser
application = get_asgi_application()
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        if not _is_test_path(a.path):
            yield from self._imports_before_setup()
        for route in a.routes.routes:
            found = self._narrow_fallback(route)
            if found is not None:
                yield found
        if a.settings.channels_version >= HTTP_REQUIRED_SINCE:
            for router in a.routes.protocol_routers:
                found = self._missing_http(router)
                if found is not None:
                    yield found

    # ------------------------------------------------------------------ import order
    def _imports_before_setup(self) -> Iterator[Violation]:
        a = self.analysis
        setup = a.routes.setup_statement
        if setup is None:
            return
        call = next(n for n in walk_scope([setup]) if isinstance(n, ast.Call) and a.names.qualname(n.func) in DJANGO_SETUP_CALLS)
        setup_call = f"{a.syntax.source(call.func)}()"
        routes = a.project.routes
        module = routes.module_name(a.path)
        is_package = bool(a.path and a.path.endswith("__init__.py"))
        for imported in a.routes.imports_before_setup:
            chain = None
            for name in imported.modules:
                chain = routes.models_chain(name, module, is_package)
                if chain is not None:
                    break
            if chain is None:
                continue
            shown_module = imported.modules[0] if isinstance(imported.statement, ast.Import) else chain[0]
            via = f" through {', '.join(f'`{m}`' for m in chain[1:-1])}" if len(chain) > 2 else ""
            reason = f"imports `{chain[-1]}`{via}" if len(chain) > 1 else "defines or imports models"
            yield self.violation(
                imported.statement,
                f"`{shown_module}` is imported before `{setup_call}` runs and {reason}, so the server fails to start "
                f"with AppRegistryNotReady; import it after `{setup_call}`",
                self._move(imported, setup),
                f"Import it after `{setup_call}`",
            )

    def _move(self, imported: ImportBeforeSetup, setup: ast.stmt) -> tuple:
        """Remove the import and insert it after the setup statement, when that is proven
        not to break the module."""
        a = self.analysis
        statement = imported.statement
        if not isinstance(setup, (ast.Assign, ast.AnnAssign, ast.Expr, ast.AugAssign)):
            return ()
        lines = a.lines
        last = lines[statement.end_lineno - 1]
        after = last[a.syntax.char_col(statement.end_lineno, statement.end_col_offset) :].strip()
        if after and not after.startswith("#"):
            return ()  # `import x; y = 1`
        previous = max((s.end_lineno for s in a.tree.body if s.end_lineno < statement.lineno), default=0)
        if any(line.strip().startswith("#") for line in lines[previous : statement.lineno - 1]):
            return ()  # leading comments would be removed with the line
        for name in imported.names:
            for load in a.names.loads_by_name[0].get(name.split(".")[0], ()):
                if a.syntax.enclosing_scope(load) is a.tree and load.lineno <= setup.end_lineno:
                    return ()
        first_line = statement.lineno
        text = "".join(lines[first_line - 1 : statement.end_lineno])
        code = text[: len(text) - len(last)] + last[: a.syntax.char_col(statement.end_lineno, statement.end_col_offset)]
        code = code[a.syntax.char_col(first_line, statement.col_offset) :] + "  # noqa: E402" + (f"  {after}" if after else "")
        return (
            RemoveStatement(a.syntax.span(statement)),
            InsertAfter(a.syntax.span(setup), code + "\n"),
        )

    # ------------------------------------------------------------------ Django's app under a narrow route
    def _narrow_fallback(self, route: Route) -> Violation | None:
        a = self.analysis
        if route.target is None or route.target.kind is not TargetKind.DJANGO_APP or route.pattern is None:
            return None
        if route.kind.is_regex:
            if not route.pattern.endswith("$"):
                return None
            converted = regexes.regex_as_route(route.pattern, True)
        else:
            converted = route.pattern
        if converted is None or regexes.route_parameters(converted) != []:
            return None
        return self.violation(
            route.pattern_node,
            f"Django's ASGI application is routed with {shown(a, route)}, which matches only the path "
            f'`/{converted}`, so every other HTTP path fails with ValueError; route it last with `re_path(r"")`, '
            "a catch-all",
        )

    # ------------------------------------------------------------------ ProtocolTypeRouter without "http"
    def _missing_http(self, router: ProtocolRouter) -> Violation | None:
        a = self.analysis
        if router.channel_names or router.open or "http" in router.keys or not self._is_asgi_application(router.call):
            return None
        if not a.project.routes.serves_http:
            return None
        return self.violation(
            router.call,
            'this `ProtocolTypeRouter` is the ASGI application and has no `"http"` entry, so on Channels 4 every '
            "HTTP request fails (runserver serves HTTP through it: daphne is in INSTALLED_APPS); add "
            '`"http": get_asgi_application()`',
        )

    def _is_asgi_application(self, call: ast.Call) -> bool:
        """Whether ``call`` is in the module-level assignment ``ASGI_APPLICATION`` names."""
        a = self.analysis
        module = a.project.routes.module_name(a.path)
        if module is None:
            return False
        statement = a.syntax.statement_of(call)
        if not isinstance(statement, ast.Assign) or statement not in a.tree.body:
            return False
        for target in statement.targets:
            if isinstance(target, ast.Name):
                name = f"{module}.{target.id}"
                if any(name == setting or name.endswith("." + setting) for setting in a.project.routes.asgi_applications):
                    return True
        return False
