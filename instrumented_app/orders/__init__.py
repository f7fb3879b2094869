"""The order saga on Step Functions: ReserveInventory -> ProcessPayment -> ArrangeShipping -> ConfirmOrder.

- ``model``: the order as the API takes it, the execution input, test-only faults
- ``ledger``: one DynamoDB record per order and task, so every task runs once (and a redrive skips it)
- ``tasks``: what each task and compensation does, pure apart from the ledger it is given
- ``redrive``: ``sagawatch saga redrive ARN`` (``RedriveExecution`` on AWS, a resumed re-run on moto)

The ASL itself is in ``instrumented_app/template.yaml`` (``OrderSagaStateMachine``).
"""
