"""What ``render_archive`` accepts as attachments: bounded and well-formed, else refused first."""

from __future__ import annotations

import pytest

from archive.render import MAX_ATTACHMENTS, ArchiveAttachment, check_attachments
from tenderhall.errors import InvalidInput


def ok(name: str = "a.json") -> ArchiveAttachment:
    return ArchiveAttachment(name, b"{}", "application/json", "evidence")


@pytest.mark.parametrize(
    ("attachment", "key"),
    [
        (ArchiveAttachment("../etc/passwd", b"x", "text/plain", "d"), "archive.attachment.bad_name"),
        (ArchiveAttachment("", b"x", "text/plain", "d"), "archive.attachment.bad_name"),
        (ArchiveAttachment("a" * 200 + ".json", b"x", "text/plain", "d"), "archive.attachment.bad_name"),
        (ArchiveAttachment("a.json", b"x", "application/json\r\nX: y", "d"), "archive.attachment.bad_type"),
        (ArchiveAttachment("a.json", b"x", "json", "d"), "archive.attachment.bad_type"),
        (ArchiveAttachment("a.json", b"", "application/json", "d"), "archive.attachment.bad_size"),
        (ArchiveAttachment("a.json", b"{}", "application/json", ""), "archive.attachment.bad_description"),
        (
            ArchiveAttachment("a.json", b"{}", "application/json", "d" * 501),
            "archive.attachment.bad_description",
        ),
        (
            ArchiveAttachment("a.json", b"{}", "application/json", "d", "Owner"),
            "archive.attachment.bad_description",
        ),
    ],
)
def test_a_bad_attachment_is_refused(attachment: ArchiveAttachment, key: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_attachments([attachment])
    assert refused.value.key == key


def test_two_files_of_one_name_are_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_attachments([ok(), ok()])
    assert refused.value.key == "archive.attachment.bad_name"


def test_too_many_attachments_are_refused() -> None:
    check_attachments([ok(f"f{i}.json") for i in range(MAX_ATTACHMENTS)])
    with pytest.raises(InvalidInput) as refused:
        check_attachments([ok(f"f{i}.json") for i in range(MAX_ATTACHMENTS + 1)])
    assert refused.value.key == "archive.attachment.too_many"


def test_the_sha256_shown_is_the_files() -> None:
    assert ok().sha256 == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
