"""``tenderhall bid ...``: the bidder's (and custodian's) command-line client.

Each command imports the heavy parts it uses (httpx, the envelope code and cryptography, rich) when it
runs: ``bid --help``, ``bid <command> --help`` and the offline commands start as fast as click allows.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from tenderhall.files import atomic_write, write_text

if TYPE_CHECKING:
    from bidding.client.api import Api
    from bidding.client.keys import BidderKeys

F = TypeVar("F", bound=Callable[..., Any])
TENDER_HELP = "The tender's reference number (e.g. SH-2026-0009) or its UUID."


class Context:
    def __init__(self, server: str, token: str | None, home: Path, keys: Path | None) -> None:
        self.server = server.rstrip("/")
        self.home = home
        self.keys_dir = keys or home / "keys"
        self._token = token

    @property
    def token(self) -> str:
        if self._token:
            return self._token
        path = self.home / "token"
        if not path.exists():
            raise click.ClickException("not signed in: run `tenderhall bid login` or set TENDERHALL_TOKEN")
        return path.read_text().strip()

    def api(self) -> Api:
        from bidding.client.api import Api

        return Api(self.server, self.token)

    def keys(self) -> BidderKeys:
        from bidding.client import keys as keyfiles

        try:
            return keyfiles.load(self.keys_dir)
        except (keyfiles.KeyFileError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None


def friendly(fn: F) -> F:
    """Turn expected failures into one readable line."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except click.ClickException:
            raise
        except Exception as exc:
            line = _expected_failure(exc)
            if line is None:
                raise
            raise click.ClickException(line) from None

    return wrapper  # type: ignore[return-value]


def _expected_failure(exc: Exception) -> str | None:
    """The line for a failure the user can act on, else None (a bug: it keeps its traceback).

    The failure classes are imported only when something failed, so that a command that succeeds
    loads no more than it used."""
    from bidding.client.api import ApiError
    from bidding.client.keys import KeyFileError
    from bidding.envelope import EnvelopeError
    from bidding.package import FormError
    from bidding.receipt import ReceiptError
    from tenderhall.ledger.note import NoteError

    if isinstance(exc, ApiError):
        return f"server refused: {' '.join(str(exc.detail).split())} ({exc.code})"
    if isinstance(exc, EnvelopeError | FormError | ReceiptError | NoteError | KeyFileError | OSError):
        return str(exc)
    return None


