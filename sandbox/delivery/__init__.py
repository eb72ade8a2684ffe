"""The sandbox's stand-in for the Lambda service, SNS, EventBridge and EventBridge Scheduler: how events reach the
functions, one module per path.

`scheduler` holds the one virtual clock and the one scheduler; `functions` invokes the workers; `sns`, `stream`,
`sqs`, `connect_streaming`, `eventbridge` and `schedules` are the delivery paths; `queues` is moto's SQS as the Lambda
service reaches it, `dead_letters` where a path gives up on an event. `sandbox.pipeline.Pipeline` wires them together.
"""
