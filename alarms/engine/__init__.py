"""The local alarm evaluator: ``AlarmEngine(settings, stack_info).run_once(now)`` and ``AlarmLoop``.

``ports`` names the two edges (CloudWatch, the logs), ``cloudwatch`` and ``logtail`` implement
them over boto3, ``ingest`` turns log events into metric data, ``local`` builds the parts for a
running stack (and ``start_local_loop``, what ``sagawatch up`` runs), ``engine`` is one pass,
``loop`` runs passes on a thread.
"""

from alarms.engine.engine import AlarmEngine, EngineParts, PassReport
from alarms.engine.local import start_local_loop
from alarms.engine.loop import AlarmLoop

__all__ = ["AlarmEngine", "AlarmLoop", "EngineParts", "PassReport", "start_local_loop"]
