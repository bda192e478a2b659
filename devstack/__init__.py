"""The local development stack: real Kafka, DynamoDB Local and moto as child processes."""

from devstack.errors import StackError
from devstack.stack import ALL_COMPONENTS, LocalStack
from devstack.state import ComponentStatus, StackEndpoints

__all__ = ["ALL_COMPONENTS", "ComponentStatus", "LocalStack", "StackEndpoints", "StackError"]
