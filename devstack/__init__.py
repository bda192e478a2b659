"""The local development stack: real Kafka, DynamoDB Local and moto as child processes."""

from fleetstream.devstack.errors import StackError
from fleetstream.devstack.stack import ALL_COMPONENTS, LocalStack
from fleetstream.devstack.state import ComponentStatus, StackEndpoints

__all__ = ["ALL_COMPONENTS", "ComponentStatus", "LocalStack", "StackEndpoints", "StackError"]
