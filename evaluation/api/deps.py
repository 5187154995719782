"""What evaluation handlers need besides their body and the evaluation service (a dependency by
type, ``evaluation: Evaluation``): the after-commit email task, and the raw CSV body of the
import endpoints."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.background_tasks import BackgroundTask

from evaluation.service import Evaluation
from tenderhall.errors import InvalidInput
from tenderhall.services import Services
from tenderhall.web.api.schemas import check_body


def deliver(evaluation: Evaluation, services: Services) -> BackgroundTask:
    """Emails go out after the transaction commits (a background task of the answer)."""
    return BackgroundTask(evaluation.notifier.deliver_pending, services.sessionmaker)


async def csv_body(request: Request[Any, Any, Any]) -> str:
    """The raw CSV body (UTF-8, optionally with a BOM, as spreadsheet programs write it)."""
    try:
        text = (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("csv.encoding") from None
    check_body(text)
    return text
