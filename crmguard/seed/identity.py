"""Turning names into the identifiers people have: usernames, e-mails, phone numbers.

Real addresses are ASCII even when the name is not ("Łukasz Wiśniewski" writes as
``lukasz.wisniewski@``); Unicode decomposition handles accents, a small table handles
letters that do not decompose (ł, ø, ß, þ ...). Results are cached because the same
few hundred names are turned into addresses tens of thousands of times.
"""

from __future__ import annotations

import random
import re
import unicodedata
from functools import lru_cache

from crmguard.seed.names import FEMININE_FIRST_NAMES

_NO_DECOMPOSITION = str.maketrans(
    {
        "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss",
        "æ": "ae", "Æ": "AE", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D", "œ": "oe",
        "Œ": "OE", "ı": "i",  # noqa: RUF001
    }
)  # fmt: skip
_NOT_LOCAL = re.compile(r"[^a-z0-9-]+")


@lru_cache(maxsize=4096)
def ascii_fold(text: str) -> str:
    """``text`` with accents removed and special letters spelled out in ASCII."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_NO_DECOMPOSITION))
    return (
        "".join(c for c in decomposed if not unicodedata.combining(c))
        .encode("ascii", "ignore")
        .decode("ascii")
    )


@lru_cache(maxsize=4096)
def slug(text: str) -> str:
    """Lowercase ASCII token fit for a username part or an e-mail local part."""
    folded = ascii_fold(text).lower().replace(" ", "")
    return _NOT_LOCAL.sub("", folded.replace("'", "")).strip("-")


def local_part(first: str, last: str) -> str:
    """``first.last`` in lowercase ASCII: the usual shape of a work address."""
    return f"{slug(first)}.{slug(last)}"


@lru_cache(maxsize=4096)
def fit_surname(pool: str, first: str, last: str) -> str:
    """``last`` in the form a bearer called ``first`` carries in cultures whose surnames
    follow gender: Kowalski -> Kowalska, Novák -> Nováková, Jónsson -> Jónsdóttir.

    Getting this wrong ("Joanna Kowalski") is the kind of detail that makes a demo read
    as fake to anyone from the region.
    """
    if pool == "polish" and first.endswith("a"):
        for male, female in (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka")):
            if last.endswith(male):
                return last[: -len(male)] + female
    elif pool == "czech" and first.endswith(("a", "e")):
        if last.endswith("ý"):
            return last[:-1] + "á"
        if last.endswith("a"):
            return last[:-1] + "ová"
        if last.endswith(("ec", "ek")):
            return last[:-2] + last[-1] + "ová"
        return last + "ová"
    elif pool == "icelandic" and first in FEMININE_FIRST_NAMES and last.endswith("son"):
        return last[:-3] + "dóttir"
    return last


@lru_cache(maxsize=256)
def _phone_template(fmt: str) -> tuple[str, int]:
    return fmt.replace("{", "{{").replace("}", "}}").replace("#", "{}"), fmt.count("#")


def phone_number(rng: random.Random, fmt: str) -> str:
    """A number in the country's format; ``#`` in ``fmt`` becomes a random digit.

    One random draw per number, not one per digit: this runs for every contact.
    """
    template, digits = _phone_template(fmt)
    return template.format(*f"{rng.randrange(10**digits):0{digits}d}")


def domain_for(name: str, tld: str) -> str:
    """Web domain of a company called ``name`` (``Nord Logistics`` -> ``nordlogistics.de``)."""
    return f"{slug(name)}.{tld}"
