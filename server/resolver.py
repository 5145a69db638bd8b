"""Resolve a short operationId into server/api/: the operation's first tag names the module,
the operationId in snake_case names the function (`Contractors` + `createContractor` ->
server.api.contractors.create_contractor)."""

from __future__ import annotations

import re

from connexion.resolver import RelativeResolver

_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")


def snake_case(name: str) -> str:
    return _CAMEL_BOUNDARY.sub("_", name.replace(" ", "")).lower()


class TagResolver(RelativeResolver):
    def resolve_operation_id(self, operation) -> str:
        if operation.router_controller is not None:
            return super().resolve_operation_id(operation)
        # connexion keeps the operation's raw spec dict in `_operation`; tags are only there.
        tags = operation._operation.get("tags") or ["default"]
        module = snake_case(tags[0])
        return f"{self.root_path}.{module}.{snake_case(operation.operation_id)}"
