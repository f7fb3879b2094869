"""Event source pollers: what the Lambda service does for SQS, DynamoDB Streams and S3 notifications.

``EventSourcePollers(invoker, aws_endpoint=..., region=...)`` is the one entry
point; ``start()`` reads the mappings from moto's Lambda API and polls each.
"""

from instrumented_app.runtime.pollers.manager import EventSourcePollers
from instrumented_app.runtime.pollers.mappings import EventSourceMapping, MappingError
from instrumented_app.runtime.pollers.moto_hooks import install_moto_hooks

__all__ = ["EventSourceMapping", "EventSourcePollers", "MappingError", "install_moto_hooks"]
