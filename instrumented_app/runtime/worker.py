"""One Lambda execution environment, as a child process: ``python -m instrumented_app.runtime.worker``.

The parent (``environment.py``) starts this module with the function's environment
variables (``_HANDLER`` names the handler) and talks to it over two pipes with
length-prefixed JSON frames: requests arrive on ``--in-fd``, everything goes back
on ``--out-fd``. stdout and stderr are replaced by line capturers that send each
line as its own frame the moment it is complete, so the parent keeps the lines of
an invocation even when it has to kill the worker for a timeout.

Frames, worker -> parent:
    {"t": "ready"}                                  init done (handler imported)
    {"t": "init_error", "error": {...}}             init failed; the worker exits
    {"t": "log", "ts": <epoch ms>, "line": "..."}   one line of handler output
    {"t": "result", "payload": ..., "rss_kb": N}    the handler returned
    {"t": "error", "error": {...}, "rss_kb": N}     the handler raised, or its value is not JSON
Frames, parent -> worker:
    {"request_id", "event", "deadline_ms", "invoked_arn"}

Only the standard library is imported here before the handler, so a cold start
costs the interpreter plus the handler's own imports, as on Lambda.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import logging
import os
import resource
import struct
import sys
import threading
import time
import traceback
from typing import Any

HEADER = struct.Struct(">I")
#: Lambda's limit on a synchronous invocation's response (and request) payload.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
#: A frame larger than this is refused: Lambda's own payload limit is 6 MB.
MAX_FRAME_BYTES = 64 * 1024 * 1024


def encode_frame(message: dict[str, Any]) -> bytes:
    data = json.dumps(message, separators=(",", ":")).encode("utf-8")
    return HEADER.pack(len(data)) + data


def write_all(fd: int, data: bytes) -> None:
    """``os.write`` may write less than asked (signals, big frames); loop until it is all out."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exactly(fd: int, size: int) -> bytes:
    """Blocking read of ``size`` bytes; ``EOFError`` when the other side closed its end."""
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = os.read(fd, remaining)
        if not chunk:
            raise EOFError("pipe closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> dict[str, Any]:
    (size,) = HEADER.unpack(read_exactly(fd, HEADER.size))
    if size > MAX_FRAME_BYTES:
        raise ValueError(f"frame of {size} bytes exceeds the {MAX_FRAME_BYTES} byte limit")
    message: dict[str, Any] = json.loads(read_exactly(fd, size))
    return message


class FrameSender:
    """Writes frames to the parent; a lock keeps frames whole when handler threads print."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        self.send_raw(encode_frame(message))

    def send_raw(self, frame: bytes) -> None:
        with self._lock:
            write_all(self._fd, frame)


class LineCapture(io.TextIOBase):
    """A text stream that forwards each complete line to the parent, stamped with when it was written."""

    encoding = "utf-8"  # some libraries ask before they write; TextIOBase says None

    def __init__(self, sender: FrameSender, name: str) -> None:
        super().__init__()
        self._sender = sender
        self._partial = ""
        self._lock = threading.Lock()
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        with self._lock:
            buffered = self._partial + text
            *lines, self._partial = buffered.split("\n")
        now_ms = int(time.time() * 1000)
        for line in lines:
            self._sender.send({"t": "log", "ts": now_ms, "line": line})
        return len(text)

    def end_invocation(self) -> None:
        """Lambda ships a last line without its newline when the invocation ends; so do we."""
        with self._lock:
            rest, self._partial = self._partial, ""
        if rest:
            self._sender.send({"t": "log", "ts": int(time.time() * 1000), "line": rest})


class LambdaContext:
    """The context object a Python handler receives, with the attributes Powertools reads."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.invoked_function_arn: str = request.get("invoked_arn", "")
        self.aws_request_id: str = request["request_id"]
        self.identity: Any = None
        self.client_context: Any = None
        self.tenant_id: str | None = None
        self._deadline_ms: int = request["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


class _RequestIdFilter(logging.Filter):
    """Stamps each record with the current invocation's request id, as Lambda's runtime does."""

    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


REQUEST_ID = _RequestIdFilter()


def install_lambda_log_handler(stream: io.TextIOBase) -> None:
    """Lambda's Python runtime puts a handler on the root logger: ``[LEVEL]\t<time>Z\t<request id>\t<msg>``.

    Plain ``logging`` calls in a handler then reach the function's log (root level
    stays WARNING, Python's default, as on Lambda unless the handler changes it).
    """
    handler = logging.StreamHandler(stream)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(REQUEST_ID)
    logging.getLogger().addHandler(handler)


def error_payload(error_type: str, message: str, stack: list[str] | None = None) -> dict[str, Any]:
    return {"errorType": error_type, "errorMessage": message, "stackTrace": stack or []}


def _user_stack(exc: BaseException) -> list[str]:
    """The traceback as Lambda reports it: the handler's frames, not this runtime's."""
    frames = traceback.extract_tb(exc.__traceback__)[1:]
    return traceback.format_list(frames)


def load_handler(spec: str) -> Any:
    """Import ``package.module.attr``; raise ``InitError`` with Lambda's error types when that fails."""
    module_name, _, attr = spec.rpartition(".")
    if not module_name or not attr:
        raise InitError(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)",
        )
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InitError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from exc
    except SyntaxError as exc:
        raise InitError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}"
        ) from exc
    except Exception as exc:
        raise InitError(type(exc).__name__, str(exc), _user_stack(exc)) from exc
    handler = getattr(module, attr, None)
    if handler is None:
        raise InitError("Runtime.HandlerNotFound", f"Handler '{attr}' missing on module '{module_name}'")
    return handler


