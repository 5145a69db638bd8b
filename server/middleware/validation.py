"""Request validation, compiled once per operation: parameters and JSON bodies against the spec.

It takes connexion's place in the middleware list. Every operation's parameters and body schema
are compiled when the app starts; a request is read once (1 MiB at most), parsed once, and the
parsed parameters and body are handed to the operation in the scope (`checked_request`).

Validation is linear in the body and bounded: an array longer than its `maxItems` is refused
before its items or their uniqueness are looked at, uniqueness is checked by hashing, at most
MAX_ERRORS errors are collected, and messages never repeat a long value back.
"""

from __future__ import annotations

import json
import re
import typing as t
from dataclasses import dataclass
from itertools import islice

import jsonschema_rs
from connexion.json_schema import allow_nullable
from connexion.middleware.abstract import RoutedAPI, RoutedMiddleware
from jsonschema import Draft4Validator, FormatChecker, ValidationError, validators
from starlette.datastructures import Headers, QueryParams
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.core.errors import InvalidRequest
from server.core.uploads import UploadedFile
from server.middleware import forms
from server.middleware.errors import RequestRefused
from server.middleware.routes import MULTIPART

MAX_BODY_BYTES = 1024 * 1024
# An operation that takes files (a certificate of 15 MB, and its multipart framing).
MAX_UPLOAD_BYTES = 16 * 1024 * 1024
MAX_PARTS = 10
MAX_ERRORS = 20  # field errors reported for one body
MAX_SHOWN = 40  # characters of a value repeated in a message
MAX_MESSAGE = 300  # characters of one error message
NUL = "\x00"
_SURROGATE = re.compile("[\ud800-\udfff]")
# What a JSON text must hold for a parsed string to carry U+0000 or a lone surrogate: an escape.
_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
CHECKED = "checked_request"  # where the scope carries what validation parsed

_REQUIRED = re.compile(r"^'([^']+)' is a required property$")

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


# jsonschema's email check is "contains an @"; the Rust validator's follows RFC 5321, as the
# tools that fuzz and validate this API (Schemathesis among them) check the responses that echo
# an address back.
_EMAIL = jsonschema_rs.validator_for({"format": "email"}, validate_formats=True)


@FORMATS.checks("email")
def _email(value: object) -> bool:
    return not isinstance(value, str) or _EMAIL.is_valid(value)


def shown(value: t.Any) -> str:
    """A value as a message may repeat it: short, whatever its size."""
    if isinstance(value, list):
        return f"an array of {len(value)} items"
    if isinstance(value, dict):
        return f"an object of {len(value)} properties"
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "...'"


def _too_long(schema: dict, instance: t.Any) -> bool:
    return isinstance(instance, list) and len(instance) > schema.get("maxItems", len(instance))


# Keywords whose jsonschema messages repeat the whole value, or that are quadratic in it.


def _type(validator, types, instance, schema):
    types = types if isinstance(types, list) else [types]
    if not any(validator.is_type(instance, kind) for kind in types):
        yield ValidationError(f"{shown(instance)} is not of type {', '.join(map(repr, types))}")


def _enum(validator, enums, instance, schema):
    if not any(type(instance) is type(e) and instance == e for e in enums):
        yield ValidationError(f"{shown(instance)} is not one of {enums!r}")


def _length(kind: str, longer: bool, limit_words: str):
    """The check of maxItems, minItems, maxLength or minLength, in a short message."""

    def check(validator, limit, instance, schema):
        if validator.is_type(instance, kind) and (
            len(instance) > limit if longer else len(instance) < limit
        ):
            too = "long" if longer else "short"
            yield ValidationError(f"{shown(instance)} is too {too}: {limit_words.format(limit)}")

    return check


def _canonical(item: t.Any) -> str:
    return json.dumps(item, sort_keys=True)


def _unique_items(validator, unique, instance, schema):
    if not unique or not validator.is_type(instance, "array") or _too_long(schema, instance):
        return
    seen = set()
    for item in instance:
        key = _canonical(item)
        if key in seen:
            yield ValidationError(f"{shown(instance)} has non-unique elements ({shown(item)})")
            return
        seen.add(key)


def _items(validator, items, instance, schema):
    if not validator.is_type(instance, "array") or _too_long(schema, instance):
        return
    if validator.is_type(items, "array"):
        for index, (item, subschema) in enumerate(zip(instance, items, strict=False)):
            yield from validator.descend(item, subschema, path=index, schema_path=index)
    else:
        for index, item in enumerate(instance):
            yield from validator.descend(item, items, path=index)


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not re.search(pattern, instance):
        yield ValidationError(f"{shown(instance)} does not match {pattern!r}")


