"""How the app says counts in words: one place for plurals, used by pages and reports."""

from __future__ import annotations


def plural(
    count: int, singular: str, plural_form: str | None = None, with_count: bool = True
) -> str:
    """``1 threat``, ``2 threats``; ``plural_form`` for nouns that do not take an ``s``.

    Only the last word of ``singular`` is inflected: ``1 staff member``, ``2 staff members``.
    """
    if count == 1:
        word = singular
    elif plural_form is not None:
        word = plural_form
    elif singular.endswith(("s", "x", "ch", "sh")):
        word = singular + "es"
    elif singular.endswith("y") and singular[-2:-1] not in "aeiou":
        word = singular[:-1] + "ies"
    else:
        word = singular + "s"
    return f"{count} {word}" if with_count else word
