"""Lambda mode: the describer and the sink as Lambda functions behind an MSK event source mapping.

event.py decodes AWS's Kafka event into confluent_kafka Messages, driver.py runs the same
handlers as the long-running consumer groups over them and reports partial batch failures,
handlers.py holds the functions' entry points. docs/deploy-aws.md, "Lambda mode", explains
the delivery guarantees and the event source mapping settings they rely on.
"""