def _any_of(validator, subschemas, instance, schema):
    if not any(validator.evolve(schema=s).is_valid(instance) for s in subschemas):
        yield ValidationError(f"{shown(instance)} is not valid under any of the given schemas")


BoundedValidator = validators.extend(
    Draft4Validator,
    {
        "type": allow_nullable(_type),  # OpenAPI 3.0's `nullable: true`
        "enum": allow_nullable(_enum),
        "maxItems": _length("array", True, "at most {} allowed"),
        "minItems": _length("array", False, "at least {} needed"),
        "uniqueItems": _unique_items,
        "items": _items,
        "maxLength": _length("string", True, "at most {} characters"),
        "minLength": _length("string", False, "at least {} characters"),
        "pattern": _pattern,
        "anyOf": _any_of,
    },
)


def compile_schema(schema: dict) -> Draft4Validator:
    return BoundedValidator(schema, format_checker=FORMATS)


# The ranges the integer formats promise, as bounds: jsonschema-rs checks formats of strings only.
_INTEGER_RANGES = {"int32": 2**31, "int64": 2**63}


# Keywords whose value maps names to schemas, and keywords whose value is data, not a schema.
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "definitions"})
_DATA = frozenset({"enum", "example", "default", "const", "required"})


def _for_draft4(schema: t.Any) -> t.Any:
    """The schema in plain Draft 4, for jsonschema-rs: OpenAPI's `nullable: true` as a `null`
    type (and enum value), integer formats as bounds."""
    if isinstance(schema, list):
        return [_for_draft4(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    plain: dict[str, t.Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            plain[key] = {name: _for_draft4(sub) for name, sub in value.items()}
        elif key != "nullable":
            plain[key] = value if key in _DATA else _for_draft4(value)
    if schema.get("nullable") is True:
        if "type" in plain:
            kinds = plain["type"] if isinstance(plain["type"], list) else [plain["type"]]
            plain["type"] = [*kinds, "null"]
        if "enum" in plain and None not in plain["enum"]:
            plain["enum"] = [*plain["enum"], None]
    if schema.get("type") == "integer" and isinstance(schema.get("format"), str):
        bound = _INTEGER_RANGES.get(schema["format"])
        if bound is not None:
            plain.setdefault("minimum", -bound)
            plain.setdefault("maximum", bound - 1)
    return plain


class BodySchema:
    """A request body's schema, checked in two steps: jsonschema-rs (compiled Rust) accepts a
    valid body in microseconds; a body it refuses is judged again by the bounded validator
    above, which words the errors, and whose verdict stands. The fast check may only ever be
    stricter: the string formats are the same Python checks, called from it, but for email,
    whose Python check is the Rust one already."""

    def __init__(self, schema: dict):
        self.validator = compile_schema(schema)
        formats = {name: _format_check(name) for name in FORMATS.checkers if name != "email"}
        self.fast = jsonschema_rs.Draft4Validator(
            _for_draft4(schema), formats=formats, validate_formats=True
        )

    def check(self, body: t.Any) -> None:
        try:
            if self.fast.is_valid(body):
                return
        except (ValueError, OverflowError):  # a value JSON allows and Rust does not (NaN)
            pass
        _validate(self.validator, body)


def _format_check(name: str) -> t.Callable[[t.Any], bool]:
    return lambda value: FORMATS.conforms(value, name)


def _param(error: ValidationError) -> str:
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required" and (match := _REQUIRED.match(error.message)):
        path.append(match.group(1))
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        # Name the first field the schema does not know, as a missing one is named.
        known = error.schema.get("properties", {})
        path.extend(sorted(name for name in error.instance if name not in known)[:1])
    return ".".join(path)


def _unstorable(text: str) -> str | None:
    """Why a string cannot be stored or answered, or None: U+0000, which PostgreSQL's text
    refuses, or a lone surrogate, which is no Unicode character and has no UTF-8 encoding."""
    if NUL in text:
        return "Strings must not contain the NUL character (U+0000)."
    if _SURROGATE.search(text):
        return "Strings must not contain half a surrogate pair (U+D800 to U+DFFF) alone."
    return None


def _first_unstorable(value: t.Any, path: tuple[str, ...] = ()) -> tuple[str, str] | None:
    """Where the first string of a parsed JSON value that cannot be stored is, and why. Object
    keys may hold U+0000 (the schema cannot say otherwise of `custom_metadata`'s, and JSON
    columns store them escaped), but no lone surrogate."""
    if isinstance(value, str):
        why = _unstorable(value)
        return (".".join(path), why) if why else None
    if not isinstance(value, dict | list):
        return None
    for key, item in value.items() if isinstance(value, dict) else enumerate(value):
        if isinstance(key, str) and _SURROGATE.search(key):
            escaped = key.encode("utf-8", "backslashreplace").decode()
            return ".".join((*path, escaped)), _unstorable(key) or ""
        found = _first_unstorable(item, (*path, str(key)))
        if found is not None:
            return found
    return None


def _too_deep() -> InvalidRequest:
    return InvalidRequest("The request body nests too deeply.", code="bad_request")


def too_large(limit: int = MAX_BODY_BYTES) -> RequestRefused:
    return RequestRefused(
        413,
        "request_too_large",
        f"The request body must not be larger than {limit} bytes.",
    )


async def read_body(receive: Receive, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole request body; 413 past `limit`."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive channel that hands on a body already read, then the original channel."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


@dataclass(frozen=True)
class CheckedRequest:
    """What validation parsed: parameters by name (path and query), the body, its bytes."""

    params: dict[str, t.Any]
    body: t.Any
    raw_body: bytes


def _quick_check(schema: dict) -> t.Callable[[t.Any], bool] | None:
    """A plain predicate for the simple schemas parameters have (a string with a pattern or an
    enum, an integer within bounds), or None; jsonschema then only words the error."""
    simple = {"type", "pattern", "enum", "minimum", "maximum", "maxLength", "minLength"}
    if not set(schema) - {"default", "description", "example"} <= simple:
        return None
    pattern = re.compile(schema["pattern"]) if "pattern" in schema else None
    enum = schema.get("enum")
    low, high = schema.get("minimum"), schema.get("maximum")
    shortest, longest = schema.get("minLength", 0), schema.get("maxLength")
    # type[Any]: once `type(value) is kind`, value is one to measure and compare.
    kinds: dict[str, type[t.Any]] = {"string": str, "integer": int}
    kind = kinds.get(schema.get("type", ""))
    if kind is None:
        return None

    def check(value: t.Any) -> bool:
        return (
            type(value) is kind
            and (pattern is None or pattern.search(value) is not None)
            and (enum is None or value in enum)
            and (low is None or value >= low)
            and (high is None or value <= high)
            and (kind is not str or shortest <= len(value))
            and (longest is None or len(value) <= longest)
        )

    return check


@dataclass(frozen=True)
class _Parameter:
    name: str
    location: str
    required: bool
    integer: bool
    default: t.Any
    validator: Draft4Validator
    quick: t.Callable[[t.Any], bool] | None
    array: bool = False  # a query parameter given once per value (`expand[]=a&expand[]=b`)

    @property
    def key(self) -> str:
        """The handler's argument: the name without the brackets of an array (`expand`)."""
        return self.name.removesuffix("[]")

    def check_all(self, values: list[str]) -> t.Any:
        """An array parameter's values; InvalidRequest naming it when one is wrong."""
        if not values:
            return self.default if self.default is not None else ()
        if any(NUL in value for value in values):
            raise self._invalid("it contains U+0000")
        error = next(self.validator.iter_errors(values), None)
        if error is not None:
            raise self._invalid(error.message)
        return tuple(values)

    def check(self, value: str | None) -> t.Any:
        """The parameter's value, typed; InvalidRequest naming it when it is wrong."""
        if value is None:
            if self.required:
                raise InvalidRequest(
                    f"Missing required {self.location} parameter '{self.name}'.", param=self.name
                )
            return self.default
        if NUL in value:
            raise self._invalid("it contains U+0000")
        typed: t.Any = value
        if self.integer:
            try:
                typed = int(value)
            except ValueError:
                raise self._invalid(f"{shown(value)} is not of type 'integer'") from None
        if self.quick is not None and self.quick(typed):
            return typed
        error = next(self.validator.iter_errors(typed), None)
        if error is not None:
            raise self._invalid(error.message)
        return typed

    def _invalid(self, why: str) -> InvalidRequest:
        return InvalidRequest(
            f"Invalid {self.location} parameter '{self.name}': {why}", param=self.name
        )


class _Operation:
    """One operation's checks, compiled."""

    def __init__(self, next_app: ASGIApp, operation, strict: bool):
        self.next_app = next_app
        self.parameters = [self._compile(p) for p in operation.parameters]
        self.query_names = {p.name for p in self.parameters if p.location == "query"}
        # The names a body may give the parameters by (see _parameters_in_body).
        self.body_names = {p.name: p for p in self.parameters if p.location in ("path", "query")}
        self.body_names.update(
            {p.name.removesuffix("_id"): p for p in self.parameters if p.location == "path"}
        )
        self.strict = strict
        body = operation.request_body or {}
        content = body.get("content", {})
        self.media_types = list(content)
        # A form-encoded body is validated by the JSON body's schema (the contract names the
        # same one for both), once its strings are typed by it. A multipart body's fields are
        # the domain's to judge (`_parts`).
        self.schema = content.get("application/json", {}).get("schema")
        self.body_schema = None if self.schema is None else BodySchema(self.schema)
        self.body_required = body.get("required", False)

    @staticmethod
    def _compile(param: dict) -> _Parameter:
        schema = param.get("schema", {})
        return _Parameter(
            name=param["name"],
            location=param["in"],
            required=param.get("required", False),
            integer=schema.get("type") == "integer",
            default=schema.get("default"),
            validator=compile_schema(schema),
            quick=_quick_check(schema),
            array=schema.get("type") == "array",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        params = self._parameters(scope, headers)
        raw, body = b"", None
        if MULTIPART in self.media_types:
            raw = await read_body(receive, MAX_UPLOAD_BYTES)
            body = await self._parts(raw, headers)
            receive = replay(raw, receive)
        elif self.media_types:
            raw = await read_body(receive)
            body = self._body(raw, headers)
            receive = replay(raw, receive)
        elif _has_body(headers):
            raw = await read_body(receive)
            params = self._parameters_in_body(raw, headers, scope, params)
            receive = replay(raw, receive)
        scope[CHECKED] = CheckedRequest(params=params, body=body, raw_body=raw)
        await self.next_app(scope, receive, send)

    def _parameters(self, scope: Scope, headers: Headers) -> dict[str, t.Any]:
        # Most requests have no query string: no parsing (a tenth of this step's time).
        query = QueryParams(scope["query_string"]) if scope["query_string"] else _NO_QUERY
        if self.strict:
            unknown = sorted(set(query) - self.query_names)
            if unknown:
                raise InvalidRequest(
                    f"Unknown query parameter(s): {', '.join(unknown)}.", param=unknown[0]
                )
        path = scope.get("path_params", {})
        found = {}
        for param in self.parameters:
            if param.array and param.location == "query":
                found[param.key] = param.check_all(query.getlist(param.name))
            elif param.location == "query":
                found[param.name] = param.check(query.get(param.name))
            elif param.location == "path":
                found[param.name] = param.check(path.get(param.name))
            elif param.location == "header":
                param.check(headers.get(param.name))
        return found

    def _parameters_in_body(
        self, raw: bytes, headers: Headers, scope: Scope, params: dict[str, t.Any]
    ) -> dict[str, t.Any]:
        """An operation that takes no body takes its parameters from a JSON object, as the
        reference documents' curl examples send them (`GET /contractors -d '{"limit":25}'`,
        `DELETE /contractors/{id} -d '{"contractor":"cn_…"}'`): a query parameter by its name,
        a path parameter by its name or its resource's (`contractor` for `contractor_id`). A
        value the query string or the path gives too must be the same."""
        media_type, _ = _content_type(headers)
        if media_type not in ("", "application/json"):
            raise InvalidRequest(
                f"Invalid Content-Type ({media_type}): this operation takes no body but its"
                " parameters, as a JSON object.",
                code="unsupported_media_type",
                param="Content-Type",
            )
        sent = _parse_json(raw, "utf-8") if raw.strip() else None
        if sent is None:
            return params
        if not isinstance(sent, dict):
            raise InvalidRequest(
                "This operation takes no body but its parameters, as a JSON object.",
                code="invalid_input",
            )
        query = QueryParams(scope["query_string"])
        given = dict(params)
        for key, value in sent.items():
            parameter = self.body_names.get(key)
            if parameter is None:
                raise InvalidRequest(
                    f"Unknown parameter in the request body: {shown(key)}.", param=key
                )
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise InvalidRequest(
                    f"Invalid parameter '{key}' in the request body: {shown(value)} is not a"
                    " string or an integer.",
                    param=key,
                )
            typed = parameter.check(str(value))
            in_request = parameter.location == "path" or parameter.name in query
            if in_request and given[parameter.name] != typed:
                raise InvalidRequest(
                    f"The request body gives '{key}' as {shown(typed)}, the"
                    f" {parameter.location} as {shown(given[parameter.name])}.",
                    param=key,
                )
            given[parameter.name] = typed
        return given

    async def _parts(self, raw: bytes, headers: Headers) -> dict[str, t.Any]:
        """A multipart body's fields: a file part as an UploadedFile, any other as its text.
        What the fields must be the domain says, each refusal with its own code (a missing file
        is `missing_certificate`, not a schema's `invalid_input`)."""
        media_type, _ = _content_type(headers)
        if media_type != MULTIPART:
            raise InvalidRequest(
                f"Invalid Content-Type ({media_type or 'none'}): send {MULTIPART}.",
                code="unsupported_media_type",
                param="Content-Type",
            )

        async def stream() -> t.AsyncGenerator[bytes, None]:
            yield raw

        parser = MultiPartParser(headers, stream(), max_files=MAX_PARTS, max_fields=MAX_PARTS)
        try:
            form = await parser.parse()
        except MultiPartException as error:
            raise InvalidRequest(
                f"The multipart body is malformed: {error.message}", code="bad_request"
            ) from None
        fields: dict[str, t.Any] = {}
        for name, part in form.multi_items():
            if isinstance(part, StarletteUpload):
                content = await part.read()
                fields.setdefault(name, UploadedFile(part.filename, part.content_type, content))
                continue
            if (found := _first_unstorable(part)) is not None:
                raise InvalidRequest(found[1], code="invalid_input", param=name)
            fields.setdefault(name, part)
        return fields

    def _body(self, raw: bytes, headers: Headers) -> t.Any:
        media_type, options = _content_type(headers)
        media_type = media_type or self.media_types[0]
        if media_type not in self.media_types:
            raise InvalidRequest(
                f"Invalid Content-Type ({media_type}): send {', '.join(self.media_types)}.",
                code="unsupported_media_type",
                param="Content-Type",
            )
        if media_type == forms.FORM:  # no fields is an empty form
            body = _parse_form(raw, _charset(options), self.schema)
        else:
            body = _parse_json(raw, _charset(options)) if raw else None
        if body is None:
            if self.body_required:
                raise InvalidRequest("A request body is required.")
            return None
        if self.body_schema is not None:
            self.body_schema.check(body)
        return body


_NO_QUERY = QueryParams()


def _content_type(headers: Headers) -> tuple[str, str]:
    """The request's media type, lowercased (empty when none is sent), and its options."""
    media_type, _, options = headers.get("content-type", "").partition(";")
    return media_type.strip().lower(), options


def _has_body(headers: Headers) -> bool:
    return headers.get("content-length", "0") not in ("0", "") or "transfer-encoding" in headers


def _charset(options: str) -> str:
    for option in options.split(";"):
        name, _, value = option.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip('"')
    return "utf-8"


def _text(raw: bytes, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        raise InvalidRequest(
            f"The request body is not valid {encoding} text.", code="bad_request"
        ) from None


def _parse_form(raw: bytes, encoding: str, schema: dict | None) -> t.Any:
    body = forms.decode(_text(raw, encoding), schema)
    found = _first_unstorable(body)
    if found is not None:
        param, why = found
        raise InvalidRequest(why, code="invalid_input", param=param)
    return body


def _parse_json(raw: bytes, encoding: str) -> t.Any:
    text = _text(raw, encoding)
    try:
        body = json.loads(text)
    except ValueError as error:
        raise InvalidRequest(
            f"The request body is not valid JSON: {error}", code="bad_request"
        ) from None
    except RecursionError:
        raise _too_deep() from None
    # JSON carries U+0000 and surrogates only as escapes, so most bodies skip the walk.
    if _UNSTORABLE_ESCAPE.search(text) and (found := _first_unstorable(body)) is not None:
        param, why = found
        raise InvalidRequest(why, code="invalid_input", param=param)
    return body


def _validate(validator: Draft4Validator, body: t.Any) -> None:
    try:
        errors = sorted(
            islice(validator.iter_errors(body), MAX_ERRORS),
            key=lambda e: (list(map(str, e.absolute_path)), e.message),
        )
    except RecursionError:
        raise _too_deep() from None
    if not errors:
        return
    fields = [{"param": _param(e), "message": e.message[:MAX_MESSAGE]} for e in errors]
    first = fields[0]
    raise InvalidRequest(first["message"], param=first["param"] or None, errors=fields)


class _ValidationAPI(RoutedAPI[_Operation]):
    def __init__(self, *args, strict_validation: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.strict_validation = strict_validation
        self.add_paths()

    def make_operation(self, operation) -> _Operation:
        return _Operation(self.next_app, operation, self.strict_validation)


class RequestValidation(RoutedMiddleware[_ValidationAPI]):
    api_cls = _ValidationAPI