def _beijing(value: str | None) -> str:
    """An API time in Beijing time, the zone named (every centre in China keeps it)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if not value:
        return "—"
    local = datetime.fromisoformat(value).astimezone(ZoneInfo("Asia/Shanghai"))
    return f"{local:%Y-%m-%d %H:%M} Beijing time (UTC+8)"


def _sidecar(path: Path) -> dict[str, Any]:
    side = path.with_name(path.name + ".json")
    if not side.exists():
        raise click.ClickException(f"{side} is missing: seal the envelope with `tenderhall bid seal`")
    return json.loads(side.read_text())  # type: ignore[no-any-return]


@click.group(help="Bidder client: keys, sealing, submission, receipts and decryption at opening.")
@click.option("--server", envvar="TENDERHALL_SERVER", default="http://127.0.0.1:8000", show_default=True)
@click.option("--token", envvar="TENDERHALL_TOKEN", default=None, help="API token (else the saved one).")
@click.option(
    "--home", envvar="TENDERHALL_HOME", type=click.Path(path_type=Path), default=Path.home() / ".tenderhall"
)
@click.option("--keys", "keys_dir", envvar="TENDERHALL_KEYS", type=click.Path(path_type=Path), default=None)
@click.pass_context
def bid(ctx: click.Context, server: str, token: str | None, home: Path, keys_dir: Path | None) -> None:
    ctx.obj = Context(server, token, home, keys_dir)


pass_ctx = click.make_pass_decorator(Context)


@bid.command(help="Exchange a password for an API token and save it with the ledger key.")
@click.option("--username", required=True)
@click.option("--password", prompt=True, hide_input=True)
@pass_ctx
@friendly
def login(ctx: Context, username: str, password: str) -> None:
    from bidding.client import api as ops

    token = ops.login(ctx.server, username, password)
    ctx.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_text(ctx.home / "token", token + "\n")
    api = ops.Api(ctx.server, token)
    write_text(ctx.home / "ledger.vkey", str(api.call("GET", "/api/v1/ledger/key")))
    # The witnesses the platform names; a careful bidder passes keys learnt elsewhere instead.
    witnesses = api.call("GET", "/api/v1/ledger/witnesses")
    write_text(ctx.home / "witnesses.vkey", "".join(f"{w['key']}\n" for w in witnesses))
    click.echo(f"signed in as {username}; token and ledger key saved in {ctx.home}")


@bid.command(help="Create the opening key (age identity) and the signing key (Ed25519), mode 0600.")
@click.option("--force", is_flag=True, help="Replace existing keys (old bids then need the old keys).")
@pass_ctx
@friendly
def keygen(ctx: Context, force: bool) -> None:
    from bidding.client import keys as keyfiles

    made = keyfiles.generate(ctx.keys_dir, force=force)
    click.echo(f"opening recipient: {made.recipient}")
    click.echo(f"signing key:       {made.signing_public}")
    click.echo(f"private keys in {ctx.keys_dir} (keep a backup: without them you cannot decrypt at opening)")


_PASSPHRASE = click.option(
    "--passphrase",
    prompt=True,
    hide_input=True,
    envvar="TENDERHALL_KEY_PASSPHRASE",
    help="The backup's passphrase (prompted; or TENDERHALL_KEY_PASSPHRASE).",
)


@bid.command("keys-backup", help="Write a passphrase-protected backup of your keys (the browser reads it).")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@_PASSPHRASE
@pass_ctx
@friendly
def keys_backup(ctx: Context, out: Path, passphrase: str) -> None:
    from bidding.client.backup import write_backup

    write_backup(ctx.keys(), out, passphrase)
    click.echo(f"backup written to {out} (an age file: keep the passphrase apart from it)")


@bid.command("keys-restore", help="Restore your keys from a backup (made here or in the browser).")
@click.argument("backup", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace existing keys.")
@_PASSPHRASE
@pass_ctx
@friendly
def keys_restore(ctx: Context, backup: Path, force: bool, passphrase: str) -> None:
    from bidding.client import keys as keyfiles
    from bidding.client.backup import read_backup

    keys = keyfiles.save(ctx.keys_dir, read_backup(backup, passphrase), force=force)
    click.echo(f"opening recipient: {keys.recipient}")
    click.echo(f"signing key:       {keys.signing_public}")


@bid.command("register-keys", help="Register the public halves of your keys on the company account.")
@pass_ctx
@friendly
def register_keys(ctx: Context) -> None:
    from bidding.client import api as ops

    out = ops.register_keys(ctx.api(), ctx.keys())
    click.echo(f"registered key {out['fingerprint'][:16]} for company {out['company_id']}")


@bid.command(help="Register your company for a tender (报名), named by reference number or UUID.")
@click.argument("tender", required=False)
@pass_ctx
@friendly
def register(ctx: Context, tender: str | None) -> None:
    from bidding.client import api as ops

    if not tender:
        raise click.ClickException(
            "name the tender: `tenderhall bid register SH-2026-0009` "
            "(your keys: `tenderhall bid register-keys`)"
        )
    notice, registration, already = ops.register_for(ctx.api(), tender)
    when = registration["registered_at"]
    if already:
        click.echo(f"already registered for {notice['reference']} (since {when}); nothing changed")
    else:
        click.echo(f"registered for {notice['reference']} {notice['title']} at {when}")
    click.echo(f"bid deadline: {_beijing(notice.get('deadline_at'))}")


@bid.command("custodian-register", help="Register your opening key as a custodian key.")
@pass_ctx
@friendly
def custodian_register(ctx: Context) -> None:
    out = ctx.api().call("POST", "/api/v1/bidding/custodian-keys", json={"public_key": ctx.keys().recipient})
    click.echo(f"custodian key registered: {out['public_key']}")


@bid.command("pack", help="Pack a bid form (JSON) and documents into a bid package (zip).")
@click.option("--form", "form_path", required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path))
@click.argument("documents", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@friendly
def pack_cmd(form_path: Path, out: Path, documents: tuple[Path, ...]) -> None:
    from bidding.package import FormError, pack

    try:
        form = json.loads(form_path.read_text(encoding="utf-8"))
    except ValueError:
        raise FormError(f"{form_path} is not JSON") from None
    with atomic_write(out) as handle:
        pack(form, documents, handle)
    click.echo(f"bid package written: {out} ({out.stat().st_size} bytes, {len(documents)} documents)")


@bid.command(
    help="Seal a bid package for a tender (to your key and the tender's custodians); the package is "
    "checked first as the opening will read it."
)
@click.option("--tender", required=True, help=TENDER_HELP)
@click.option("--package", "package_path", required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path))
@click.option("--bid-id", default=None, help="Defaults to a new random id; a resubmission needs a new one.")
@pass_ctx
@friendly
def seal(ctx: Context, tender: str, package_path: Path, out: Path, bid_id: str | None) -> None:
    import uuid

    from bidding.client import api as ops
    from bidding.package import FormError, check_package

    keys = ctx.keys()
    api = ctx.api()
    sealing = api.call("GET", f"/api/v1/tenders/{ops.tender_id(api, tender)}/sealing")
    with package_path.open("rb") as handle:
        try:
            check_package(handle, sealing["tender"])
        except FormError as exc:
            raise click.ClickException(f"{package_path} is not a valid bid package: {exc}") from None
    bid_ref = bid_id or uuid.uuid4().hex
    size = ops.seal_file(sealing, keys.opening.recipient, package_path, out, bid_ref)
    side = {"tender": sealing["tender"], "reference": sealing["reference"], "bid": bid_ref}
    write_text(out.with_name(out.name + ".json"), json.dumps(side, indent=2))
    remedy = sealing.get("remedy")
    extra = f" + {remedy['n']} custodian shares (k={remedy['k']})" if remedy else ""
    click.echo(f"sealed {out} ({size} bytes) to your opening key{extra}; bid id {bid_ref}")


@bid.command(help="Open your own envelope locally: the self-test before the deadline.")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@pass_ctx
@friendly
def check(ctx: Context, path: Path) -> None:
    from bidding import envelope
    from bidding.package import FormExtractor

    sink = FormExtractor()
    with path.open("rb") as handle:
        envelope.open_with_identity(handle, sink, [ctx.keys().opening])
    form = (
        sink.form(_sidecar(path)["tender"]) if path.with_name(path.name + ".json").exists() else sink.form()
    )
    click.echo(f"OK: {sink.total} bytes of bid package; price {form['price']}, {form['duration_days']} days")


@bid.command(help="Submit a sealed envelope (streamed, resumable, idempotent).")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--bond-kind", type=click.Choice(["cash", "guarantee"]), default=None)
@click.option("--bond-amount", default=None, help="Yuan.")
@click.option("--bond-bank", default=None)
@click.option("--bond-account", default=None)
@click.option("--bond-issuer", default=None)
@click.option("--bond-number", default=None)
@pass_ctx
@friendly
def submit(
    ctx: Context,
    path: Path,
    bond_kind: str | None,
    bond_amount: str | None,
    bond_bank: str | None,
    bond_account: str | None,
    bond_issuer: str | None,
    bond_number: str | None,
) -> None:
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    from bidding.client import api as ops
    from bidding.client.device import fingerprint

    side = _sidecar(path)
    api = ctx.api()
    company = ops.my_company(api)
    bond = None
    if bond_kind:
        bond = {
            "kind": bond_kind,
            "amount": bond_amount or "0",
            "payer_bank": bond_bank,
            "payer_account": bond_account,
            "issuer": bond_issuer,
            "number": bond_number,
        }
    with Progress(
        "[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn()
    ) as bar:
        task = bar.add_task("uploading", total=path.stat().st_size)
        receipt = ops.submit(
            api,
            ctx.keys(),
            path,
            side["tender"],
            side["bid"],
            company["uscc"],
            fingerprint(),
            bond=bond,
            progress=lambda done, total: bar.update(task, completed=done),
        )
    out = path.with_name(path.name + ".receipt.json")
    write_text(out, json.dumps(receipt, ensure_ascii=False, indent=2))
    click.echo(f"accepted at {receipt['body']['submitted_at']}; receipt saved in {out}")


@bid.group(help="Receipts.")
def receipt() -> None:
    pass


@receipt.command(
    "verify",
    help="Verify a receipt offline: platform signature, ledger inclusion proof, witness cosignatures.",
)
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--ledger-key", default=None, help="The ledger's verifier key (else the one saved at login).")
@click.option(
    "--witness-key",
    "witness_keys",
    multiple=True,
    help="A witness's cosignature key (repeatable; else those saved at login).",
)
@click.option("--quorum", type=int, default=None, help="How many witnesses must have cosigned (default 1).")
@pass_ctx
@friendly
def receipt_verify(
    ctx: Context, path: Path, ledger_key: str | None, witness_keys: tuple[str, ...], quorum: int | None
) -> None:
    from bidding.receipt import verify_receipt
    from tenderhall.ledger.cosignature import CosignatureVerifier, verify_cosignatures
    from tenderhall.ledger.note import Verifier

    data = json.loads(path.read_text())
    saved = ctx.home / "ledger.vkey"
    if ledger_key is None and saved.exists():
        ledger_key = saved.read_text().strip()
    if ledger_key is None:
        raise click.ClickException("no ledger key: pass --ledger-key or `tenderhall bid login` first")
    verifier = Verifier.from_key_string(ledger_key)
    saved_witnesses = ctx.home / "witnesses.vkey"
    if not witness_keys and saved_witnesses.exists():
        witness_keys = tuple(saved_witnesses.read_text().split())
    witnesses = [CosignatureVerifier.from_key_string(k) for k in witness_keys]
    needed = (1 if witnesses else 0) if quorum is None else quorum
    body = verify_receipt(data, verifier, verifier.name, witnesses, needed)
    cosigned = verify_cosignatures(data["ledger"]["checkpoint"], witnesses)
    by = ", ".join(sorted(c.name for c in cosigned))
    click.echo(
        f"receipt OK: bid {body['bid']} envelope {body['envelope_sha256'][:16]}… at {body['submitted_at']}, "
        f"entry {data['ledger']['index']} in a signed tree of {data['ledger']['size']}"
        + (f", cosigned by {by}" if by else ", not checked against any witness")
    )


@bid.command(help="Withdraw a submitted bid (signed) before the deadline.")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@pass_ctx
@friendly
def withdraw(ctx: Context, path: Path) -> None:
    from bidding.client import api as ops

    side = _sidecar(path)
    out = ops.withdraw(ctx.api(), ctx.keys(), side["tender"], side["bid"], ops.sha256_file(path))
    click.echo(f"bid {out['bid']} is {out['state']}")


@bid.command(help="At opening: unwrap your file key locally and send it (inside the window).")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@pass_ctx
@friendly
def decrypt(ctx: Context, path: Path) -> None:
    from bidding.client import api as ops

    side = _sidecar(path)
    out = ops.send_file_key(ctx.api(), side["tender"], side["bid"], ops.file_key(path, ctx.keys().opening))
    click.echo(f"bid {out['bid']} is {out['state']}")


@bid.group(help="The opening record (唱标).")
def record() -> None:
    pass


@record.command("sign", help="Sign the published opening record.")
@click.option("--tender", required=True, help=TENDER_HELP)
@pass_ctx
@friendly
def record_sign(ctx: Context, tender: str) -> None:
    from bidding.client import api as ops

    api = ctx.api()
    ops.sign_record(api, ctx.keys(), ops.tender_id(api, tender))
    click.echo("opening record signed")


@record.command("object", help="Raise an objection (异议) to the opening record.")
@click.option("--tender", required=True, help=TENDER_HELP)
@click.option("--text", required=True)
@pass_ctx
@friendly
def record_object(ctx: Context, tender: str, text: str) -> None:
    from bidding.client import api as ops

    api = ctx.api()
    api.call(
        "POST", f"/api/v1/tenders/{ops.tender_id(api, tender)}/hall/record/objections", json={"text": text}
    )
    click.echo("objection raised; staff answer it in the hall")


@bid.command("release-share", help="Custodians: release your share for each bid you are asked about.")
@click.option("--tender", required=True, help=TENDER_HELP)
@pass_ctx
@friendly
def bid_release_share(ctx: Context, tender: str) -> None:
    _release(ctx, tender)


def _release(ctx: Context, tender: str) -> None:
    from bidding.client import api as ops

    api = ctx.api()
    results = ops.release_shares(api, ops.tender_id(api, tender), ctx.keys().opening)
    if not results:
        click.echo("no share requests for you in this tender")
    for r in results:
        state = "opened" if r.get("opened") else f"{r['released']}/{r['k']} shares released"
        click.echo(f"bid {r['bid']}: {state}")


@click.command("release-share", help="Custodians: release your key share (same as `bid release-share`).")
@click.option("--tender", required=True, help=TENDER_HELP)
@click.option("--server", envvar="TENDERHALL_SERVER", default="http://127.0.0.1:8000", show_default=True)
@click.option("--token", envvar="TENDERHALL_TOKEN", default=None)
@click.option(
    "--home", envvar="TENDERHALL_HOME", type=click.Path(path_type=Path), default=Path.home() / ".tenderhall"
)
@click.option("--keys", "keys_dir", envvar="TENDERHALL_KEYS", type=click.Path(path_type=Path), default=None)
@friendly
def release_share(tender: str, server: str, token: str | None, home: Path, keys_dir: Path | None) -> None:
    _release(Context(server, token, home, keys_dir), tender)
