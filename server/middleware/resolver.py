"""Resolve a short operationId into server/api/: the operation's first tag names the module,
the operationId in snake_case names the function (`Contractors` + `createContractor` ->
server.api.contractors.create_contractor). A tag whose module name would read as a test module
is renamed: `Test Clocks` lands in server.api.clocks."""

from __future__ import annotations

import re

from connexion.resolver import RelativeResolver

_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")


def snake_case(name: str) -> str:
    return _CAMEL_BOUNDARY.sub("_", name.replace(" ", "")).lower()


# Tools and people take a module named test_* for tests.
MODULE_OF_TAG = {"test_clocks": "clocks"}


def handler_name(root: str, tag: str, operation_id: str) -> str:
    module = snake_case(tag)
    return f"{root}.{MODULE_OF_TAG.get(module, module)}.{snake_case(operation_id)}"


class TagResolver(RelativeResolver):
    def resolve_operation_id(self, operation) -> str:
        if operation.router_controller is not None:
            return super().resolve_operation_id(operation)
        # connexion keeps the operation's raw spec dict in `_operation`; tags are only there.
        tags = operation._operation.get("tags") or ["default"]
        return handler_name(self.root_path, tags[0], operation.operation_id)
