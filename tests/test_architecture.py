"""Imports go one way (ARCHITECTURE.md): read from the source, whatever is imported at run time."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"

# The packages and modules that are areas: pages, services and figures of one subject.
AREAS = (
    "admin",
    "api",
    "auth",
    "countermeasures",
    "coverage",
    "feeds",
    "main",
    "notifications",
    "okrs",
    "reports",
    "seed",
    "threats",
    "transfer",
)


def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports, at its top or inside a function."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
            if node.module == "app":
                names += [f"app.{alias.name}" for alias in node.names]
    return names


def _room(name: str) -> str:
    return name.split(".")[1] if name.startswith("app.") else name.split(".")[0]


def _files(folder: str) -> list[Path]:
    return sorted((APP / folder).glob("*.py"))


@pytest.mark.parametrize("path", _files("domain"), ids=lambda p: p.name)
def test_the_domain_imports_only_the_standard_library_and_itself(path):
    outside = [
        name
        for name in _imports(path)
        if name.split(".")[0] in ("flask", "sqlalchemy", "wtforms", "marshmallow")
        or (name.startswith("app") and not name.startswith("app.domain"))
    ]
    assert outside == [], f"{path.name} imports {outside}"


@pytest.mark.parametrize("path", _files("models"), ids=lambda p: p.name)
def test_models_import_no_area(path):
    areas = [name for name in _imports(path) if name.startswith("app.") and _room(name) in AREAS]
    assert areas == [], f"{path.name} imports {areas}"


def _is_pages(parts: tuple[str, ...]) -> bool:
    """An area's pages: its ``views.py`` or the modules of its ``views`` package."""
    return len(parts) > 1 and (parts[1] == "views" or parts[1] == "views.py")


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in sorted(APP.rglob("*.py"))
        if p.relative_to(APP).parts[0] in AREAS and not _is_pages(p.relative_to(APP).parts)
    ],
    ids=lambda p: "/".join(p.relative_to(APP).parts),
)
def test_no_area_imports_another_areas_pages(path):
    """Another area's rules, queries and figures are fine; its views are its own."""
    own = path.relative_to(APP).parts[0]
    pages = [
        name
        for name in _imports(path)
        if name.startswith("app.") and _is_pages(tuple(name.split(".")[1:])) and _room(name) != own
    ]
    assert pages == [], f"{own}/{path.name} imports {pages}"


def test_the_domain_has_files_to_check():
    # A moved folder would make the tests above pass over nothing.
    assert len(_files("domain")) >= 5 and len(_files("models")) >= 5
