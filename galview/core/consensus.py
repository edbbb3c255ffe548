"""Several inspectors' labels of one collection: the votes, the majority and Krippendorff's alpha.

Where two people are compared by Cohen's kappa (:mod:`galview.core.agreement`), a team of three or
more, each of whom labelled a different part of the candidates, is measured by Krippendorff's alpha
(nominal): agreement beyond chance over every cutout at least two of them gave a class, whatever the
others did. Each cutout also gets its votes, its majority class (none on a tie) and the share of
votes the majority holds, which a team can adopt as its labels. Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from galview.core.agreement import BADGE, RANKING, estimate_text, multinomial_interval
from galview.core.label_values import DEFAULT_CLASSES, UNSURE, label_name
from galview.core.rankings import Ranking
from galview.core.words import count


@dataclass(frozen=True, eq=False)
class Consensus:
    """The labels of several inspectors of the same cutouts.

    Attributes
    ----------
    names : tuple of str
        The inspectors, in the order of ``labels``' rows.
    labels : ndarray, (R, N) float64
        Class index, ``UNSURE`` (-1) or NaN (no label) per inspector and cutout.
    classes : tuple of str
        Class names by label value.
    """

    names: tuple[str, ...]
    labels: np.ndarray
    classes: tuple[str, ...] = DEFAULT_CLASSES

    def __post_init__(self):
        labels = np.asarray(self.labels, dtype=np.float64)
        if labels.ndim != 2 or len(labels) != len(self.names):
            raise ValueError(
                f"labels of shape {labels.shape} for {len(self.names)} inspectors; expected (R, N)"
            )
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "names", tuple(self.names))
        object.__setattr__(self, "classes", tuple(self.classes))

    @cached_property
    def votes(self) -> np.ndarray:
        """(N, C) int64: how many inspectors gave each cutout each class (unsure and none not counted)."""
        labels = self.labels
        size = max(len(self.classes), int(np.nanmax(labels, initial=-1)) + 1)
        counts = np.zeros((labels.shape[1], size), dtype=np.int64)
        for row in labels:
            given = np.flatnonzero(row >= 0)
            np.add.at(counts, (given, row[given].astype(np.int64)), 1)
        return counts

    @cached_property
    def voters(self) -> np.ndarray:
        """(N,) int64: how many inspectors gave each cutout a class."""
        return self.votes.sum(axis=1)

    @cached_property
    def unsure(self) -> np.ndarray:
        """(N,) int64: how many inspectors called each cutout unsure."""
        return (self.labels == UNSURE).sum(axis=0)

    @cached_property
    def majority(self) -> np.ndarray:
        """(N,) float64: the class most inspectors gave; NaN where none gave one, or on a tie."""
        votes = self.votes
        best = votes.max(axis=1)
        winners = (votes == best[:, None]).sum(axis=1)
        majority = votes.argmax(axis=1).astype(np.float64)
        majority[(best == 0) | (winners > 1)] = np.nan
        return majority

    @cached_property
    def adopted(self) -> np.ndarray:
        """(N,) float64: the label a team would adopt: the majority class, or ``UNSURE`` where more
        inspectors called the cutout unsure than gave that class (or only unsure was said); NaN on a
        tie and where nobody labelled it."""
        adopted = self.majority.copy()
        unsure = self.unsure
        adopted[(unsure > 0) & (unsure > self.votes.max(axis=1))] = UNSURE
        return adopted

    @cached_property
    def share(self) -> np.ndarray:
        """(N,) float64: the share of class votes the most-given class holds (NaN: no votes)."""
        voters = self.voters
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(voters > 0, self.votes.max(axis=1) / voters, np.nan)

    @cached_property
    def split(self) -> np.ndarray:
        """(N,) bool: inspectors gave the cutout different classes."""
        return (self.votes > 0).sum(axis=1) > 1

    # -- Krippendorff's alpha ------------------------------------------------------------------------
    @property
    def pairable(self) -> int:
        """Cutouts at least two inspectors gave a class: those alpha is computed over."""
        return int((self.voters >= 2).sum())

    @property
    def alpha(self) -> float:
        """Krippendorff's alpha for nominal labels (NaN when undefined: fewer than two votes on any
        cutout, or a single class used throughout)."""
        patterns, counts = self._patterns()
        return alpha_of(patterns, counts)

    def alpha_interval(
        self, resamples: int = 2000, seed: int = 0, level: float = 0.95
    ) -> tuple[float, float]:
        """Bootstrap interval of :attr:`alpha`, resampling the pairable cutouts.

        Cutouts with the same votes add the same to alpha, so resampling cutouts is drawing how many of
        each vote pattern there are from a multinomial: as cheap for a million cutouts as for ten.
        """
        patterns, counts = self._patterns()
        return multinomial_interval(counts, lambda draw: alpha_of(patterns, draw), resamples, seed, level)

    def _patterns(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct vote vectors of the pairable cutouts and how many cutouts have each."""
        votes = self.votes[self.voters >= 2]
        if not len(votes):
            return np.zeros((0, self.votes.shape[1]), dtype=np.int64), np.zeros(0, dtype=np.int64)
        patterns, counts = np.unique(votes, axis=0, return_counts=True)
        return patterns, counts

    # -- for people ----------------------------------------------------------------------------------
    #: Status names by code, the most disputed first (:meth:`status_codes`).
    STATUSES = ("split", "unsure", "agree", "one", "none")

    @cached_property
    def status_codes(self) -> np.ndarray:
        """(N,) int: 0 split (different classes), 1 unsure (someone unsure, beside one class or another
        unsure), 2 agree (two or more gave the same class), 3 one label only, 4 none."""
        voters, unsure = self.voters, self.unsure
        codes = np.full(len(voters), 4)
        codes[voters + unsure == 1] = 3
        codes[voters >= 2] = 2
        codes[(unsure > 0) & (voters + unsure >= 2)] = 1
        codes[self.split] = 0
        return codes

    def statuses(self) -> np.ndarray:
        """(N,) str: ``"split"``, ``"unsure"``, ``"agree"``, ``"one"`` or ``"none"`` (:meth:`status_codes`)."""
        return np.array(self.STATUSES)[self.status_codes]

    def order(self) -> np.ndarray:
        """Cutouts anyone labelled, most disputed first: split votes (smallest majority share first),
        then unsure against a class, then agreement, then single labels; ties in index order."""
        return self.ranking().sort(np.flatnonzero(np.isfinite(self.labels).any(axis=0)))

    # -- for the grid and for people -----------------------------------------------------------------
    def ranking(self) -> ConsensusRanking:
        """The most disputed first, as :meth:`order`: split votes (the smallest majority first), then
        someone unsure, then agreement, then single labels; cutouts nobody labelled go last."""
        codes, share = self.status_codes, np.nan_to_num(self.share, nan=1.0)
        values = np.full(len(codes), np.nan)
        values[codes == 0] = 3.0 + (1.0 - share[codes == 0])  # 3.5 for a 1:1 split, 3.33 for 2:1
        values[codes == 1], values[codes == 2], values[codes == 3] = 2.0, 1.0, 0.0
        title = f"split votes of {len(self.names)} inspectors first"
        return ConsensusRanking(
            RANKING, title, values, descending=True, badge=BADGE, shown=values.copy(), team=self,
            now=Votes.of(self),
        )  # fmt: skip

    def summary(self) -> str:
        """One line: "3 inspectors: Krippendorff's α 0.71 [0.66, 0.75] over 1,204 cutouts …; 96 with split votes"."""
        if not self.pairable:
            return f"{len(self.names)} inspectors: no cutout was given a class by two of them"
        alpha = estimate_text(self.alpha, self.alpha_interval())
        return (
            f"{len(self.names)} inspectors: Krippendorff's α {alpha} over {count(self.pairable, 'cutout')} given a "
            f"class by two or more; {count(int(self.split.sum()), 'cutout')} with split votes"
        )


