"""``flask --app wsgi catalogue import FILE``: import a library file as a new version."""

from __future__ import annotations

from pathlib import Path

import click

from app import fiscal
from app.catalogues.libraries import import_library
from app.extensions import db
from app.models.audit import set_cli_actor
from app.validation import InputError


@click.group(help="ATT&CK and control-framework catalogues.")
def catalogue() -> None:
    set_cli_actor(None, "catalogue-import")


@catalogue.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="The library's name (needed for a CSV framework file).")
@click.option("--version", "version", help="The version (default: the file's own, or today).")
def import_command(file: Path, name: str | None, version: str | None) -> None:
    """Import an ATT&CK STIX 2.1 bundle (.json) or a control framework (.csv, .yaml).

    Importing a newer version of a library keeps every mapping to it and prints what
    changed. A refused file writes nothing.
    """
    try:
        result = import_library(
            file.read_bytes(), file.name, name=name, version=version, on=fiscal.today()
        )
    except InputError as error:
        db.session.rollback()
        raise click.ClickException(f"{file.name}: " + " ".join(error.errors.values())) from None
    db.session.commit()
    click.echo(str(result))
    changes = result.changes
    if not result.new_library:
        for label, refs in (
            ("added", changes.added),
            ("removed", changes.removed),
            ("revoked", changes.revoked),
            ("deprecated", changes.deprecated),
        ):
            if refs:
                click.echo(f"  {label}: " + ", ".join(refs))
        for ref, old, new in changes.renamed:
            click.echo(f"  renamed: {ref} “{old}” → “{new}”")
