"""The contract: openapi.yaml, where it is and how its paths match, and the types generated
from it (`python -m codegen`; never edited by hand)."""
