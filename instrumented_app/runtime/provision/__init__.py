"""The SAM template -> resources in moto: one definition of the app, provisioned and checked.

``provision`` is the entry point; ``DeployedStack.resolve`` gives the values CloudFormation
would have substituted into the template, for the API front, the pollers and tests.

Modules, in the order ``provision`` uses them: ``plan`` (what CloudFormation makes, what is
made directly, what the API front serves), ``deploy`` (the steps), ``attributes`` (GetAtt
values), ``direct`` (boto3 creators and fix-ups), ``checks`` (read back and compare),
``rollback`` (undo on failure), ``stack`` (``DeployedStack`` and intrinsics).

What moto 5.2.5's CloudFormation gets wrong, and what is done about it:

- API Gateway resources fail the stack -> not created; the API front serves them from the template.
- ``AWS::Lambda::Alias``, ``AWS::SNS::Subscription``, ``AWS::SQS::QueuePolicy``,
  ``AWS::Logs::MetricFilter``, ``AWS::CloudWatch::Alarm`` are skipped with a warning, and
  ``AWS::Lambda::Version`` / ``AWS::Events::EventBus`` get no physical id, and
  ``AWS::Scheduler::Schedule`` is unknown to it -> made with boto3 (schedules are made and checked
  but never fire locally: moto's Scheduler only stores them).
- A bucket's ``NotificationConfiguration`` is ignored -> put after the stack.
- A state machine's ``DefinitionSubstitutions`` are ignored, and with ``execute_state_machine``
  on, the Step Functions API does not see machines CloudFormation made -> updated or created
  under the same name.
- Lambda functions need their code object in S3 -> a stub artefact is uploaded first.
- Not fixable through the API, so not checked: ``TracingConfig``; a mapping on an alias
  records the alias's version ARN.
"""

from instrumented_app.runtime.provision.deploy import STACK_TIMEOUT_S, provision
from instrumented_app.runtime.provision.errors import ProvisioningError
from instrumented_app.runtime.provision.stack import DeployedStack

__all__ = ["STACK_TIMEOUT_S", "DeployedStack", "ProvisioningError", "provision"]
