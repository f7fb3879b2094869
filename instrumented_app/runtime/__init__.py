"""The local Lambda runtime: what the Lambda service and API Gateway do, on loopback.

- ``invoker``: runs a function's handler in its own worker process (an
  execution environment, as Lambda keeps one per concurrent invocation), with a
  Lambda-like context, a timeout that is enforced, and the invocation's stdout
  shipped to CloudWatch Logs ``/aws/lambda/<fn>`` with EMF turned into metrics.
- ``api_front``: HTTP -> API Gateway proxy events, validation, mock integrations,
  weighted alias routing.
- ``pollers``: SQS, DynamoDB Streams and S3 notifications -> invocations.
- ``sfn_bridge``: moto's Step Functions Lambda tasks -> the invoker.
- ``provision``: the SAM template -> resources in moto.
"""