class InitError(Exception):
    def __init__(self, error_type: str, message: str, stack: list[str] | None = None) -> None:
        super().__init__(message)
        self.payload = error_payload(error_type, message, stack)


def _rss_kb() -> int:
    """Peak resident memory; ``/proc`` first, as ``ru_maxrss`` survives exec on Linux (counts the parent)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def run_one(handler: Any, request: dict[str, Any], sender: FrameSender, captures: list[LineCapture]) -> None:
    """One invocation: call the handler, send its lines, then its result or error."""
    context = LambdaContext(request)
    REQUEST_ID.request_id = context.aws_request_id
    try:
        result = handler(request.get("event"), context)
    except Exception as exc:
        stack = _user_stack(exc)
        message = str(exc)
        # Lambda's Python runtime logs the failure itself, as one event (\r joins its lines).
        report = f"[ERROR] {type(exc).__name__}: {message}\nTraceback (most recent call last):\n" + "".join(
            stack
        )
        print(report.rstrip("\n").replace("\n", "\r"))
        _end(captures)
        sender.send(
            {"t": "error", "error": error_payload(type(exc).__name__, message, stack), "rss_kb": _rss_kb()}
        )
        return
    _end(captures)
    try:
        frame = encode_frame({"t": "result", "payload": result, "rss_kb": _rss_kb()})
    except (TypeError, ValueError) as exc:
        marshal = error_payload("Runtime.MarshalError", f"Unable to marshal response: {exc}")
        print(f"[ERROR] Runtime.MarshalError: {marshal['errorMessage']}")
        _end(captures)
        sender.send({"t": "error", "error": marshal, "rss_kb": _rss_kb()})
        return
    if len(frame) > MAX_PAYLOAD_BYTES:
        message = f"Response payload size exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."
        sender.send({"t": "error", "error": error_payload("Function.ResponseSizeTooLarge", message)})
        return
    sender.send_raw(frame)


def _end(captures: list[LineCapture]) -> None:
    for capture in captures:
        capture.end_invocation()


def _exit_with_parent(parent_pid: int, interval_s: float = 1.0) -> None:
    """A handler stuck in a loop would outlive a parent that died abruptly; stop when the parent is gone.

    (``PR_SET_PDEATHSIG`` would fire when the *thread* that started us ends, and invokes
    come from short-lived threads, so the parent is watched instead.)
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval_s)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def serve(in_fd: int, out_fd: int) -> int:
    _exit_with_parent(os.getppid())
    sender = FrameSender(out_fd)
    captures = [LineCapture(sender, "<stdout>"), LineCapture(sender, "<stderr>")]
    sys.stdout, sys.stderr = captures
    install_lambda_log_handler(captures[0])
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except InitError as exc:
        # As Lambda's runtime does, the init failure is logged too (metric filters on "[ERROR]" see it).
        report = f"[ERROR] {exc.payload['errorType']}: {exc.payload['errorMessage']}"
        print("\r".join([report, *exc.payload["stackTrace"]]).rstrip("\n").replace("\n", "\r"))
        _end(captures)
        sender.send({"t": "init_error", "error": exc.payload})
        return 1
    _end(captures)
    sender.send({"t": "ready"})
    while True:
        try:
            request = read_frame(in_fd)
        except EOFError:
            return 0  # the parent closed our input: the environment is being shut down
        run_one(handler, request, sender, captures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--in-fd", type=int, required=True)
    parser.add_argument("--out-fd", type=int, required=True)
    args = parser.parse_args(argv)
    return serve(args.in_fd, args.out_fd)


if __name__ == "__main__":
    sys.exit(main())
