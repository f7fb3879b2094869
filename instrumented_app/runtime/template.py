"""The one definition of the app: the SAM template, and its plain-CloudFormation form.

``sam deploy`` runs the SAM transform in the cloud; locally the same
translator runs offline (DESIGN.md: set a region, pass a static managed-policy
map, replace each ``CodeUri`` by an ``s3://`` URI as ``sam package`` would).
Provisioning, the API front and the pollers all read this one translation.
"""

from __future__ import annotations

import copy
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

APP_TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"

#: Where ``sam package`` would have uploaded the code; locally the code is this checkout.
LOCAL_CODE_URI = "s3://sagawatch-local-code/app.zip"

#: The AWS managed policies the templates name. The translator would ask IAM for this map;
#: offline it is given, and a template naming a policy missing here fails translation loudly.
MANAGED_POLICIES: dict[str, str] = {
    name: f"arn:aws:iam::aws:policy/{path}{name}"
    for name, path in {
        "AWSLambdaBasicExecutionRole": "service-role/",
        "AWSLambdaSQSQueueExecutionRole": "service-role/",
        "AWSLambdaDynamoDBExecutionRole": "service-role/",
        "AWSLambdaRole": "service-role/",
        "AWSXrayWriteOnlyAccess": "",
        "AWSXRayDaemonWriteAccess": "",
        "CloudWatchLambdaInsightsExecutionRolePolicy": "",
        "AmazonS3ReadOnlyAccess": "",
        "AmazonDynamoDBReadOnlyAccess": "",
    }.items()
}


class TemplateError(ValueError):
    """The template could not be read or translated; the message names the resource."""


class _StaticPolicyLoader:
    """Stands in for samtranslator's ``ManagedPolicyLoader`` without calling IAM."""

    def load(self) -> dict[str, str]:
        return dict(MANAGED_POLICIES)


def load_sam_template(path: Path = APP_TEMPLATE) -> dict[str, Any]:
    """Parse a SAM template, CloudFormation short forms (``!Ref``, ``!Sub`` ...) included."""
    from samtranslator.yaml_helper import yaml_parse

    try:
        parsed = yaml_parse(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateError(f"cannot read template {path}: {exc}") from exc
    if not isinstance(parsed, dict) or "Resources" not in parsed:
        raise TemplateError(f"{path}: not a template (no Resources section)")
    return parsed


def translate(sam: dict[str, Any], region: str) -> dict[str, Any]:
    """SAM -> plain CloudFormation, offline; the input is left untouched."""
    import os

    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform

    packaged = _packaged(sam)
    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region  # the translator builds ARNs from it
    try:
        result: dict[str, Any] = transform(packaged, {}, _StaticPolicyLoader())
    except InvalidDocumentException as exc:
        causes = "; ".join(str(cause) for cause in exc.causes)
        raise TemplateError(f"the SAM template does not translate: {causes}") from exc
    finally:
        if previous is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = previous
    return result


@lru_cache(maxsize=8)
def _translated_cached(path: Path, digest: str, region: str) -> dict[str, Any]:
    return translate(load_sam_template(path), region)


def translated_template(path: Path = APP_TEMPLATE, region: str = "us-east-1") -> dict[str, Any]:
    """The translated template, cached per file content (not mtime: a rewrite within the clock's
    resolution would be missed); callers get their own copy."""
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise TemplateError(f"cannot read template {path}: {exc}") from exc
    return copy.deepcopy(_translated_cached(path, digest, region))


def _packaged(sam: dict[str, Any]) -> dict[str, Any]:
    """What ``sam package`` does to code locations: point them at an S3 object."""
    packaged = copy.deepcopy(sam)
    function_globals = packaged.get("Globals", {}).get("Function", {})
    if "CodeUri" in function_globals:
        function_globals["CodeUri"] = LOCAL_CODE_URI
    for resource in packaged["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            properties = resource.setdefault("Properties", {})
            if "InlineCode" not in properties:
                properties["CodeUri"] = LOCAL_CODE_URI
    return packaged
