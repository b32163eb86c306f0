"""One way to refuse bad input, shared by forms, the API and CSV import.

Business rules live in each area's service functions, which raise :class:`InputError`
with a message per field; a view puts the messages beside the form's fields, the API
answers 422 with them as JSON, and an import names the line and column.
"""

from __future__ import annotations


class InputError(ValueError):
    def __init__(self, errors: dict[str, str] | str):
        if isinstance(errors, str):
            errors = {"_": errors}
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" if k != "_" else v for k, v in errors.items()))


class ConflictError(Exception):
    """The record changed since the caller read it (optimistic locking)."""

    def __init__(self, message: str = "Someone else changed this record since you opened it."):
        self.message = message
        super().__init__(message)


def apply_errors_to_form(form, error: InputError) -> None:
    """Show service errors beside the matching form fields (or at the top)."""
    for field_name, message in error.errors.items():
        field = getattr(form, field_name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + [message]
        else:
            form.form_errors.append(message)
