"""Rows for the client base: companies and contacts.

Plain dictionaries keyed by column name, ready for one Core ``executemany``: the
seeder inserts tens of thousands of them and the benchmarks hundreds of thousands, so
the ORM's per-object bookkeeping is skipped and random draws are batched where the
``random`` module allows (``choices(k=n)`` is one call for n picks).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from crmguard.seed.identity import domain_for, fit_surname, local_part, phone_number, slug
from crmguard.seed.names import NAME_POOLS, POOL_CUM_WEIGHTS
from crmguard.seed.places import (
    CITIES,
    COMPANY_CORES,
    COMPANY_PREFIXES,
    DEFAULT_LEGAL_FORM,
    INDUSTRIES,
    LEGAL_FORMS,
    PHONE_FORMATS,
    TLDS,
)
from crmguard.seed.texts import AMOUNTS, COMPETITORS, MONTHS, NOTES, PRODUCTS

#: Fallback mail domains when contacts are generated without company domains.
GENERIC_DOMAINS: tuple[str, ...] = ("example.com", "example.org", "example.net")

_DAY = 86400


def _created_updated(
    rng: random.Random, now: datetime, max_age_days: int
) -> tuple[datetime, datetime]:
    """A creation time up to ``max_age_days`` ago and a last update between it and now."""
    age = rng.randrange(max_age_days * _DAY)
    created = now - timedelta(seconds=age)
    return created, now - timedelta(seconds=rng.randrange(age + 1))


def company_rows(
    rng: random.Random, n: int, now: datetime, *, start_id: int = 1
) -> list[dict[str, Any]]:
    """``n`` companies with local names, legal forms, cities and websites.

    ``owner_id`` is left empty: the seeder fills it from the company's contacts so that
    an account and its people belong to the same seller.
    """
    rows: list[dict[str, Any]] = []
    used_domains: set[str] = set()
    pools = rng.choices(NAME_POOLS, cum_weights=POOL_CUM_WEIGHTS, k=n)
    for i, pool in enumerate(pools):
        country = rng.choice(pool.countries)
        if rng.random() < 0.25:  # family firms carry a founder's name
            base = f"{rng.choice(pool.last_names)} {rng.choice(COMPANY_CORES)}"
        else:
            base = f"{rng.choice(COMPANY_PREFIXES)} {rng.choice(COMPANY_CORES)}"
        domain = domain_for(base, TLDS.get(country, "com"))
        suffix = 2
        while domain in used_domains:  # two "Nord Logistics" in one country get two sites
            domain = domain_for(f"{base}{suffix}", TLDS.get(country, "com"))
            suffix += 1
        used_domains.add(domain)
        created, updated = _created_updated(rng, now, 3 * 365)
        rows.append(
            {
                "id": start_id + i,
                "name": f"{base} {LEGAL_FORMS.get(country, DEFAULT_LEGAL_FORM)}",
                "industry": rng.choice(INDUSTRIES),
                "city": rng.choice(CITIES[country]),
                "country": country,
                "website": f"https://www.{domain}",
                "owner_id": None,
                "created_at": created,
                "updated_at": updated,
            }
        )
    return rows


def _notes(rng: random.Random) -> str:
    """Nothing for about half the contacts, else one or two sentences of sales context."""
    draw = rng.random()
    if draw < 0.45:
        return ""
    count = 1 if draw < 0.85 else 2
    return " ".join(
        rng.choice(NOTES).format(
            product=rng.choice(PRODUCTS),
            competitor=rng.choice(COMPETITORS),
            month=rng.choice(MONTHS),
            amount=rng.choice(AMOUNTS),
        )
        for _ in range(count)
    )


def _email(rng: random.Random, first: str, last: str, domain: str) -> str:
    draw = rng.random()
    if draw < 0.8:
        local = local_part(first, last)
    elif draw < 0.95:
        local = f"{slug(first)[:1]}.{slug(last)}"
    else:
        local = slug(first)
    return f"{local}@{domain}"


def contact_rows(
    rng: random.Random,
    n: int,
    owner_ids: Sequence[int],
    company_ids: Sequence[int],
    now: datetime,
    *,
    start_id: int = 1,
    owner_weights: Sequence[float] | None = None,
    company_domains: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """``n`` contacts with ids from ``start_id``, ready for ``insert(Contact.__table__)``.

    Owners are drawn from ``owner_ids`` (optionally weighted), companies uniformly from
    ``company_ids``; ``company_domains``, aligned with ``company_ids``, gives each
    contact an address at its company's domain (else a generic ``example.*`` one).
    A person's country and city follow their name's culture, the phone number that
    country's format. Deterministic for a given ``rng`` state.
    """
    if not owner_ids:
        raise ValueError("contacts need at least one owner")
    if company_domains is not None and len(company_domains) != len(company_ids):
        raise ValueError("company_domains must be aligned with company_ids")
    pools = rng.choices(NAME_POOLS, cum_weights=POOL_CUM_WEIGHTS, k=n)
    owners = rng.choices(owner_ids, weights=owner_weights, k=n)
    n_companies = len(company_ids)
    rows: list[dict[str, Any]] = []
    for i, pool in enumerate(pools):
        first = rng.choice(pool.first_names)
        last = fit_surname(pool.key, first, rng.choice(pool.last_names))
        country = rng.choice(pool.countries)
        if n_companies:
            c = rng.randrange(n_companies)
            company_id: int | None = company_ids[c]
            domain = company_domains[c] if company_domains else rng.choice(GENERIC_DOMAINS)
        else:
            company_id, domain = None, rng.choice(GENERIC_DOMAINS)
        created, updated = _created_updated(rng, now, 2 * 365)
        rows.append(
            {
                "id": start_id + i,
                "first_name": first,
                "last_name": last,
                "email": _email(rng, first, last, domain),
                "phone": phone_number(rng, PHONE_FORMATS[country]),
                "company_id": company_id,
                "city": rng.choice(CITIES[country]),
                "country": country,
                "owner_id": owners[i],
                "notes": _notes(rng),
                "created_at": created,
                "updated_at": updated,
            }
        )
    return rows
