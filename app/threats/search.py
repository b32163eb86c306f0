"""Word search over threat titles and descriptions, the same on SQLite and PostgreSQL.

A threat's words are folded (lower case, accents removed) and stored one per row in
``threat_search_terms``; a search keeps the threats that have, for every word typed,
a stored word starting with it. Each word is a range on the table's primary key, so
the cost follows the number of matches, not the size of the register.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy import delete, insert, select

from app.bulk import copy_rows
from app.extensions import db
from app.models.threats import Threat, ThreatSearchTerm

TERM_MAX_LENGTH = 40
# Words typed beyond this are ignored: a search is a few words, not a paragraph.
MAX_SEARCH_WORDS = 8
_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    text = text or ""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words_of(text: str) -> list[str]:
    """The words of ``text`` in order, folded, each cut to the stored length."""
    return [word[:TERM_MAX_LENGTH] for word in _WORD.findall(fold(text))]


def terms_of(title: str, description: str) -> set[str]:
    return set(words_of(title)) | set(words_of(description))


def search_words(query: str) -> list[str]:
    """The distinct words of a search string (punctuation and SQL/HTML characters dropped)."""
    seen: list[str] = []
    for word in words_of(query):
        if word not in seen:
            seen.append(word)
    return seen[:MAX_SEARCH_WORDS]


def _prefix_upper_bound(prefix: str) -> str:
    # The smallest string above every string starting with ``prefix``.
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def matching_ids(word: str):
    """SELECT of the ids of threats having a word that starts with ``word``."""
    return select(ThreatSearchTerm.threat_id).where(
        ThreatSearchTerm.term >= word, ThreatSearchTerm.term < _prefix_upper_bound(word)
    )


def apply_search(query, text: str):
    """Narrow a SELECT of threats to those matching every word of ``text``.

    Returns the query unchanged when ``text`` has no words, and a query matching
    nothing when it had characters but no word (e.g. only punctuation).
    """
    words = search_words(text)
    if not words:
        return query.where(False) if text.strip() else query
    for word in words:
        query = query.where(Threat.id.in_(matching_ids(word)))
    return query


def reindex(threat: Threat) -> None:
    """Replace the stored words of one threat (call after its title or description changed)."""
    db.session.flush()
    db.session.execute(delete(ThreatSearchTerm).where(ThreatSearchTerm.threat_id == threat.id))
    rows = [{"term": t, "threat_id": threat.id} for t in terms_of(threat.title, threat.description)]
    if rows:
        db.session.execute(insert(ThreatSearchTerm), rows)


def index_new(threats: Iterable[tuple[int, str, str]]) -> None:
    """Store the words of threats written in bulk ((id, title, description) each), as
    ``reindex`` would one by one."""
    copy_rows(
        ThreatSearchTerm.__tablename__,
        ("term", "threat_id"),
        [
            (term, threat_id)
            for threat_id, title, description in threats
            for term in terms_of(title, description)
        ],
    )
