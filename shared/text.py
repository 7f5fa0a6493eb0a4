"""Comparing Vietnamese text the way people type it: with or without diacritics."""

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=8192)  # a sheet's columns repeat the same few names many thousand times
def fold(text: str) -> str:
    """Lower case without diacritics and with single spaces, so "ham can" matches
    "Hàm Cần" (đ is not a diacritic in Unicode, so it is mapped by hand)."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.split())
