"""`fleetstream act` and `fleetstream action-status`."""

from __future__ import annotations

import sys
import time
from typing import Any, NoReturn

import click
from botocore.exceptions import BotoCoreError, ClientError

from fleetstream.apps.exits import exit_code_of, fail
from fleetstream.base.errors import FleetstreamError
from fleetstream.base.exit_codes import ExitCode


def _fail(message: str, code: ExitCode = ExitCode.USAGE) -> NoReturn:
    fail(message, code)


@click.command("act")
@click.argument("action")
@click.option(
    "--where",
    "where",
    required=True,
    help="Selector: type=...,tag:K=V,attr:P=V,account=...,region=...,arn=...",
)
@click.option("--set", "sets", multiple=True, help="Parameter Key=Value (repeatable).")
@click.option("--max-targets", type=int, help="Refuse the request above this many targets.")
@click.option(
    "--idempotency-key", "key", help="Request id; default: a hash of action, params, selector."
)
@click.option(
    "--execute", is_flag=True, help="Submit it. Without this flag only the plan is printed."
)
@click.option(
    "--approve",
    "approves",
    metavar="REQUEST_ID",
    help="Approve another submitter's request awaiting approval (same action, --where, --set).",
)
@click.option(
    "--wait",
    "wait_s",
    type=float,
    default=0.0,
    help="With --execute: follow it up to this many seconds.",
)
@click.pass_context
def act_command(
    ctx: click.Context,
    action: str,
    where: str,
    sets: tuple[str, ...],
    max_targets: int | None,
    key: str | None,
    execute: bool,
    approves: str | None,
    wait_s: float,
) -> None:
    """Plan an action on the fleet; with --execute, submit it to the action plane.

    Dry-run is the default: the plan (targets per account and region) is printed and
    nothing is produced. With --execute the request is signed as actions.submitter.
    """
    from fleetstream.actions.audit import audit_log  # noqa: PLC0415
    from fleetstream.actions.policy import RequestRefusedError  # noqa: PLC0415
    from fleetstream.actions.selector import InventoryQuery, parse_set, parse_where  # noqa: PLC0415
    from fleetstream.actions.status import request_status  # noqa: PLC0415
    from fleetstream.actions.submit import (  # noqa: PLC0415
        plan_text,
        propose,
        signed_for_execution,
        submit,
    )
    from fleetstream.aws.accounts import active_account_ids  # noqa: PLC0415
    from fleetstream.aws.clients import AwsClients, dynamodb_client  # noqa: PLC0415
    from fleetstream.kafka import clients as kafka  # noqa: PLC0415

    obj: Any = ctx.obj
    try:
        settings = obj.settings
        proposal = propose(
            action,
            parse_where(where),
            parse_set(sets),
            max_targets=max_targets or settings.actions.max_targets,
            key=key,
            query=InventoryQuery(dynamodb_client(settings), settings.sink.table),
            accounts=lambda: active_account_ids(settings.accounts, AwsClients(settings.aws)),
            approves=approves,
        )
        click.echo(plan_text(proposal))
        request = proposal.request
        if not execute:
            click.echo(
                f"dry run: nothing was submitted (request id {request.request_id}); "
                "add --execute to act"
            )
            return
        request = signed_for_execution(request, settings.actions.submitter)
        kafka.preflight(settings.kafka)
        audit = audit_log(settings)
        previous = audit.request(request.request_id)
        if previous is not None and previous.status == "PLANNED":
            click.echo(
                f"request {request.request_id} was submitted before: it will not act again; "
                "its first results are returned (use --idempotency-key to run it anew)"
            )
        submit(settings, request)
        followed = approves or request.request_id
        if approves:
            click.echo(f"submitted approval {request.request_id} of request {approves}")
        else:
            click.echo(f"submitted request {request.request_id} as {request.submitter}")
        deadline = time.monotonic() + wait_s
        while wait_s > 0:
            status = request_status(audit, followed)
            if status.status == "AWAITING_APPROVAL" and not approves:
                click.echo(
                    f"{status.summary()}\nit awaits approval by another submitter: "
                    f"fleetstream act {action} --where ... --approve {followed} --execute"
                )
                sys.exit(ExitCode.OK)
            if status.finished or time.monotonic() > deadline:
                click.echo(status.summary())
                ok = status.finished and not status.outcomes.get("FAILED")
                sys.exit(ExitCode.OK if ok else ExitCode.FAILED)
            time.sleep(1.0)
    except RequestRefusedError as exc:
        _fail(str(exc), ExitCode.REFUSED)
    except FleetstreamError as exc:
        _fail(str(exc), exit_code_of(exc))
    except (BotoCoreError, ClientError) as exc:
        _fail(f"AWS call failed: {exc}")


@click.command("action-status")
@click.argument("request_id")
@click.pass_context
def action_status_command(ctx: click.Context, request_id: str) -> None:
    """Progress and per-resource outcomes of an action request, from the audit table."""
    from fleetstream.actions.audit import audit_log  # noqa: PLC0415
    from fleetstream.actions.status import request_status  # noqa: PLC0415

    obj: Any = ctx.obj
    try:
        settings = obj.settings
        status = request_status(audit_log(settings), request_id)
    except FleetstreamError as exc:
        _fail(str(exc))
    click.echo(status.summary())
    for outcome in status.problems:
        click.echo(f"  {outcome.status.value} {outcome.arn}: {outcome.reason}")
