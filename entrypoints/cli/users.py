"""`kazbill users add|passwd` and `kazbill api-key`: logins for installations whose people are
not in Kazoo yet (a reseller's staff, a customer's admin trying the payments page). Kazoo's own
users log in as they are; these are written as Kazoo writes its users, so Kazoo accepts them too."""

from __future__ import annotations

import click

from entrypoints.cli import Context, main, operator_errors


@main.group("users")
def users_group() -> None:
    """Add a login to an account, or set a user's password."""


def _account(store, named: str) -> dict:
    from bookkeeper.services.setup.users import UserError, find_account

    try:
        return find_account(store, named)
    except UserError as error:
        raise click.BadParameter(error.reason, param_hint="ACCOUNT") from None


@users_group.command("add")
@click.argument("account")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="At least 8 characters.")
@click.option("--priv", "priv_level", type=click.Choice(["admin", "user"]), default="admin", show_default=True)
@click.option("--email", default=None, help="Where the account's notices and documents go (admins).")
@click.pass_obj
@operator_errors
def users_add(obj: Context, account: str, username: str, password: str, priv_level: str, email: str | None) -> None:
    """Add USERNAME to ACCOUNT (its id, realm or name)."""
    from bookkeeper.bootstrap import build_clock, build_store
    from bookkeeper.domain.kazoo_names import gregorian_of
    from bookkeeper.services.setup.users import UserError, add_user

    store = build_store(obj.settings)
    try:
        found = _account(store, account)
        try:
            login = add_user(
                store,
                found,
                username,
                password,
                priv_level=priv_level,
                email=email,
                now_gregorian=gregorian_of(build_clock(None).now()),
            )
        except UserError as error:
            raise click.BadParameter(error.reason, param_hint=error.field.upper()) from None
    finally:
        store.close()
    click.echo(f"added {priv_level} {login.username!r} to {login.account_name} ({login.account_id})")
    click.echo(_how_to_log_in(login.account_name, login.username))


@users_group.command("passwd")
@click.argument("account")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="At least 8 characters.")
@click.pass_obj
@operator_errors
def users_passwd(obj: Context, account: str, username: str, password: str) -> None:
    """Set the password of USERNAME in ACCOUNT; its open sessions end."""
    from bookkeeper.bootstrap import build_clock, build_store
    from bookkeeper.domain.kazoo_names import gregorian_of
    from bookkeeper.services.setup.users import UserError, set_password

    store = build_store(obj.settings)
    try:
        found = _account(store, account)
        try:
            login = set_password(store, found, username, password, now_gregorian=gregorian_of(build_clock(None).now()))
        except UserError as error:
            raise click.BadParameter(error.reason, param_hint=error.field.upper()) from None
    finally:
        store.close()
    click.echo(f"password of {login.username!r} in {login.account_name} set; its open sessions are ended")


@main.command("api-key")
@click.argument("account")
@click.option("--new", "rotate", is_flag=True, help="Make a new key: sessions opened with the old one end.")
@click.pass_obj
@operator_errors
def api_key_command(obj: Context, account: str, rotate: bool) -> None:
    """Print ACCOUNT's API key (made if it has none), for PUT /v2/api_auth."""
    from bookkeeper.bootstrap import build_store
    from bookkeeper.services.setup.users import api_key

    store = build_store(obj.settings)
    try:
        key = api_key(store, _account(store, account), new=rotate)
    finally:
        store.close()
    click.echo(key)


def _how_to_log_in(account_name: str, username: str) -> str:
    return (
        f"log in on the payments page (/portal) with account {account_name!r}, user {username!r} and the password, "
        f'or over the API: PUT /v2/user_auth {{"data": {{"credentials": md5("{username}:<password>"), '
        f'"account_name": "{account_name}"}}}}'
    )
