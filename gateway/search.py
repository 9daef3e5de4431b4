"""Case search: a case number, a phone number, or free text over the case texts.

Free text on PostgreSQL uses the GIN index over cases.search_tokens (models.search: every
character bigram of the query must be among the case's); a query the index cannot answer
(one Chinese character), and SQLite, scan the text with LIKE."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from models import Case
from models.phones import InvalidPhone, to_e164
from models.search import terms, usable


def matches(q: str, dialect: str):
    """WHERE clause on Case for the search box."""
    q = q.strip()
    number = Case.id_from_number(q)
    if number:  # a case number is only a case number: one index lookup, not a scan of every text
        return Case.id == number
    if sum(ch.isdigit() for ch in q) >= 7:
        try:
            return Case.reporter_phone == to_e164(q)
        except InvalidPhone:
            pass
    return _text(q, dialect)


def _text(q: str, dialect: str):
    wanted = terms(q)
    if dialect != "postgresql" or not usable(wanted):
        return Case.text.contains(q, autoescape=True)
    # The separator inline (not a bound parameter), so the expression is the index's own.
    terms_of_case = sa.func.string_to_array(Case.search_tokens, sa.literal_column("' '"))
    return terms_of_case.op("@>")(sa.cast(sa.literal(wanted), ARRAY(sa.Text)))
