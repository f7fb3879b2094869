"""Request validation at the API front, as API Gateway's request validators do it.

A method's validator (``x-amazon-apigateway-request-validator``) turns on two
independent checks: ``validateRequestParameters`` (every required path, query
string and header parameter is present and not blank) and
``validateRequestBody`` (the body is JSON that satisfies the method's model, a
JSON Schema draft 4). Without a validator nothing is checked, even if a
parameter is marked required: that is API Gateway's behaviour, and copying it
keeps a template that works here working on AWS.

A failure is answered 400 before any integration runs. The body names each
field and its problem but never echoes the submitted value, since a value may
be an email address or a phone number.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from jsonschema import Draft4Validator
from jsonschema.exceptions import SchemaError
from jsonschema.exceptions import ValidationError as SchemaViolation

ParameterLocation = Literal["path", "querystring", "header"]

#: The media type API Gateway assumes for a request without ``Content-Type``.
DEFAULT_MEDIA = "application/json"
#: How many field errors one 400 lists; the first ones are enough to fix a request.
MAX_REPORTED_ERRORS = 20

_LOCATION_WORDS: dict[str, str] = {
    "path": "a required path parameter",
    "querystring": "a required query string parameter",
    "header": "a required header",
}
_APIGW_MODEL_REF = re.compile(r"^https://apigateway\.amazonaws\.com/restapis/[^/]+/models/([^/#]+)$")


class InvalidModelError(ValueError):
    """A model in the API definition is not a valid JSON Schema draft 4."""


@dataclass(frozen=True)
class ParameterRule:
    """One required request parameter, ``method.request.<location>.<name>`` in API Gateway terms."""

    location: ParameterLocation
    name: str


@dataclass(frozen=True)
class FieldError:
    field: str
    problem: str


@dataclass(frozen=True)
class ValidationFailure:
    """Why a request was refused; ``as_body`` is the 400's JSON body."""

    message: str
    errors: tuple[FieldError, ...]

    def as_body(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "errors": [{"field": error.field, "problem": error.problem} for error in self.errors],
        }


@dataclass(frozen=True)
class RequestParts:
    """The parts of a request a validator looks at; header names lower-cased."""

    headers: Mapping[str, Sequence[str]]
    query: Mapping[str, Sequence[str]]
    path_parameters: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class RequestValidator:
    """The checks of one method; the default checks nothing (no validator on the method).

    Body models are keyed by media type, as API Gateway maps them: the request's
    ``Content-Type`` (``application/json`` when absent) picks the model, ``$default``
    catches the rest, and a body whose media type has no model is passed through
    unvalidated, as API Gateway does for proxy integrations.
    """

    required_parameters: tuple[ParameterRule, ...] = ()
    validate_parameters: bool = False
    body_models: tuple[tuple[str, Draft4Validator], ...] = field(default=(), compare=False)
    validate_body: bool = False

    @classmethod
    def build(
        cls,
        *,
        required_parameters: Iterable[ParameterRule],
        validate_parameters: bool,
        body_schemas: Mapping[str, dict[str, Any]],
        schema_root: Mapping[str, Any],
        validate_body: bool,
    ) -> RequestValidator:
        """Compile the body models once; ``schema_root`` holds ``definitions``/``components`` for refs."""
        compiled = tuple(
            (media_type.lower(), compile_model(schema, schema_root))
            for media_type, schema in (body_schemas.items() if validate_body else ())
        )
        return cls(
            required_parameters=tuple(required_parameters),
            validate_parameters=validate_parameters,
            body_models=compiled,
            validate_body=validate_body,
        )

    def check(self, request: RequestParts) -> ValidationFailure | None:
        """None when the request may go on to the integration; parameters are checked before the body."""
        if self.validate_parameters:
            missing = [rule for rule in self.required_parameters if _is_missing(rule, request)]
            if missing:
                names = ", ".join(rule.name for rule in missing)
                return ValidationFailure(
                    f"Missing required request parameters: [{names}]",
                    tuple(FieldError(rule.name, f"is {_LOCATION_WORDS[rule.location]}") for rule in missing),
                )
        if self.validate_body:
            model = self._model_for(request)
            if model is not None:
                return _check_body(model, request.body)
        return None

    def _model_for(self, request: RequestParts) -> Draft4Validator | None:
        given = request.headers.get("content-type", ())
        media_type = (
            given[-1].split(";", 1)[0].strip().lower() if given and given[-1].strip() else DEFAULT_MEDIA
        )
        models = dict(self.body_models)
        return models.get(media_type, models.get("$default"))


