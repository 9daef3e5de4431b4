"""Text normalisation: NFKC (full width -> half width), lower case, traditional -> simplified.

Traditional characters are mapped one-to-one with a str.translate table built from OpenCC's
character dictionary (opencc-python-reimplemented ships it), which is C-speed per message.
"""
from __future__ import annotations

import os
import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s_table() -> dict[int, str]:
    import opencc

    path = os.path.join(os.path.dirname(opencc.__file__), "dictionary", "TSCharacters.txt")
    table: dict[int, str] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 2 and len(parts[0]) == 1:
                target = parts[1].split(" ")[0]
                if len(target) == 1 and target != parts[0]:
                    table[ord(parts[0])] = target
    return table


def to_simplified(text: str) -> str:
    return text.translate(_t2s_table())


def normalize(text: str) -> str:
    """NFKC, simplified Chinese, lower case, runs of white space folded to one space."""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_t2s_table()).lower()
    return _SPACES.sub(" ", text).strip()
