"""core.protected_files: byte ranges that no header can turn into a 500, names nginx can find, and
download names that cannot disguise a file."""

import pytest

from core.protected_files import (
    RangeNotSatisfiable,
    accel_redirect_uri,
    byte_range,
    content_disposition,
    download_filename,
)

SIZE = 1000


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", (0, 99)),
        ("bytes=990-", (990, 999)),
        ("bytes=-10", (990, 999)),
        ("bytes=10-5", None),
        ("bytes=0-" + "9" * 4400, (0, 999)),  # beyond int()'s 4,300-digit limit
        ("bytes=-" + "9" * 4400, (0, 999)),
        ("bytes=5-" + "9" * 19, (5, 999)),
        ("bytes=²-", None),  # str.isdigit() says yes, int() says no
        ("bytes=٣-٩", None),  # digits of another script: int() would read 3-9
        ("bytes=\uff11-\uff12", None),  # fullwidth digits
        ("bytes=0-1,5-6", None),
        ("bytes=-", None),
        ("bytes=0x10-", None),
        ("bytes=0-9\n", (0, 9)),
    ],
)
def test_a_range_header_gives_a_range_or_none(header, expected):
    assert byte_range(header, SIZE) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=" + "9" * 4400 + "-", "bytes=-0"])
def test_a_range_starting_past_the_end_is_not_satisfiable(header):
    with pytest.raises(RangeNotSatisfiable):
        byte_range(header, SIZE)


@pytest.mark.parametrize(
    ("name", "uri"),
    [
        ("videos/2026/01/abc.mp4", "/protected/videos/2026/01/abc.mp4"),
        ("a b/c%d#e?f.pdf", "/protected/a%20b/c%25d%23e%3Ff.pdf"),
        ("제출/보고서.pdf", "/protected/%EC%A0%9C%EC%B6%9C/%EB%B3%B4%EA%B3%A0%EC%84%9C.pdf"),
        ("café.mp4", "/protected/caf%C3%A9.mp4"),
    ],
)
def test_the_accel_uri_is_percent_encoded_ascii(settings, name, uri):
    settings.PROTECTED_ACCEL_REDIRECT_PREFIX = "/protected/"
    assert accel_redirect_uri(name) == uri


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("submissions/2026/01/ab12/report.pdf", "report.pdf"),
        ("x/evil\u202egnp.txt", "evilgnp.txt"),  # the right-to-left override is dropped
        ("x/a\x00b\r\nc.txt", "abc.txt"),
        ("x/..", "download"),
        ("x\\..\\..\\win.ini", "win.ini"),
        ("x/보고서.pdf", "보고서.pdf"),
    ],
)
def test_a_download_name_is_the_base_name_without_invisible_characters(name, expected):
    assert download_filename(name) == expected


@pytest.mark.parametrize(
    ("filename", "header"),
    [
        ("report.pdf", "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"),
        (
            'a "quoted"; b=c.txt',
            "attachment; filename=\"a _quoted__ b_c.txt\"; filename*=UTF-8''"
            "a%20%22quoted%22%3B%20b%3Dc.txt",
        ),
        (
            "résumé.pdf",
            "attachment; filename=\"resume.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
        ),
        (
            "보고서.pdf",
            "attachment; filename=\"download.pdf\"; filename*=UTF-8''"
            "%EB%B3%B4%EA%B3%A0%EC%84%9C.pdf",
        ),
        ("README", "attachment; filename=\"README\"; filename*=UTF-8''README"),
    ],
)
def test_the_content_disposition_is_an_attachment_with_a_plain_and_an_exact_name(filename, header):
    assert content_disposition(filename) == header
    assert header.isascii()
