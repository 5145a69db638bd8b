"""Code generation from openapi.yaml: the pydantic models in server/contract/models.py."""
