"""The sandbox's stand-in for the Lambda service and SNS: how events reach the functions, one module per path.

`scheduler` holds the one virtual clock and the one scheduler; `functions` invokes the workers; `sns`, `stream`,
`sqs` and `connect_streaming` are the delivery paths; `dead_letters` and `queues` are where failures end up.
`sandbox.pipeline.Pipeline` wires them together.
"""
