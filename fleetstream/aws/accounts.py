"""Which accounts to sweep: AWS Organizations (ACTIVE members) or a static list."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from fleetstream.aws.clients import AwsClients
from fleetstream.aws.errors import ErrorKind, classify
from fleetstream.base.config import AccountSettings
from fleetstream.base.errors import ConfigError


class AccountsUnavailableError(ConfigError):
    """Organizations is throttling or failing transiently: the same call may work later.

    A ConfigError still, so one-shot commands stop with the message; the long-running planner
    retries it with backoff instead.
    """

    def __init__(self, message: str, kind: ErrorKind) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Account:
    """A member account: ACTIVE, or gone (suspended, closing or closed) with that status."""

    id: str
    name: str
    status: str = "ACTIVE"

    @property
    def active(self) -> bool:
        return self.status == "ACTIVE"


def list_accounts(settings: AccountSettings, clients: AwsClients) -> list[Account]:
    """The accounts of the estate after include/exclude, in a stable order."""
    if settings.source == "static":
        found = [Account(a.id, a.name) for a in settings.static]
    else:
        found = _organization_accounts(clients)
    return sorted(
        (a for a in found if settings.selects(a.id)),
        key=lambda a: a.id,
    )


def active_account_ids(settings: AccountSettings, clients: AwsClients) -> list[str]:
    """The ids of the estate's active accounts (what an action selector without accounts
    targets)."""
    return [a.id for a in list_accounts(settings, clients) if a.active]


def _status(account: dict[str, str]) -> str:
    # Organizations reports the newer State (ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED)
    # beside the older Status; the account is gone if either says so.
    for field in ("State", "Status"):
        value = account.get(field, "ACTIVE")
        if value != "ACTIVE":
            return value
    return "ACTIVE"


def _organization_accounts(clients: AwsClients) -> list[Account]:
    accounts: list[Account] = []
    try:
        paginator = clients.hub("organizations").get_paginator("list_accounts")
        for page in paginator.paginate():
            for account in page["Accounts"]:
                accounts.append(Account(account["Id"], account.get("Name", ""), _status(account)))
    except (ClientError, BotoCoreError) as exc:
        kind = classify(exc)
        if kind in (ErrorKind.THROTTLED, ErrorKind.TRANSIENT):
            raise AccountsUnavailableError(
                f"cannot list the organization's accounts right now ({exc}); try again later",
                kind,
            ) from None
        raise ConfigError(
            f"cannot list the organization's accounts ({exc}); use accounts.source: static "
            "or run with management-account (or delegated administrator) credentials"
        ) from None
    return accounts
