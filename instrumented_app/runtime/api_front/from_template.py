"""The route tables of every REST API a (translated) CloudFormation template declares.

SAM turns an ``AWS::Serverless::Api`` into an ``AWS::ApiGateway::RestApi`` with
an inline OpenAPI ``Body`` and an ``AWS::ApiGateway::Stage`` naming the stage;
the API front serves each such API on its stage. The resolver is the
provisioned stack's (``DeployedStack.resolve``), so integration URIs name the
functions and aliases that exist in moto, and ``Ref`` of the API gives the id
its ``execute-api`` URL would carry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from instrumented_app.runtime.api_front.routes import ApiDefinitionError, RouteTable

REST_API = "AWS::ApiGateway::RestApi"
STAGE = "AWS::ApiGateway::Stage"


def route_tables_from_template(
    template: Mapping[str, Any], resolve: Callable[[Any], Any]
) -> dict[str, RouteTable]:
    """Logical id of each RestApi -> its route table on its stage.

    Raises ``ApiDefinitionError`` naming the API when it cannot be served: no
    inline ``Body`` (a ``BodyS3Location`` is not fetched), no stage, or several
    stages (one front serves one stage).
    """
    resources: Mapping[str, Any] = template.get("Resources", {})
    tables: dict[str, RouteTable] = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") != REST_API:
            continue
        properties = resource.get("Properties", {})
        body = properties.get("Body")
        if not isinstance(body, dict):
            raise ApiDefinitionError(f"{logical_id}: only an inline Body is served locally")
        stage, variables = _stage_of(logical_id, resources, resolve)
        try:
            table = RouteTable.from_openapi(
                body,
                resolve,
                stage,
                api_id=str(resolve({"Ref": logical_id})),
                account_id=str(resolve({"Ref": "AWS::AccountId"})),
            )
        except ApiDefinitionError as exc:
            raise ApiDefinitionError(f"{logical_id}: {exc}") from exc
        table = dataclasses.replace(table, stage_variables=variables)
        if "Name" in properties:  # an explicit Name overrides the body's title, as on import
            table = dataclasses.replace(table, api_name=str(resolve(properties["Name"])))
        tables[logical_id] = table
    return tables


def _stage_of(
    logical_id: str, resources: Mapping[str, Any], resolve: Callable[[Any], Any]
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """(stage name, stage variables) of the one Stage resource serving ``logical_id``."""
    stages = [
        resource["Properties"]
        for resource in resources.values()
        if resource.get("Type") == STAGE
        and resource.get("Properties", {}).get("RestApiId") == {"Ref": logical_id}
    ]
    if len(stages) != 1:
        found = ", ".join(str(resolve(stage["StageName"])) for stage in stages) or "none"
        raise ApiDefinitionError(f"{logical_id}: one AWS::ApiGateway::Stage is served, found {found}")
    variables = resolve(stages[0].get("Variables", {})) or {}
    return str(resolve(stages[0]["StageName"])), tuple((str(k), str(v)) for k, v in variables.items())
