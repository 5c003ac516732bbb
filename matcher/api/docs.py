"""The human-readable API page, rendered here from the generated OpenAPI document (no script, no
CDN: the site's own style sheet and content security policy apply)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, current_app, render_template

from matcher.api import spec_of
from matcher.api.blueprints import PREFIX
from matcher.api.problems import PROBLEMS

bp = Blueprint("api_docs", __name__, url_prefix=PREFIX, template_folder="templates")
METHODS = ("get", "post", "put", "patch", "delete")
REF = "#/components/schemas/"


@dataclass
class Row:
    """One parameter or property: where it goes, its type, whether it is required, its limits."""

    name: str
    kind: str
    required: bool
    limits: str
    description: str
    schema: str = ""  # the name of the nested schema, for a link


@dataclass
class Operation:
    method: str
    path: str
    anchor: str
    summary: str
    description: str
    staff: bool
    parameters: list[Row] = field(default_factory=list)
    body: str = ""
    responses: list[tuple[str, str, str]] = field(default_factory=list)  # status, description, schema


def _schema_name(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref") or (schema.get("items") or {}).get("$ref", "")
    for option in schema.get("anyOf", ()):
        ref = ref or option.get("$ref", "")
    return ref.removeprefix(REF)


def _kind(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return "object"
    kind = schema.get("type", "any")
    kinds = kind if isinstance(kind, list) else [kind]
    if "array" in kinds:
        return f"array of {_kind(schema.get('items', {}))}"
    return " | ".join(kinds)


def _limits(schema: dict[str, Any]) -> str:
    schema = (
        schema.get("items", schema) if schema.get("type") == "array" and "enum" in schema.get("items", {}) else schema
    )
    parts = []
    if "enum" in schema:
        parts.append("one of " + ", ".join(f"“{value}”" for value in schema["enum"]))
    for key, label in (
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minimum", "min"),
        ("maximum", "max"),
    ):
        if key in schema:
            parts.append(f"{label} {schema[key]}")
    if "default" in schema:
        parts.append(f"default {schema['default']!r}")
    return "; ".join(parts)


def _rows(schema: dict[str, Any], required: list[str]) -> list[Row]:
    return [
        Row(
            name,
            _kind(prop),
            name in required,
            _limits(prop),
            prop.get("description", ""),
            _schema_name(prop),
        )
        for name, prop in schema.get("properties", {}).items()
    ]


def _operations(spec: dict[str, Any]) -> list[Operation]:
    operations = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            summary, _, description = (
                (op.get("summary", "") + "\n\n" + op.get("description", "")).strip().partition("\n")
            )
            operation = Operation(
                method=method.upper(),
                path=path,
                anchor=op.get("operationId") or f"{method}-{path}",
                summary=summary,
                description=description.strip(),
                staff={} not in op.get("security", [{}]),
            )
            for parameter in [*item.get("parameters", []), *op.get("parameters", [])]:
                schema = parameter.get("schema", {})
                row = Row(
                    parameter["name"],
                    f"{parameter['in']}: {_kind(schema)}",
                    parameter.get("required", False),
                    _limits(schema),
                    parameter.get("description", ""),
                )
                operation.parameters.append(row)
            content = op.get("requestBody", {}).get("content", {})
            operation.body = next((_schema_name(c.get("schema", {})) for c in content.values()), "")
            for status, response in op.get("responses", {}).items():
                ref = response.get("$ref", "")
                if ref:
                    response = spec["components"]["responses"][ref.rsplit("/", 1)[1]]
                schema = next((c.get("schema", {}) for c in response.get("content", {}).values()), {})
                operation.responses.append((status, response.get("description", ""), _schema_name(schema)))
            operations.append(operation)
    return operations


@bp.get("/docs")
def docs() -> str:
    spec = spec_of(current_app)
    schemas = {
        name: _rows(schema, schema.get("required", [])) for name, schema in spec["components"]["schemas"].items()
    }
    return render_template(
        "api/docs.html",
        spec=spec,
        operations=_operations(spec),
        schemas=schemas,
        problems=PROBLEMS,
    )
