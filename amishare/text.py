"""Characters a response document can carry.

XML 1.0 admits tab, newline, carriage return and the Unicode characters from
U+0020 up, less the surrogates and U+FFFE/U+FFFF; strings with any other
character are refused on the way in (`scalars.convert`), and text that echoes
a request (parameter names, actions, targets) is made printable on the way out.
"""

import re

# The characters no document can carry, as the inside of a regular expression's class.
UNSAFE_CHARACTERS = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
_UNSAFE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def unsafe_character(text: str) -> str | None:
    """The first character of `text` that no response document could carry, if any."""
    match = _UNSAFE.search(text)
    return match.group() if match else None


def _escaped(match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every character a document can't carry written as an escape (`\\x00`, `\\ud800`)."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escaped, text)
