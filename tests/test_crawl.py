"""Every link the app renders works for the role it is shown to.

The whole demo is loaded, then each demo user follows every same-site ``<a href>``
reachable from ``/`` (GET only, breadth first, bounded). No page may fail (5xx), every
page answers in the site layout (or is a download), and no link the app rendered may
lead to a refusal (403: the link should not have been shown) or to a missing page (404);
no form the page shows posts to an action the role may not use.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from werkzeug.exceptions import HTTPException

from app.models.user import Role
from app.security import required_roles_of
from app.seed.users import DEMO_USERS
from tests.conftest import sign_in

MAX_PAGES = 1000
# Filter and sort links multiply a list into many query strings: a few per path are enough.
MAX_QUERIES_PER_PATH = 6
DOWNLOAD_TYPES = (
    "application/pdf",
    "text/csv",
    "application/json",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
# Paths not followed: signing out ends the crawl's session; the static files are not pages.
SKIP_PREFIXES = ("/logout", "/static/")


class LinkParser(HTMLParser):
    """Collects the links and the actions of the POST forms (buttons) of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.post_actions: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        elif tag == "form" and (attributes.get("method") or "").lower() == "post":
            self.post_actions.append(attributes.get("action") or "")


def parse_page(html: str) -> LinkParser:
    parser = LinkParser()
    parser.feed(html)
    return parser


def same_site_path(base: str, href: str) -> str | None:
    """The path + query of a link on this site, or None for other sites and non-links."""
    if href.startswith(("mailto:", "javascript:", "tel:")) or href == "#":
        return None
    absolute, _ = urldefrag(urljoin("http://localhost" + base, href))
    parts = urlsplit(absolute)
    if parts.netloc != "localhost" or parts.scheme not in ("http", "https"):
        return None
    if parts.path.startswith(SKIP_PREFIXES):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def post_refused(app, path: str, role: Role) -> bool:
    """Would this role be refused (403) when submitting a form to this path?"""
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(urlsplit(path).path, method="POST")
    except HTTPException:
        return False  # a missing route shows up as a 404/405 elsewhere
    with app.test_request_context(path, method="POST"):
        allowed = required_roles_of(endpoint, "POST")
    return not is_public(app, endpoint) and (not allowed or role not in allowed)


def is_public(app, endpoint: str) -> bool:
    return bool(getattr(app.view_functions.get(endpoint), "is_public", False))


def crawl(client, role: Role) -> tuple[dict[str, int], list[str]]:
    """Breadth-first from /; returns {path: status} and the problems found."""
    seen: dict[str, str] = {"/": "(start)"}  # path -> the page that linked it
    queries: Counter[str] = Counter()
    statuses: dict[str, int] = {}
    problems: list[str] = []
    queue = deque(["/"])

    def follow(target: str | None, origin: str) -> None:
        if not target or target in seen:
            return
        base = target.split("?", 1)[0]
        if "?" in target:
            if queries[base] >= MAX_QUERIES_PER_PATH:
                return
            queries[base] += 1
        seen[target] = origin
        queue.append(target)

    while queue and len(statuses) < MAX_PAGES:
        path = queue.popleft()
        response = client.get(path)
        status = response.status_code
        statuses[path] = status
        origin = seen[path]
        if status >= 500:
            problems.append(f"{status} {path} (linked from {origin})")
            continue
        if status in (403, 404):
            problems.append(f"{status} {path} (linked from {origin})")
            continue
        if status in (301, 302, 303, 307, 308):
            follow(same_site_path(path, response.headers["Location"]), f"redirect from {path}")
            continue
        if status != 200:
            problems.append(f"{status} {path} (linked from {origin})")
            continue
        mimetype = response.mimetype
        if mimetype in DOWNLOAD_TYPES:
            continue
        if mimetype != "text/html":
            problems.append(f"unexpected {mimetype} at {path}")
            continue
        html = response.get_data(as_text=True)
        if 'class="navbar-brand' not in html or "</footer>" not in html:
            problems.append(f"no site layout at {path}")
        page = parse_page(html)
        for href in page.links:
            follow(same_site_path(path, href), path)
        for action in page.post_actions:
            target = urljoin("http://localhost" + path, action)
            if urlsplit(target).path.startswith("/logout"):
                continue
            if post_refused(client.application, target, role):
                refused = urlsplit(target).path
                problems.append(f"button to POST {refused} refused to {role} on {path}")
    return statuses, problems


@pytest.mark.parametrize("email,role", [(email, role) for email, _, role in DEMO_USERS])
def test_every_rendered_link_works_for_the_role(app, demo, email: str, role: Role):
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    started = time.monotonic()
    statuses, problems = crawl(client, role)
    elapsed = time.monotonic() - started
    assert not problems, "\n".join(problems)
    assert len(statuses) > 20, statuses  # the crawl really went through the site
    assert elapsed < 60, f"crawl took {elapsed:.0f} s"