@dataclass(frozen=True, eq=False)
class Votes:
    """What a thumbnail of the team's ranking shows, per cutout: status code
    (:attr:`Consensus.status_codes`), the label adopted (NaN: a tie or none), the majority's votes and
    the voters. Arrays (N,), updated in place by :meth:`ConsensusRanking.follow`."""

    codes: np.ndarray
    adopted: np.ndarray
    top: np.ndarray
    voters: np.ndarray

    @classmethod
    def of(cls, team: Consensus) -> Votes:
        return cls(team.status_codes.copy(), team.adopted.copy(), team.votes.max(axis=1), team.voters.copy())

    def take(self, indices: np.ndarray, other: Votes) -> None:
        """Cutouts ``indices`` take ``other``'s values (``other`` holds just those cutouts, in that order)."""
        for mine, theirs in zip(
            (self.codes, self.adopted, self.top, self.voters),
            (other.codes, other.adopted, other.top, other.voters),
            strict=True,
        ):
            mine[indices] = theirs


@dataclass(frozen=True, eq=False)
class ConsensusRanking(Ranking):
    """Split votes first (:meth:`Consensus.ranking`); each thumbnail shows the votes.

    Attributes
    ----------
    team : Consensus
        The votes as compared (they give the order).
    now : Votes
        The votes as the thumbnails and the export show them: your labels (the first inspector's beside
        files, your row among a store's people) as :meth:`follow` last saw them.
    followed : dict
        Your row's labels as :attr:`now` counts them, by row (filled by :meth:`follow`).
    """

    team: Consensus | None = None
    now: Votes | None = None
    followed: dict = field(default_factory=dict)

    def badge_text(self, index: int) -> str | None:
        """``"≠ LSBG 2/3"`` (split; the majority and its votes), ``"≠ tie"``, ``"? LSBG"`` (someone unsure),
        ``"= LSBG"`` (all agree), ``"· LSBG"`` (one label): the votes now, your label as you set it since."""
        index, now = int(index), self.now
        shown = self.shown if self.shown is not None else self.values
        if self.team is None or now is None or np.isnan(shown[index]):
            return None
        adopted = now.adopted[index]
        name = "tie" if np.isnan(adopted) else label_name(adopted, self.team.classes)
        code = int(now.codes[index])
        if code == 0:
            return f"≠ {name}" if np.isnan(adopted) else f"≠ {name} {now.top[index]}/{now.voters[index]}"
        return f"{'?=·'[code - 1]} {name}"

    def follow(self, indices, mine, row: int = 0) -> None:
        """Bring the votes of cutouts ``indices`` up to your labels ``mine`` (N,) now — you are inspector
        ``row`` of the team (the first, "you", beside files) — for the thumbnails and the export; the
        order keeps the votes compared (Compare again). Only the cutouts whose label differs from the one
        last counted are counted again (a reload of every label, 100,000 of a million changed: 44–200 ms)."""
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if self.team is None or self.now is None or self.shown is None or not indices.size:
            return
        if row not in self.followed:  # (setdefault would copy a million labels at every key press)
            self.followed[row] = self.team.labels[row].copy()
        counted = self.followed[row]
        new = np.asarray(mine, dtype=np.float64)[indices]
        old = counted[indices]
        differs = ~((new == old) | (np.isnan(new) & np.isnan(old)))
        indices, new = indices[differs], new[differs]
        if not indices.size:
            return
        counted[indices] = new
        labels = self.team.labels[:, indices].copy()
        labels[row] = new
        part = Consensus(self.team.names, labels, self.team.classes)
        self.shown[indices] = part.ranking().values
        self.now.take(indices, Votes.of(part))


def alpha_of(patterns: np.ndarray, counts: np.ndarray) -> float:
    """Krippendorff's alpha (nominal) of cutouts with vote vectors ``patterns`` (P, C), each ``counts``
    times; only vectors with two or more votes may be given. NaN when undefined."""
    patterns = np.asarray(patterns, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    if not len(patterns) or counts.sum() == 0:
        return float("nan")
    voters = patterns.sum(axis=1)
    weights = counts / (voters - 1)  # each cutout's pairs of values count 1 / (m − 1)
    coincidence = (patterns * weights[:, None]).T @ patterns - np.diag(
        (patterns * weights[:, None]).sum(axis=0)
    )
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    if n <= 1:
        return float("nan")
    observed_off = coincidence.sum() - np.trace(coincidence)
    expected_off = (n_c.sum() ** 2 - (n_c**2).sum()) / (n - 1)
    if expected_off <= 0:
        return float("nan")
    return float(1.0 - observed_off / expected_off)