def compile_model(schema: dict[str, Any], schema_root: Mapping[str, Any]) -> Draft4Validator:
    """A draft 4 validator for ``schema``, resolving ``#/definitions/..`` and API Gateway model URLs."""
    document = _rewrite_model_refs(dict(schema))
    for key in ("definitions", "components"):
        if key in schema_root and key not in document:
            document[key] = _rewrite_model_refs(schema_root[key])
    try:
        Draft4Validator.check_schema(document)
    except SchemaError as exc:
        raise InvalidModelError(f"not a valid JSON Schema draft 4: {exc.message}") from exc
    return Draft4Validator(document)


def _rewrite_model_refs(node: Any) -> Any:
    """API Gateway models may ``$ref`` each other by URL; locally that is ``#/definitions/<name>``."""
    if isinstance(node, dict):
        rewritten = {key: _rewrite_model_refs(value) for key, value in node.items()}
        ref = rewritten.get("$ref")
        if isinstance(ref, str) and (found := _APIGW_MODEL_REF.match(ref)):
            rewritten["$ref"] = f"#/definitions/{found.group(1)}"
        return rewritten
    if isinstance(node, list):
        return [_rewrite_model_refs(item) for item in node]
    return node


def _is_missing(rule: ParameterRule, request: RequestParts) -> bool:
    """Absent or blank, as API Gateway counts it."""
    if rule.location == "path":
        return not request.path_parameters.get(rule.name, "").strip()
    source = request.headers if rule.location == "header" else request.query
    key = rule.name.lower() if rule.location == "header" else rule.name
    return not any(value.strip() for value in source.get(key, ()))


def _check_body(validator: Draft4Validator, body: bytes) -> ValidationFailure | None:
    if not body.strip():
        return ValidationFailure("Invalid request body", (FieldError("body", "is required"),))
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        problem = f"is not valid JSON ({exc.msg})" if isinstance(exc, json.JSONDecodeError) else "is not JSON"
        return ValidationFailure("Invalid request body", (FieldError("body", problem),))
    violations = sorted(
        validator.iter_errors(document), key=lambda error: list(map(str, error.absolute_path))
    )
    if not violations:
        return None
    errors = tuple(_field_error(violation) for violation in violations[:MAX_REPORTED_ERRORS])
    return ValidationFailure("Invalid request body", errors)


def _field_error(violation: SchemaViolation) -> FieldError:
    """A schema violation -> (field path, problem) without the offending value in the text."""
    path = list(violation.absolute_path)
    required = violation.validator_value
    if (
        violation.validator == "required"
        and isinstance(violation.instance, dict)
        and isinstance(required, list)
    ):
        missing = next((name for name in required if name not in violation.instance), None)
        if missing is not None:
            return FieldError(_field_name([*path, missing]), "is a required property")
    return FieldError(_field_name(path), _problem(violation))


def _field_name(path: Sequence[Any]) -> str:
    """``["items", 0, "sku"]`` -> ``items[0].sku``; the whole body is ``body``."""
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def _problem(violation: SchemaViolation) -> str:
    """jsonschema's message with the leading ``repr(instance)`` cut off, so no value is echoed."""
    kind = violation.validator
    if kind == "pattern":
        return f"does not match the pattern {violation.validator_value}"
    if kind == "enum":
        return f"is not one of {json.dumps(violation.validator_value)}"
    if kind == "type":
        return f"is not of type {json.dumps(violation.validator_value)}"
    message = violation.message
    shown = repr(violation.instance)
    if message.startswith(shown):
        return message[len(shown) :].strip()
    if kind in ("additionalProperties", "dependencies", "minProperties", "maxProperties"):
        return message  # these name properties, never values
    return f"fails the {kind} rule"
