"""Route moto's Lambda ``invoke`` to the local runtime, so Step Functions tasks run real handlers.

moto 5.2.5's Step Functions interpreter (``moto/stepfunctions/parser``) runs a
Lambda task by calling moto's own Lambda API over HTTP at
``localhost:$MOTO_PORT`` with boto3; with ``{"lambda": {"use_docker": false}}``
that request lands in ``LambdaSimpleBackend.invoke``, which only echoes the
payload. Patching that one method (the narrowest point every backend-level
invoke goes through) makes it call ``Invoker.invoke`` instead. A failed
invocation answers with ``x-amz-function-error: Unhandled`` and Lambda's error
payload, so the interpreter raises ``LambdaFunctionErrorException`` and ASL
Retry/Catch match on ``errorType``.

moto 5.2.5's HTTP layer also drops the ``Qualifier`` of an Invoke request (it reads
a ``qualifier`` parameter; boto3 sends ``?Qualifier=``), so an alias or version
would silently run ``$LATEST``; the bridge mends that on the way in too.

What else in moto reaches this method (and so now runs real handlers):
- a plain ``lambda.invoke`` through boto3 against moto (all invocation types;
  ``Event`` runs in the background and answers 202 at once, ``DryRun`` runs nothing);
- SQS event source mappings made in moto (``send_sqs_batch``: moto invokes once per
  message, synchronously inside ``SendMessage``);
- Lambda targets of rules matching S3's EventBridge notifications (``moto/events/notifications.py``).
  (``PutEvents`` to a rule with a Lambda target is a 500 in moto 5.2.5: ``Rule.send_to_targets``
  raises ``NotImplementedError``; route EventBridge to Lambda through SQS, or deliver it yourself.)
What does *not*: SNS -> Lambda subscriptions, DynamoDB stream mappings, Kinesis, S3
bucket notifications and CloudWatch Logs subscriptions call ``LambdaFunction.invoke``
directly, which in moto wants Docker. The runtime's own pollers cover those paths.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from moto.awslambda.responses import LambdaResponse
from moto.awslambda_simple.models import LambdaSimpleBackend

from instrumented_app.runtime.types import InvocationResult, Invoker

log = logging.getLogger(__name__)

#: Background invocations (``InvocationType=Event``) running at once.
ASYNC_WORKERS = 4
#: ``x-amz-log-result`` carries the last 4 KB of the log, as Lambda's ``LogType=Tail`` does.
TAIL_BYTES = 4096


def _event_from(body: Any) -> Any:
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if body is None or body == "":
        return {}
    try:
        return json.loads(body)
    except (TypeError, ValueError):
        return body


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return None if value is None else str(value)


def respond(result: InvocationResult, response_headers: dict[str, str]) -> bytes:
    """Lambda's answer to a synchronous invoke: the payload, or the error and its header."""
    response_headers["x-amz-executed-version"] = result.version
    tail = "\n".join(result.log_lines).encode("utf-8")[-TAIL_BYTES:]
    response_headers["x-amz-log-result"] = base64.b64encode(tail).decode("ascii")
    if result.error is not None:
        response_headers["x-amz-function-error"] = "Unhandled"
        body = json.dumps(result.error.as_payload())
    else:
        body = json.dumps(result.payload)
    data = body.encode("utf-8")
    response_headers["Content-Length"] = str(len(data))
    return data


def install_sfn_bridge(invoker: Invoker) -> Callable[[], None]:
    """Make moto's Lambda backend run handlers through ``invoker``; returns the uninstall function.

    Installing twice without uninstalling is refused: two bridges would fight over one method.
    """
    if getattr(LambdaSimpleBackend.invoke, "_sagawatch_bridge", False):
        raise RuntimeError("install_sfn_bridge: a bridge is already installed; uninstall it first")
    original = LambdaSimpleBackend.invoke
    background = ThreadPoolExecutor(max_workers=ASYNC_WORKERS, thread_name_prefix="lambda-event")

    def run_async(function_name: str, event: Any, qualifier: str | None) -> None:
        try:
            result = invoker.invoke(function_name, event, qualifier=qualifier)
        except Exception:
            log.exception("asynchronous invoke of %s failed", function_name)
            return
        if result.error is not None:
            log.warning("asynchronous invoke of %s failed: %s", function_name, result.error.error_type)

    def invoke(
        self: LambdaSimpleBackend,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> str | bytes | None:
        # moto's own lookup first, so an unknown function gets Lambda's 404 error, as before.
        self.get_function(function_name, qualifier)
        invocation_type = _header(headers, "X-Amz-Invocation-Type") or "RequestResponse"
        if invocation_type == "DryRun":
            return b""
        event = _event_from(body)
        if invocation_type == "Event":
            background.submit(run_async, function_name, event, qualifier)
            return b""
        return respond(invoker.invoke(function_name, event, qualifier=qualifier), response_headers)

    original_http = LambdaResponse.invoke

    def invoke_http(self: LambdaResponse) -> Any:
        if self.querystring.get("Qualifier") and not self.querystring.get("qualifier"):
            self.querystring["qualifier"] = self.querystring["Qualifier"]
        return original_http(self)

    invoke._sagawatch_bridge = True  # type: ignore[attr-defined]
    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]
    LambdaResponse.invoke = invoke_http  # type: ignore[method-assign]

    def uninstall() -> None:
        if LambdaSimpleBackend.invoke is invoke:
            LambdaSimpleBackend.invoke = original  # type: ignore[method-assign]
        if LambdaResponse.invoke is invoke_http:
            LambdaResponse.invoke = original_http  # type: ignore[method-assign]
        background.shutdown(wait=True, cancel_futures=False)

    return uninstall
