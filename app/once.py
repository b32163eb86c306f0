"""One-time form tokens: Back + Save again on a saved form does not save it twice.

A form that creates or changes a record carries a hidden ``_once`` token (``form_once()``
in its template). When a POST with a token ends in a redirect (post/redirect/get: the save
went through), the token and the page it led to are remembered in the session; the same
token posted again (the browser's Back, then Save) writes nothing and leads to that page
with a message. A POST refused with errors does not use its token up, so the corrected
form can be sent.
"""

from __future__ import annotations

import secrets

from flask import Flask, flash, redirect, request, session
from markupsafe import Markup

FIELD = "_once"
SESSION_KEY = "forms_done"
REMEMBERED = 20  # the last tokens used: enough for any Back a person would press


def form_once() -> Markup:
    token = secrets.token_urlsafe(12)
    return Markup(f'<input type="hidden" name="{FIELD}" value="{token}">')


def _already_done():
    if request.method != "POST":
        return None
    token = request.form.get(FIELD)
    if not token:
        return None
    done = session.get(SESSION_KEY) or {}
    target = done.get(token)
    if target is None:
        return None
    flash("This form was already saved; nothing was saved again. Here is the result.", "info")
    return redirect(target, 303)


def _remember(response):
    if request.method != "POST" or response.status_code not in (301, 302, 303):
        return response
    token = request.form.get(FIELD) if request.form else None
    if not token:
        return response
    done = dict(session.get(SESSION_KEY) or {})
    done[token] = response.location
    session[SESSION_KEY] = dict(list(done.items())[-REMEMBERED:])
    return response


def register_once(app: Flask) -> None:
    app.jinja_env.globals["form_once"] = form_once
    app.before_request(_already_done)
    app.after_request(_remember)
