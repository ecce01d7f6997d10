"""``dualpath slack-approvals serve``: the receiver for the Slack approval buttons (a verified approver)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dualpath.cli.console import ConfigOpt, handle_errors, out

if TYPE_CHECKING:
    from dualpath.flows.slack_approvals import Receiver

SECRET_ENV = "SLACK_SIGNING_SECRET"

slack_app = typer.Typer(help="Approve or reject paused runs from Slack, as the Slack user who clicked.",
                        no_args_is_help=True)


def build_receiver(config: Path | None) -> Receiver:
    """The receiver for ``config``: its environments' approvers, ``[slack] approver_ids`` and the signing
    secret (``[slack] signing_secret``, else $SLACK_SIGNING_SECRET)."""
    from dualpath.config import find_config, load_settings
    from dualpath.errors import InputError
    from dualpath.flows.slack_approvals import Receiver
    from dualpath.slack.approvals import Refused
    from dualpath.slack.client import slack_settings

    settings = load_settings(find_config(config))
    slack = slack_settings(settings.slack, "")
    secret = slack.signing_secret.get_secret_value() if slack.signing_secret else os.environ.get(SECRET_ENV, "")
    if not secret:
        raise InputError("no Slack signing secret: the receiver cannot tell Slack's requests from anyone's",
                         hint=f"set {SECRET_ENV} (the Slack app's Basic Information → Signing Secret) or "
                              "[slack] signing_secret = \"${" + SECRET_ENV + "}\"")

    def approvers(env: str) -> list[str]:
        if env not in settings.environments:
            raise Refused(f"environment '{env}' is not in this receiver's dualpath.toml; the run stays paused", 409)
        return settings.environments[env].approvers

    return Receiver(secret, approvers, dict(slack.approver_ids))


@slack_app.command("serve")
@handle_errors
def serve(config: ConfigOpt = None,
          host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option("--port", help="port to listen on")] = 3000) -> None:
    """Listen for Slack's button clicks (point the Slack app's Interactivity request URL here) and resume
    the paused run with the verified Slack user as approver. Prefect is found through PREFECT_API_URL."""
    from dualpath.flows.slack_approvals import make_server

    receiver = build_receiver(config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = make_server(receiver, host, port)
    out.print(f"Slack approvals: listening on http://{host}:{server.server_address[1]}/slack/actions "
              f"(signing secret {'*' * 8}, requests older than 5 min refused)", markup=False, soft_wrap=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def register(app: typer.Typer) -> None:
    app.add_typer(slack_app, name="slack-approvals")
