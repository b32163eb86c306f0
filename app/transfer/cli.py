"""``flask --app wsgi import threats file.csv`` and ``flask --app wsgi export threats file.csv``."""

from __future__ import annotations

from pathlib import Path

import click

from app.extensions import db
from app.models.audit import set_cli_actor
from app.transfer.bulk import FilterError
from app.transfer.csv_format import csv_chunks
from app.transfer.entities import FORMATS, count_rows
from app.transfer.service import (
    ImportRefusedError,
    check_file,
    export_rows,
    format_for,
    import_file,
)
from app.transfer.xlsx_format import write_xlsx

ENTITY = click.Choice(sorted(FORMATS))
IMPORTABLE = click.Choice(sorted(name for name, fmt in FORMATS.items() if fmt.importable))


@click.command("import")
@click.argument("entity", type=IMPORTABLE)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--check-only", is_flag=True, help="Check every row, write nothing.")
def import_command(entity: str, path: Path, check_only: bool) -> None:
    """Import records from a CSV file: all rows, or none if any row has an error."""
    set_cli_actor(None, f"import {path.name}")
    data = path.read_bytes()
    lines = max(data.count(b"\n") - 1, 1)
    with click.progressbar(length=lines, label=f"Checking {entity:<16}") as bar:
        if check_only:
            checked, _ = check_file(entity, data, bar.update)
            errors = checked.errors
        else:
            try:
                count = import_file(entity, data, None, bar.update)
                errors = []
            except ImportRefusedError as refused:
                errors = refused.errors
    if errors:
        db.session.rollback()
        for error in errors[:200]:
            click.echo(str(error), err=True)
        if len(errors) > 200:
            click.echo(f"... and {len(errors) - 200} more.", err=True)
        raise click.ClickException(f"{len(errors)} error(s) in {path.name}; nothing was imported.")
    if check_only:
        click.echo(f"{path.name}: no errors ({len(checked.rows)} rows); nothing written.")
        return
    db.session.commit()
    click.echo(f"Imported {count} {format_for(entity).label.lower()} from {path.name}.")


def _filters(ctx, param, values: tuple[str, ...]) -> dict | None:
    if not values:
        return None
    args = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"“{value}” is not key=value.")
        args[key.strip()] = text.strip()
    return args


@click.command("export")
@click.argument("entity", type=ENTITY)
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option(
    "--filter",
    "filters",
    multiple=True,
    callback=_filters,
    metavar="KEY=VALUE",
    help="A filter of the list page, as in its address (e.g. status=DEPLOYED); "
    "repeatable. Without any: every record.",
)
def export_command(entity: str, path: Path, filters: dict | None) -> None:
    """Export every record of a kind (or what its list shows with --filter) to a CSV file,
    or an XLSX workbook when the file name ends in .xlsx."""
    fmt = format_for(entity)
    try:
        total = count_rows(fmt, filters)
    except FilterError as error:
        raise click.BadParameter(str(error), param_hint="--filter") from None
    if path.suffix.lower() == ".xlsx":
        with click.progressbar(length=total, label=f"Exporting {entity:<15}") as bar:

            def counted(rows):
                for n, row in enumerate(rows, start=1):
                    yield row
                    if n % 1000 == 0:
                        bar.update(1000)

            with path.open("wb") as out:
                write_xlsx(fmt.columns, counted(export_rows(entity, filters)), fmt.label, out)
        click.echo(f"Exported {total} {fmt.label.lower()} to {path}.")
        return
    written = 0
    with (
        path.open("w", encoding="utf-8", newline="") as csv_file,
        click.progressbar(length=total, label=f"Exporting {entity:<15}") as bar,
    ):
        for chunk in csv_chunks(fmt.columns, export_rows(entity, filters)):
            csv_file.write(chunk)
            done = min(chunk.count("\r\n"), total - written)
            written += done
            bar.update(done)
    click.echo(f"Exported {total} {fmt.label.lower()} to {path}.")
