"""colorize.errors: the error family and one_line, the one place an error is shortened."""

import pytest

from colorize import errors


@pytest.mark.parametrize(
    "error, expected",
    [
        (ValueError("bad value\nTraceback (most recent call last): ..."), "bad value"),
        (OSError("  padded  \n"), "padded"),
        (KeyError(), "KeyError"),
        (errors.ImageDecodeError(""), "ImageDecodeError"),
        ("a plain message\nsecond line", "a plain message"),
    ],
)
def test_one_line_is_the_first_line_or_the_type(error, expected):
    assert errors.one_line(error) == expected


def test_one_line_shortens_a_long_line_and_says_so():
    text = errors.one_line(ValueError("x" * 2000))
    assert len(text) == errors.ONE_LINE_LIMIT and text.endswith("...")
    assert errors.one_line(ValueError("y" * 50), limit=20) == "y" * 17 + "..."


def test_the_library_shortens_errors_only_through_one_line():
    """No module keeps its own copy of "first line of an error"."""
    from pathlib import Path

    package = Path(errors.__file__).parent
    copies = [path for path in package.rglob("*.py") if path.name != "errors.py"
              and ("splitlines()[0]" in path.read_text() or "def _one_line" in path.read_text())]  # fmt: skip
    assert not copies
