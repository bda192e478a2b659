"""Member-account clients that share one botocore client per (region, service).

A botocore client costs milliseconds of CPU to build (its event hooks are copied, its client
class and endpoint are built) and megabytes to keep, so building one per (account, region,
service) made client creation a third of the describer's CPU and its memory grow with the
estate. Here each (region, service) has one shared client, created without credentials of its
own, and `acting_as` returns a view of it whose every call carries one member's identity:

* the view's `_make_api_call` (the one method every operation, paginator and waiter of a
  botocore client goes through) sets the member in a context variable for that call only;
  context variables are per thread, so threads acting as different accounts never mix;
* the shared session's before-call hook puts the member's credentials into the call's own
  request context (`signing.request_credentials`, which botocore's signer prefers to the
  client's), and spends the member's rate budget.

A call on the shared client outside any view has no member and no credentials: it fails with
NoCredentialsError; it is never signed as the hub or as another account.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.credentials import CredentialResolver, Credentials
from botocore.exceptions import NoCredentialsError

from fleetstream.aws.botocore_data import new_session
from fleetstream.aws.metrics import instrument_session

# The cache-key owner of the shared member clients (hub clients are keyed "hub").
MEMBERS = "members"
UNKNOWN_ACCOUNT = "unknown"

SpendBudget = Callable[[str, str, str], None]  # (account, region, service)


@dataclass(frozen=True, slots=True)
class Member:
    """A member account and the credentials its calls are signed with."""

    account_id: str
    credentials: Credentials


_ACTING: ContextVar[Member | None] = ContextVar("fleetstream_acting_member", default=None)


def acting_account() -> str:
    """The member account of the call in progress on this thread (for metric labels)."""
    member = _ACTING.get()
    return member.account_id if member is not None else UNKNOWN_ACCOUNT


class SharedMemberClients:
    """Creates the shared (region, service) clients: no credentials of their own."""

    def __init__(
        self,
        region: str,
        endpoint_url: str | None,
        config: Config,
        spend_budget: SpendBudget,
    ) -> None:
        self._endpoint_url = endpoint_url
        self._config = config
        self._spend_budget = spend_budget
        core = new_session()
        # No credential chain: a call no member signs must fail, not fall back to the hub's.
        core.register_component("credential_provider", CredentialResolver(providers=[]))
        instrument_session(core, account=acting_account)
        core.register("before-call", self._sign_as_member)
        self._session = boto3.Session(botocore_session=core, region_name=region)

    def create(self, region: str, service: str) -> Any:
        """A new shared client of (region, service); callers cache it."""
        return self._session.client(
            service,  # type: ignore[call-overload]
            region_name=region,
            endpoint_url=self._endpoint_url,
            config=self._config,
        )

    def _sign_as_member(self, **event: Any) -> None:
        """before-call: spend the acting member's rate budget, then sign with its credentials."""
        model, context, request_signer = event["model"], event["context"], event["request_signer"]
        member = _ACTING.get()
        if member is None:
            raise NoCredentialsError()
        service = str(model.service_model.service_name)
        self._spend_budget(member.account_id, str(request_signer.region_name), service)
        # A new dict: the one there may come from the endpoint resolver, shared between calls.
        context["signing"] = {
            **context.get("signing", {}),
            "request_credentials": member.credentials,
        }


def acting_as(shared: Any, member: Member) -> Any:
    """A client of shared's class and state whose calls act as member (cheap: one dict copy).

    Built with object.__new__ rather than copy.copy: copying probes attributes on the empty
    instance, which botocore's __getattr__ cannot answer.
    """
    view = object.__new__(type(shared))
    view.__dict__.update(vars(shared))
    view._make_api_call = functools.partial(_call_as, member, shared._make_api_call)
    return view


def _call_as(
    member: Member,
    make_api_call: Callable[[str, dict[str, Any]], Any],
    operation_name: str,
    api_params: dict[str, Any],
) -> Any:
    token = _ACTING.set(member)
    try:
        return make_api_call(operation_name, api_params)
    finally:
        _ACTING.reset(token)
