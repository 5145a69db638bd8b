"""The contract's tooling beside openapi.yaml: the breaking-change gate and the npm tools."""
