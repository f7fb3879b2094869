"""What a provisioned stack is, and how its template's intrinsics resolve against it.

``DeployedStack.resolve`` gives the values CloudFormation would have substituted, so the
API front, the pollers and the tests read the template and get the same names and ARNs
that exist in moto (or on AWS). It is pure: every attribute it may need was read back
when the stack was provisioned.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from instrumented_app.runtime.provision.errors import ProvisioningError

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
#: What ``Ref: AWS::NoValue`` stands for until the property holding it is dropped.
_NO_VALUE = object()


@dataclass(frozen=True)
class DeployedStack:
    """A stack as provisioned: its translated template and every resource's physical id."""

    stack_name: str
    region: str
    account_id: str
    template: dict[str, Any]  # the translated CloudFormation
    resources: dict[str, tuple[str, str]]  # logical id -> (resource type, physical id)
    #: logical id -> {attribute: value}, what ``Fn::GetAtt`` returns (Arn, StreamArn, Version ...)
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)

    def physical_id(self, logical_id: str) -> str:
        """The resource's physical id (what ``Ref`` returns); ``KeyError`` names unknown ids."""
        try:
            return self.resources[logical_id][1]
        except KeyError:
            raise KeyError(f"{logical_id!r} is not a resource of stack {self.stack_name!r}") from None

    def resource_type(self, logical_id: str) -> str:
        return self.resources[logical_id][0]

    def of_type(self, resource_type: str) -> dict[str, str]:
        """Logical id -> physical id of every resource of one type, in template order."""
        return {lid: pid for lid, (rtype, pid) in self.resources.items() if rtype == resource_type}

    @property
    def outputs(self) -> dict[str, Any]:
        """The template's ``Outputs``, resolved."""
        return {
            name: self.resolve(out.get("Value")) for name, out in self.template.get("Outputs", {}).items()
        }

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic replaced by what CloudFormation would put there.

        Handles ``Ref`` (``AWS::NoValue`` removes the property, as CloudFormation does),
        ``Fn::GetAtt``, ``Fn::Sub`` (both forms, ``${X}``, ``${X.Attr}``, ``${!Literal}``,
        pseudo parameters), ``Fn::Join``, ``Fn::Select``, ``Fn::Split``, ``Fn::If`` (against
        the template's Conditions), ``Fn::FindInMap``, ``Fn::Base64`` and ``Fn::ToJsonString``.
        """
        resolved = self._resolve(value)
        return None if resolved is _NO_VALUE else resolved

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in map(self._resolve, value) if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" or key.startswith("Fn::"):
                return self._intrinsic(key, argument)
        resolved = {key: self._resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def _intrinsic(self, key: str, argument: Any) -> Any:
        if key == "Ref":
            return _NO_VALUE if argument == "AWS::NoValue" else self._ref(str(argument))
        if key == "Fn::GetAtt":
            return self._get_att(argument)
        if key == "Fn::Sub":
            return self._sub(argument)
        if key == "Fn::Join":
            separator, items = argument
            return str(separator).join(str(item) for item in self._resolve(items))
        if key == "Fn::Select":
            index, items = self._resolve(argument)
            return items[int(index)]
        if key == "Fn::Split":
            separator, text = self._resolve(argument)
            return str(text).split(str(separator))
        if key == "Fn::If":
            condition, when_true, when_false = argument
            return self._resolve(when_true if self._condition(condition) else when_false)
        if key == "Fn::FindInMap":
            mapping, top, second = self._resolve(argument)
            try:
                return self.template["Mappings"][mapping][top][second]
            except KeyError:
                raise ProvisioningError(f"Fn::FindInMap: no {mapping}.{top}.{second} in Mappings") from None
        if key == "Fn::Base64":
            return base64.b64encode(str(self._resolve(argument)).encode()).decode()
        if key == "Fn::ToJsonString":
            return json.dumps(self._resolve(argument), separators=(",", ":"))
        raise ProvisioningError(f"intrinsic {key} is not supported locally")

    # -- the intrinsics -------------------------------------------------------------------------

    def _pseudo(self, name: str) -> str | None:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local"
            ),
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }.get(name)

    def _ref(self, name: str) -> Any:
        pseudo = self._pseudo(name)
        if pseudo is not None:
            return pseudo
        if name in self.resources:
            return self.resources[name][1]
        parameter = self.template.get("Parameters", {}).get(name)
        if parameter is not None:
            if "Default" not in parameter:
                raise ProvisioningError(f"parameter {name!r} has no Default and no value was given")
            return parameter_value(parameter)
        raise ProvisioningError(f"Ref to {name!r}: no such resource, parameter or pseudo parameter")

    def _get_att(self, argument: Any) -> str:
        if isinstance(argument, str):
            logical_id, _, attribute = argument.partition(".")
        else:
            logical_id, attribute = argument[0], self.resolve(argument[1])
        known = self.attributes.get(logical_id)
        if known is None or attribute not in known:
            have = ", ".join(sorted(known)) if known else "none"
            raise ProvisioningError(
                f"Fn::GetAtt {logical_id}.{attribute}: not known for this stack (attributes known: {have})"
            )
        return known[attribute]

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        else:
            text, variables = argument[0], self.resolve(argument[1])

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and self._pseudo(name) is None:
                return str(self._get_att(name))
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(substitute, text)

    def _condition(self, name: str) -> bool:
        conditions: Mapping[str, Any] = self.template.get("Conditions", {})
        if name not in conditions:
            raise ProvisioningError(f"Fn::If names condition {name!r}, which the template does not declare")
        return bool(_evaluate_condition(self, conditions[name]))


def _evaluate_condition(stack: DeployedStack, expression: Any) -> Any:
    """Fn::Equals / Fn::Not / Fn::And / Fn::Or / Condition, over resolved values."""
    if isinstance(expression, dict) and len(expression) == 1:
        ((key, argument),) = expression.items()
        if key == "Fn::Equals":
            left, right = (_evaluate_condition(stack, item) for item in argument)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not _evaluate_condition(stack, argument[0])
        if key == "Fn::And":
            return all(_evaluate_condition(stack, item) for item in argument)
        if key == "Fn::Or":
            return any(_evaluate_condition(stack, item) for item in argument)
        if key == "Condition":
            return stack._condition(argument)
    return stack.resolve(expression)


def parameter_value(parameter: dict[str, Any]) -> Any:
    """What ``Ref`` to a parameter gives, as CloudFormation gives it.

    A ``Number`` parameter is validated as a number but referenced as a string, and
    list types are lists of strings; YAML would otherwise hand a ``0.3`` default on
    as a float, which e.g. Lambda's ``Environment.Variables`` refuses.
    """
    default = parameter["Default"]
    kind = str(parameter.get("Type", "String"))
    if kind in ("CommaDelimitedList", "List<Number>") or kind.startswith("List<"):
        items = default if isinstance(default, list) else str(default).split(",")
        return [_as_text(item).strip() for item in items]
    return _as_text(default)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
