"""The whole local runtime, assembled: what ``sagawatch up`` starts for the app.

Order mirrors a deployment: resources first (provision), then the service
that runs code (the invoker, with moto's Lambda ``invoke`` routed to it so
Step Functions tasks run real handlers), then what calls it (an API front per
REST API, the event-source pollers). Any failure on the way stops what had
started.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from instrumented_app.runtime.template import APP_TEMPLATE
from sagawatch.aws import aws_session

if TYPE_CHECKING:
    from instrumented_app.runtime.invoker import LocalInvoker
    from instrumented_app.runtime.provision import DeployedStack


class LocalRuntime:
    """Provision the template into moto and serve it as Lambda and API Gateway would."""

    def __init__(
        self,
        *,
        aws_endpoint: str,
        region: str,
        otlp_endpoint: str | None,
        host: str = "127.0.0.1",
        api_port: int = 0,
        template_path: Path = APP_TEMPLATE,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self._aws_endpoint = aws_endpoint
        self._region = region
        self._otlp_endpoint = otlp_endpoint
        self._host = host
        self._api_port = api_port
        self._template_path = template_path
        # The embedded stack is a test stack: its functions accept test faults (tests, demos), which a
        # deployed template keeps off (EnableTestFaults). Callers' variables win.
        self._extra_env = {"SAGAWATCH_TEST_FAULTS": "true", **(extra_env or {})}
        self._stack = ExitStack()
        self._deployed: DeployedStack | None = None
        self._invoker: LocalInvoker | None = None
        #: logical id of each REST API -> its base URL; the first one is the main API.
        self.api_endpoints: dict[str, str] = {}

    @property
    def deployed(self) -> DeployedStack:
        if self._deployed is None:
            raise RuntimeError("LocalRuntime is not started")
        return self._deployed

    @property
    def invoker(self) -> LocalInvoker:
        if self._invoker is None:
            raise RuntimeError("LocalRuntime is not started")
        return self._invoker

    @property
    def main_api(self) -> str:
        return next(iter(self.api_endpoints.values()), "")

    def start(self) -> dict[str, str]:
        """Start everything; returns the API endpoints by logical id."""
        from instrumented_app.runtime.api_front import ApiFront
        from instrumented_app.runtime.api_front.from_template import route_tables_from_template
        from instrumented_app.runtime.api_front.metrics import MetricsPublisher
        from instrumented_app.runtime.invoker import LocalInvoker
        from instrumented_app.runtime.pollers import EventSourcePollers, install_moto_hooks
        from instrumented_app.runtime.provision import provision
        from instrumented_app.runtime.sfn_bridge import install_sfn_bridge

        try:
            # Before any message is sent: moto's own (Docker-less, lossy) delivery must be off.
            install_moto_hooks()
            self._deployed = provision(
                self._template_path, endpoint_url=self._aws_endpoint, region=self._region
            )
            self._invoker = LocalInvoker(
                aws_endpoint=self._aws_endpoint,
                region=self._region,
                otlp_endpoint=self._otlp_endpoint,
                extra_env=self._extra_env,
            )
            self._stack.callback(self._invoker.close)
            self._stack.callback(install_sfn_bridge(self._invoker))

            cloudwatch = aws_session(self._region, self._aws_endpoint).client(
                "cloudwatch", endpoint_url=self._aws_endpoint
            )
            tables = route_tables_from_template(self._deployed.template, self._deployed.resolve)
            for index, (logical_id, routes) in enumerate(tables.items()):
                front = ApiFront(
                    routes, self._invoker, host=self._host, port=self._api_port if index == 0 else 0
                )
                # API Gateway's own metrics (Count, 4XXError, 5XXError, Latency) reach CloudWatch as on AWS;
                # the publisher stops after the front, so the last requests' points are flushed too.
                publisher = MetricsPublisher(front.drain_metrics, cloudwatch)
                publisher.start()
                self._stack.callback(publisher.stop)
                self.api_endpoints[logical_id] = front.start()
                self._stack.callback(front.stop)

            pollers = EventSourcePollers(self._invoker, aws_endpoint=self._aws_endpoint, region=self._region)
            pollers.start()
            self._stack.callback(pollers.stop)
        except BaseException:
            self.stop()
            raise
        return dict(self.api_endpoints)

    def stop(self) -> None:
        """Stop callers first, then the invoker (which flushes logs to CloudWatch)."""
        self._stack.close()
