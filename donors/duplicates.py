"""Duplicate donor candidates, found through indexed blocking keys.

Each active donor (not merged) carries normalised keys computed by
``donor_refresh_keys``: ``email_key``, ``phone_key``, ``kana_postal_key`` (furigana
+ postal code) and ``latin_country_key`` (Latin name without diacritics + country).
Two donors are a candidate pair when they share at least one key. The database
finds the shared keys (``GROUP BY key HAVING count(*) > 1`` on an indexed column,
one query per key) and only the donors inside those small blocks are paired in
Python, so the cost grows with the number of duplicates, never with the square of
the number of donors.

A pair staff marked "not the same person" (:class:`DuplicateDismissal`) is left
out. A block larger than :data:`MAX_BLOCK_SIZE` (a shared office phone, a
placeholder email) says nothing about identity and is skipped.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import reduce

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from donors.models import Donor, DonorMerge, DuplicateDismissal, Gift

# key field -> (why it matched, weight). Weights add up to a 0–100 score: an email
# or furigana + postal code alone is strong evidence, a common Latin name in the
# same country is weak on its own.
KEYS: dict[str, tuple[str, int]] = {
    "email_key": (_("same email"), 50),
    "kana_postal_key": (_("same furigana and postal code"), 40),
    "phone_key": (_("same phone"), 35),
    "latin_country_key": (_("same Latin name and country"), 25),
}
MAX_BLOCK_SIZE = 50


@dataclass(frozen=True)
class DuplicatePair:
    """Two active donors that may be one person; ``low_id`` < ``high_id``."""

    low_id: int
    high_id: int
    reasons: tuple[str, ...]  # key field names, in KEYS order
    score: int

    @property
    def reason_labels(self) -> list[str]:
        return [str(KEYS[key][0]) for key in self.reasons]


@dataclass(frozen=True)
class DuplicateMatch:
    """A donor that may be the same person as the one asked about."""

    donor: Donor
    reasons: tuple[str, ...]
    score: int

    @property
    def reason_labels(self) -> list[str]:
        return [str(KEYS[key][0]) for key in self.reasons]


def score_for(reasons: Iterable[str]) -> int:
    return min(100, sum(KEYS[key][1] for key in reasons))


def pair_reasons(first: Donor, second: Donor) -> tuple[str, ...]:
    """The keys two donors share (empty keys never match)."""
    return tuple(
        key
        for key in KEYS
        if getattr(first, key) and getattr(first, key) == getattr(second, key)
    )


def _active() -> QuerySet[Donor]:
    return Donor.objects.filter(merged_into__isnull=True)


def _blocks(key: str) -> Iterable[list[int]]:
    """Ids of active donors grouped by a value of ``key`` shared by 2..MAX."""
    candidates = _active().exclude(**{key: ""})
    shared = (
        candidates.order_by()
        .values(key)
        .annotate(n=Count("id"))
        .filter(n__gt=1, n__lte=MAX_BLOCK_SIZE)
        .values(key)
    )
    blocks: dict[str, list[int]] = defaultdict(list)
    rows = (
        candidates.filter(**{f"{key}__in": shared})
        .order_by()
        .values_list(key, "id")
        .iterator(chunk_size=5000)
    )
    for value, pk in rows:
        blocks[value].append(pk)
    return blocks.values()


def _dismissed() -> set[tuple[int, int]]:
    return set(DuplicateDismissal.objects.values_list("donor_low_id", "donor_high_id"))


def _sorted(pairs: list[DuplicatePair], limit: int | None) -> list[DuplicatePair]:
    pairs.sort(key=lambda p: (-p.score, p.low_id, p.high_id))
    return pairs if limit is None else pairs[:limit]


def duplicate_candidates(
    *, limit: int | None = None, donor: Donor | None = None
) -> list[DuplicatePair]:
    """Candidate pairs among active donors, best score first.

    With ``donor``, only the pairs that include that (saved) donor. Dismissed
    pairs and merged donors are left out; each pair appears once with every key
    it matched on.
    """
    if donor is not None:
        pairs = []
        for match in duplicates_for_donor(donor):
            low, high = sorted((donor.pk, match.donor.pk))
            pairs.append(DuplicatePair(low, high, match.reasons, match.score))
        return _sorted(pairs, limit)

    reasons: dict[tuple[int, int], list[str]] = defaultdict(list)
    for key in KEYS:
        for ids in _blocks(key):
            ids.sort()
            for index, low in enumerate(ids):
                for high in ids[index + 1 :]:
                    reasons[(low, high)].append(key)
    dismissed = _dismissed()
    pairs = [
        DuplicatePair(low, high, tuple(keys), score_for(keys))
        for (low, high), keys in reasons.items()
        if (low, high) not in dismissed
    ]
    return _sorted(pairs, limit)


def duplicates_for_donor(donor: Donor) -> list[DuplicateMatch]:
    """Active donors that share a blocking key with ``donor``, best score first.

    ``donor`` may be unsaved (e.g. a row being imported) as long as its keys were
    computed with ``donor_refresh_keys``. For a saved donor, the donor itself and
    pairs dismissed by staff are left out; a merged donor has no candidates.
    """
    if donor.pk is not None and donor.merged_into_id:
        return []
    keys = {key: getattr(donor, key) for key in KEYS if getattr(donor, key)}
    if not keys:
        return []
    condition = reduce(operator.or_, (Q(**{k: v}) for k, v in keys.items()))
    others = _active().filter(condition)
    dismissed: set[int] = set()
    if donor.pk is not None:
        others = others.exclude(pk=donor.pk)
        for low, high in DuplicateDismissal.objects.filter(
            Q(donor_low=donor.pk) | Q(donor_high=donor.pk)
        ).values_list("donor_low_id", "donor_high_id"):
            dismissed.add(high if low == donor.pk else low)
    matches = []
    for other in others:
        if other.pk in dismissed:
            continue
        reasons = pair_reasons(donor, other)
        matches.append(DuplicateMatch(other, reasons, score_for(reasons)))
    matches.sort(key=lambda m: (-m.score, m.donor.pk))
    return matches


def donors_with_giving(ids: Iterable[int]) -> dict[int, Donor]:
    """Donors by id, annotated with ``gift_count`` and ``lifetime_yen`` (settled
    yen of received gifts, net of refunds), for showing pairs side by side."""
    counted = (
        Gift.Status.RECEIVED,
        Gift.Status.PARTIALLY_REFUNDED,
        Gift.Status.REFUNDED,
        Gift.Status.DISPUTED,
    )
    return (
        Donor.objects.filter(pk__in=list(ids))
        .annotate(
            gift_count=Count("gifts", filter=Q(gifts__status__in=counted)),
            lifetime_yen=Coalesce(
                Sum(
                    F("gifts__amount_yen") - F("gifts__refunded_yen"),
                    filter=Q(gifts__status__in=counted),
                ),
                0,
            ),
        )
        .in_bulk()
    )


def pairs_with_donors(
    pairs: Sequence[DuplicatePair],
) -> list[tuple[DuplicatePair, Donor, Donor]]:
    """(pair, left donor, right donor) with giving totals; left is the older id."""
    donors = donors_with_giving({pk for p in pairs for pk in (p.low_id, p.high_id)})
    return [
        (pair, donors[pair.low_id], donors[pair.high_id])
        for pair in pairs
        if pair.low_id in donors and pair.high_id in donors
    ]


def merge_preview(merged: Donor) -> list[tuple[str, int]]:
    """(what, how many) records ``donor_merge`` would move off ``merged``.

    Walks the same relations as ``donor_merge`` so later apps' records show up.
    """
    moves = []
    for relation in Donor._meta.related_objects:
        model = relation.related_model
        if model in (Donor, DonorMerge) or not relation.field.concrete:
            continue
        if relation.one_to_one:
            continue
        count = model._default_manager.filter(**{relation.field.name: merged}).count()
        if count:
            moves.append((str(model._meta.verbose_name_plural), count))
    return moves
