"""The SAM template -> resources in moto: one definition of the app, provisioned and checked.

``provision`` is the entry point; ``DeployedStack.resolve`` gives the values CloudFormation
would have substituted into the template, for the API front, the pollers and tests.
"""

from instrumented_app.runtime.provision.deploy import STACK_TIMEOUT_S, provision
from instrumented_app.runtime.provision.errors import ProvisioningError
from instrumented_app.runtime.provision.stack import DeployedStack, RestApiDefinition

__all__ = ["STACK_TIMEOUT_S", "DeployedStack", "ProvisioningError", "RestApiDefinition", "provision"]
