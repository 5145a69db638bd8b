"""Request validation, replacing connexion's validators through `validator_map`.

Compared with connexion's own: a compiled schema validator is built once per schema instead of
once per request; errors name the parameter or field and leave out the schema dump; a body that
is not UTF-8 or not JSON, or nests too deep, is a clear 400; every invalid field is reported.
No string may hold U+0000: PostgreSQL cannot store it, and SQLite and PostgreSQL must behave alike.
"""

from __future__ import annotations

import json
import re
import typing as t

from connexion.json_schema import Draft4RequestValidator
from connexion.validators import AbstractRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, FormatChecker, ValidationError
from starlette.types import Scope

from server.domain.errors import InvalidRequest

_REQUIRED = re.compile(r"^'([^']+)' is a required property$")
_compiled: dict[int, tuple[dict, Draft4Validator]] = {}

# jsonschema checks no integer formats; the spec's int32/int64 are promises about range, and
# PostgreSQL's integer columns hold no more.
FORMATS = FormatChecker(formats=())
FORMATS.checkers.update(Draft4Validator.FORMAT_CHECKER.checkers)


@FORMATS.checks("int32")
def _int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


@FORMATS.checks("int64")
def _int64(value: object) -> bool:
    return not isinstance(value, int) or -(2**63) <= value < 2**63


def _validator_for(schema: dict, kind: type[Draft4Validator] = Draft4RequestValidator):
    """The compiled validator of a spec schema; the spec's dicts live as long as the app."""
    cached = _compiled.get(id(schema))
    if cached is None or cached[0] is not schema:
        cached = (schema, kind(schema, format_checker=FORMATS))
        _compiled[id(schema)] = cached
    return cached[1]


NUL = "\x00"


def _nul_error(param: str) -> InvalidRequest:
    return InvalidRequest(
        "Strings must not contain the NUL character (U+0000).", code="invalid_string", param=param
    )


def _find_nul(value: t.Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The path of the first key or string in a parsed JSON value that holds U+0000."""
    if isinstance(value, str):
        return path if NUL in value else None
    if not isinstance(value, dict | list):
        return None
    for key, item in value.items() if isinstance(value, dict) else enumerate(value):
        if isinstance(key, str) and NUL in key:
            return (*path, key)
        found = _find_nul(item, (*path, str(key)))
        if found is not None:
            return found
    return None


def _too_deep() -> InvalidRequest:
    return InvalidRequest("The request body nests too deeply.", code="invalid_json")


def _param(error: ValidationError) -> str:
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required" and (match := _REQUIRED.match(error.message)):
        path.append(match.group(1))
    return ".".join(path)


class JSONBodyValidator(AbstractRequestBodyValidator):
    async def _parse(self, stream: t.AsyncGenerator[bytes, None], scope: Scope) -> t.Any:
        raw = b"".join([chunk async for chunk in stream])
        if not raw:
            return None
        try:
            text = raw.decode(self._encoding)
        except (LookupError, UnicodeDecodeError):
            raise InvalidRequest(
                f"The request body is not valid {self._encoding} text.", code="invalid_body"
            ) from None
        try:
            body = json.loads(text)
        except ValueError as error:
            raise InvalidRequest(
                f"The request body is not valid JSON: {error}", code="invalid_json"
            ) from None
        except RecursionError:
            raise _too_deep() from None
        # JSON can carry U+0000 only as an escape, so most bodies skip the walk.
        if "\\u0000" in text and (path := _find_nul(body)) is not None:
            raise _nul_error(".".join(path))
        return body

    def _validate(self, body: t.Any) -> None:
        if body is None and not self._nullable:
            raise InvalidRequest("A JSON request body is required.")
        try:
            errors = sorted(
                _validator_for(self._schema).iter_errors(body),
                key=lambda e: (list(map(str, e.absolute_path)), e.message),
            )
        except RecursionError:
            raise _too_deep() from None
        if not errors:
            return
        fields = [{"param": _param(e), "message": e.message} for e in errors]
        first = fields[0]
        raise InvalidRequest(first["message"], param=first["param"] or None, errors=fields)


class NamedParameterValidator(ParameterValidator):
    """Validates query, path, header and cookie parameters; an error names the parameter."""

    def validate_request(self, request) -> None:
        if self.strict_validation:
            extra = sorted(
                self.validate_query_parameter_list(
                    request, security_params=self.security_query_params
                )
            )
            if extra:
                raise InvalidRequest(
                    f"Unknown query parameter(s): {', '.join(extra)}.", param=extra[0]
                )
        sources = {
            "query": request.query_params,
            "path": request.path_params,
            "header": request.headers,
            "cookie": request.cookies,
        }
        for location, values in sources.items():
            for param in self.parameters.get(location, []):
                name = param["name"]
                value = values.get(name.replace("-", "_") if location == "path" else name)
                message = self._check(location, param, value)
                if message:
                    raise InvalidRequest(message, param=name)

    @staticmethod
    def _check(location: str, param: dict, value: t.Any) -> str | None:
        if value is None:
            return (
                f"Missing required {location} parameter '{param['name']}'."
                if param.get("required")
                else None
            )
        if isinstance(value, str) and NUL in value:
            return f"Invalid {location} parameter '{param['name']}': it contains U+0000."
        error = next(
            _validator_for(param.get("schema", param), Draft4Validator).iter_errors(value), None
        )
        return (
            None
            if error is None
            else f"Invalid {location} parameter '{param['name']}': {error.message}"
        )
