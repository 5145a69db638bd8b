"""Route templates: what the access line and the metrics name a request by. An operation's is
its path template in the spec; the capability paths (/files/<token>, /apply/<session id>) become
their placeholders, so that no capability reaches a log or a metric label."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import Scope

from server.contract.spec import HTTP_METHODS, base_path
from server.core.links import APPLICATION_PAGE, FILES
from server.middleware.resolver import snake_case

# The templates of the paths served beside the API's operations, by their first segment.
_OTHER_ROUTES = {"/files": FILES, "/apply": APPLICATION_PAGE}


def static_path_methods(spec: dict) -> dict[str, set[str]]:
    """The methods of each spec path without parameters, by full request path."""
    base = base_path(spec)
    return {
        base + template: {method.upper() for method in item if method in HTTP_METHODS}
        for template, item in spec.get("paths", {}).items()
        if "{" not in template
    }


def operation_routes(spec: dict) -> dict[str, str]:
    """The full path template of each operation, by the name of its handler, which connexion's
    routing records (server/middleware/resolver.py)."""
    base = base_path(spec)
    return {
        snake_case(operation["operationId"]): base + template
        for template, item in spec.get("paths", {}).items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


class RouteTemplates:
    def __init__(self, spec: dict, fixed_paths: Iterable[str] = ()):
        self._operations = operation_routes(spec)
        base = base_path(spec)
        self._fixed = {*fixed_paths, f"{base}/openapi.json", f"{base}/openapi.yaml"}
        self._swagger_ui = f"{base}/ui"

    def names(self, scope: Scope) -> tuple[str, str]:
        """The request's route for the access line and for a metric's label: its template,
        never a capability path. Where no route serves it, the access line names the path, and
        the label is `unmatched`, so that a scanner's random paths do not make a label each."""
        template = self._template(scope)
        if template is not None:
            return template, template
        path = scope["path"]
        if path in self._fixed:
            return path, path
        if path.startswith(self._swagger_ui):
            return path, self._swagger_ui + "/{file}"
        return path, "unmatched"

    def label(self, scope: Scope) -> str:
        return self.names(scope)[1]

    def _template(self, scope: Scope) -> str | None:
        routed = scope.get("extensions", {}).get("connexion_routing", {})
        handler = routed.get("operation_id") or ""
        route = self._operations.get(handler.rpartition(".")[2])
        if route is not None:
            return route
        # /files/<token>, /apply/<session id>/accept: the capability becomes its placeholder.
        _, first, *rest = scope["path"].split("/", 3)
        template = _OTHER_ROUTES.get(f"/{first}")
        if template is not None and rest and rest[0]:
            return "/".join([template, *rest[1:]])
        return None


def upload_paths(spec: dict) -> set[str]:
    """The full request paths of the operations that take files (multipart bodies)."""
    base = base_path(spec)
    return {
        base + template
        for template, item in spec.get("paths", {}).items()
        for method, operation in item.items()
        if method in HTTP_METHODS
        and MULTIPART in operation.get("requestBody", {}).get("content", {})
    }


MULTIPART = "multipart/form-data"
