"""``crmguard keys ...``: the backup key-encryption key (create, show, rotate)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from crmguard.cli.common import console, print_json, settings_of

if TYPE_CHECKING:
    from backup import FileKeyProvider, PassphraseKeyProvider

# The backup room is imported inside each command: ``crmguard --help`` does not pay for it.

app = typer.Typer(help="Backup key-encryption keys.", no_args_is_help=True)


@app.command("init")
def init_cmd(
    ctx: typer.Context,
    path: Path = typer.Option(None, "--path", help="Where to create it (e.g. removable media)."),
) -> None:
    """Create the backup key file (mode 0600); refuses to replace an existing key."""
    from backup import init_key_file

    target = path or settings_of(ctx).backup.key_file
    key_id = init_key_file(target)
    console.print(f"created {target} (key id {key_id}); keep a copy offline", highlight=False)


@app.command("show")
def show_cmd(ctx: typer.Context) -> None:
    """The key id new backups are wrapped under."""
    from crmguard import backups

    console.print(backups.build_key_provider(settings_of(ctx)).key_id, highlight=False)


@app.command("rotate")
def rotate_cmd(
    ctx: typer.Context,
    new_key_file: Path = typer.Option(None, "--new-key-file", help="Re-wrap under this key."),
    new_passphrase_env: str = typer.Option(
        None, "--new-passphrase-env", help="Re-wrap under the passphrase in this variable."
    ),
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Re-wrap every backup's data key under a new key; the data is never rewritten.

    Afterwards point CRMGUARD_BACKUP_KEY_FILE (or the passphrase) at the new key."""
    import os

    from backup import FileKeyProvider, PassphraseKeyProvider, rotate_keys
    from crmguard import backups

    settings = settings_of(ctx)
    old = backups.build_key_provider(settings)
    if new_key_file:
        new: FileKeyProvider | PassphraseKeyProvider = FileKeyProvider(new_key_file)
    elif new_passphrase_env:
        new = PassphraseKeyProvider(os.environ.get(new_passphrase_env, ""))
    else:
        raise typer.BadParameter("give --new-key-file or --new-passphrase-env")
    result = rotate_keys(backups.build_store(settings), old, new)
    if json:
        print_json({"rewrapped": list(result.rewrapped), "key_id": result.new_key_id})
    else:
        console.print(
            f"re-wrapped {len(result.rewrapped)} backups under {result.new_key_id}", highlight=False
        )
