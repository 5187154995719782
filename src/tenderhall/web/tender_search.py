"""The public tender list's search and filters, read from the query string: each bounded, and one
that is not valid is left out with a message (never an error page, never a 500)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from tenderhall import bounds
from tenderhall.errors import InvalidInput, Label
from tenderhall.tenders.lifecycle import TenderState
from tenderhall.tenders.procedures import ProcedureType

MAX_QUERY = 100  # as the API's ``q``
PAGE_SIZE = 50
MAX_PAGE = 200  # 10,000 tenders deep; the filters narrow it further
STATES = tuple(s.value for s in TenderState)
PROCEDURES = tuple(p.value for p in ProcedureType)


@dataclass
class Search:
    q: str = ""
    state: str = ""
    procedure: str = ""
    centre: uuid.UUID | None = None
    page: int = 1
    problems: list[InvalidInput] = field(default_factory=list)

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE

    def messages(self, locale: str) -> list[str]:
        return [problem.message(locale) for problem in self.problems]

    def link(self, page: int) -> str:
        """The address of another page of the same search."""
        from urllib.parse import urlencode

        query = {"q": self.q, "state": self.state, "procedure": self.procedure, "centre": self.centre or ""}
        return "/?" + urlencode({**{k: v for k, v in query.items() if v}, "page": page})


def read_search(query: Mapping[str, str]) -> Search:
    """The search a query string asks for; what is not valid is dropped and said."""
    search = Search()

    def bad(name: str) -> None:
        search.problems.append(InvalidInput("search.invalid", field=Label(f"search.field.{name}")))

    q = (query.get("q") or "").strip()
    if len(q) > MAX_QUERY:
        search.problems.append(InvalidInput("search.too_long", limit=MAX_QUERY))
    elif q and not bounds.clean_text(q):
        bad("q")
    else:
        search.q = q
    state = query.get("state") or ""
    if state in STATES:
        search.state = state
    elif state:
        bad("state")
    procedure = query.get("procedure") or ""
    if procedure in PROCEDURES:
        search.procedure = procedure
    elif procedure:
        bad("procedure")
    centre = query.get("centre") or ""
    if centre:
        try:
            search.centre = uuid.UUID(centre) if len(centre) <= 36 else None
        except ValueError:
            search.centre = None
        if search.centre is None:
            bad("centre")
    page = query.get("page") or ""
    if page:
        if page.isascii() and page.isdigit() and len(page) <= 4 and 1 <= int(page) <= MAX_PAGE:
            search.page = int(page)
        else:
            bad("page")
    return search
