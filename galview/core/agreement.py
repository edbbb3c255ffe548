"""Two inspectors' labels of one collection side by side: how often they agree, and where they do not.

LSBG catalogues are built by several people looking at the same candidates; where two of them
differ is where a third look pays most. :class:`Agreement` takes both sets of labels (class index,
:data:`~galview.core.label_values.UNSURE`, or NaN for none) and gives the confusion matrix, the
share of agreement, Cohen's kappa (agreement beyond what the two inspectors' class frequencies give
by chance) with a bootstrap interval, and a ranking that puts the disagreements first. Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from galview.core.label_values import DEFAULT_CLASSES, UNSURE, label_name
from galview.core.rankings import Ranking
from galview.core.words import count

#: Name of the disagreement ranking in ``ViewerState.rankings``.
RANKING = "inspector"
#: Ranking values: the two inspectors give different classes, one is unsure, both say the same.
DIFFERENT, ONE_UNSURE, SAME = 2.0, 1.0, 0.0
#: The thumbnails' mark before the other inspector's label, by ranking value; the ranking's badge.
MARKS = {DIFFERENT: "≠", ONE_UNSURE: "?", SAME: "="}
BADGE = "≠"


@dataclass(frozen=True, eq=False)
class OtherLabels:
    """Labels another inspector gave the collection's cutouts.

    Attributes
    ----------
    path : Path
        Their file (for the people of one store: the store).
    values : ndarray, (N,) float64
        Class index, -1 (unsure), or NaN where they set no label.
    users : tuple of str
        Who set them, where the file says (a store's history); empty for a CSV file.
    person : str
        For the people of one shared store: the user they are (then their name); empty for a file.
    notes : dict of int to str
        Their notes on cutouts, by index (their store's, or a CSV file's ``note`` column); empty for the
        people of one store, whose notes are the store's own.
    """

    path: Path
    values: np.ndarray
    users: tuple[str, ...] = ()
    person: str = ""
    notes: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        """How they are called in tables and messages: the person, else their file's name."""
        return self.person or self.path.name

    @property
    def description(self) -> str:
        """Their file and, where it says, who labelled: ``"bob.labels.sqlite (labelled by bob)"``."""
        return f"{self.name} (labelled by {', '.join(self.users)})" if self.users else self.name

    @property
    def labelled(self) -> int:
        """How many cutouts they labelled (a class or unsure)."""
        return int(np.isfinite(self.values).sum())


def agreement_codes(mine, theirs) -> np.ndarray:
    """(N,) float64: :data:`DIFFERENT` where two inspectors gave different classes, :data:`ONE_UNSURE`
    where one gave a class and the other said unsure, :data:`SAME` where both said the same (unsure
    too), NaN where either gave no label."""
    mine, theirs = np.asarray(mine, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    codes = np.full(mine.shape, np.nan)
    codes[np.isfinite(mine) & np.isfinite(theirs)] = SAME
    codes[((mine == UNSURE) & (theirs >= 0)) | ((theirs == UNSURE) & (mine >= 0))] = ONE_UNSURE
    codes[(mine >= 0) & (theirs >= 0) & (mine != theirs)] = DIFFERENT
    return codes


@dataclass(frozen=True, eq=False)
class AgreementRanking(Ranking):
    """Disagreements first (:meth:`Agreement.ranking`); each thumbnail shows the other inspector's label.

    Attributes
    ----------
    theirs : ndarray, (N,) float64
        The other inspector's labels (NaN: none).
    classes : tuple of str
        Class names by label value.
    """

    theirs: np.ndarray | None = None
    classes: tuple[str, ...] = DEFAULT_CLASSES

    def badge_text(self, index: int) -> str | None:
        """``"≠ artifact"`` (they gave another class), ``"? LSBG"`` (one of you unsure), ``"= LSBG"``: where
        you stand now (:meth:`follow`), whatever the order says."""
        value = self.now[int(index)]
        if np.isnan(value) or self.theirs is None:
            return None
        return f"{MARKS[float(value)]} {label_name(self.theirs[int(index)], self.classes)}"

    @property
    def now(self) -> np.ndarray:
        """(N,) float64: each cutout's code as you label now (the thumbnails' and the export's); the
        order keeps the codes of the comparison."""
        return self.shown if self.shown is not None else self.values

    def follow(self, indices, mine, theirs=None) -> None:
        """Bring the codes of cutouts ``indices`` up to your labels ``mine`` (N,) now: a disagreement you
        settled shows "=" at once, where the comparison put it (Compare again re-sorts). ``theirs`` (N,),
        when given, replaces the other inspector's labels of those cutouts first (you are the second of
        two people of one store)."""
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if self.shown is not None and self.theirs is not None and indices.size:
            if theirs is not None:
                self.theirs[indices] = np.asarray(theirs, dtype=np.float64)[indices]
            mine = np.asarray(mine, dtype=np.float64)[indices]
            self.shown[indices] = agreement_codes(mine, self.theirs[indices])

    @property
    def their_names(self) -> np.ndarray:
        """(N,) object: the other inspector's label of each cutout by name ("" where none), for the
        exported grid."""
        theirs = self.theirs if self.theirs is not None else np.full(len(self.values), np.nan)
        return np.array(["" if np.isnan(v) else label_name(v, self.classes) for v in theirs], dtype=object)


@dataclass(frozen=True, eq=False)
class Agreement:
    """The labels of two inspectors of the same cutouts.

    Attributes
    ----------
    mine, theirs : ndarray, (N,) float64
        Class index, ``UNSURE`` (-1), or NaN where that inspector gave no label.
    classes : tuple of str
        Class names by label value.
    """

    mine: np.ndarray
    theirs: np.ndarray
    classes: tuple[str, ...] = DEFAULT_CLASSES

    def __post_init__(self):
        mine = np.asarray(self.mine, dtype=np.float64).reshape(-1)
        theirs = np.asarray(self.theirs, dtype=np.float64).reshape(-1)
        if mine.shape != theirs.shape:
            raise ValueError(f"{len(mine)} labels against {len(theirs)}: both must label the same cutouts")
        object.__setattr__(self, "mine", mine)
        object.__setattr__(self, "theirs", theirs)
        object.__setattr__(self, "classes", tuple(self.classes))

    # -- who labelled what ----------------------------------------------------------------------
    @cached_property
    def both(self) -> np.ndarray:
        """(N,) bool: both gave a class (not unsure)."""
        return (self.mine >= 0) & (self.theirs >= 0)

    @cached_property
    def codes(self) -> np.ndarray:
        """(N,) float64: :func:`agreement_codes` of the two (different, one unsure, the same, NaN)."""
        return agreement_codes(self.mine, self.theirs)

    @cached_property
    def one_unsure(self) -> np.ndarray:
        """(N,) bool: one said unsure, the other gave a class."""
        return self.codes == ONE_UNSURE

    @property
    def both_unsure(self) -> int:
        """Cutouts both called unsure."""
        return int(((self.mine == UNSURE) & (self.theirs == UNSURE)).sum())

    @property
    def only_mine(self) -> int:
        """Cutouts only the first inspector labelled (a class or unsure)."""
        return int((np.isfinite(self.mine) & np.isnan(self.theirs)).sum())

    @property
    def only_theirs(self) -> int:
        """Cutouts only the second inspector labelled."""
        return int((np.isnan(self.mine) & np.isfinite(self.theirs)).sum())

    @cached_property
    def disagreements(self) -> np.ndarray:
        """Indices of the cutouts given different classes, in index order."""
        return np.flatnonzero(self.codes == DIFFERENT)

    # -- how often they agree -------------------------------------------------------------------
    @property
    def n_both(self) -> int:
        """Cutouts both gave a class."""
        return int(self.both.sum())

    @property
    def n_agree(self) -> int:
        """Cutouts both gave the same class."""
        return self.n_both - len(self.disagreements)

    @property
    def observed(self) -> float:
        """Share of the cutouts both labelled with a class on which they agree (NaN: none)."""
        return self.n_agree / self.n_both if self.n_both else float("nan")

    @cached_property
    def confusion(self) -> np.ndarray:
        """(C, C) int64: rows the first inspector's class, columns the second's (cutouts both labelled)."""
        mine, theirs = self.mine[self.both].astype(np.int64), self.theirs[self.both].astype(np.int64)
        size = max(len(self.classes), int(mine.max(initial=-1)) + 1, int(theirs.max(initial=-1)) + 1)
        table = np.zeros((size, size), dtype=np.int64)
        np.add.at(table, (mine, theirs), 1)
        return table

    @property
    def kappa(self) -> float:
        """Cohen's kappa of the cutouts both labelled (NaN when undefined: none, or both always
        gave the same one class, so chance alone agrees)."""
        return kappa_of(self.confusion)

    def kappa_interval(
        self, resamples: int = 2000, seed: int = 0, level: float = 0.95
    ) -> tuple[float, float]:
        """Bootstrap interval of :attr:`kappa` over the cutouts both labelled.

        Resampling cutouts with replacement is drawing the confusion matrix's cells from a
        multinomial with the observed shares, so this costs the same for ten cutouts or a million.
        """
        table = self.confusion
        return multinomial_interval(
            table.reshape(-1), lambda cells: kappa_of(cells.reshape(table.shape)), resamples, seed, level
        )

    # -- for the grid and for people ------------------------------------------------------------
    def ranking(self, other_name: str, title: str | None = None) -> Ranking:
        """Disagreements first (:func:`agreement_codes`); cutouts not labelled by both go last."""
        values = self.codes.copy()
        return AgreementRanking(
            RANKING, title or f"disagreements with {other_name} first", values, descending=True, badge=BADGE,
            shown=values.copy(), theirs=self.theirs, classes=self.classes,
        )  # fmt: skip

    def status_of(self, index: int) -> str:
        """``"agree"``, ``"disagree"``, ``"unsure"`` (one unsure), ``"both unsure"``, ``"only mine"``,
        ``"only theirs"`` or ``"neither"`` for one cutout."""
        mine, theirs = self.mine[index], self.theirs[index]
        if np.isnan(mine) and np.isnan(theirs):
            return "neither"
        if np.isnan(theirs):
            return "only mine"
        if np.isnan(mine):
            return "only theirs"
        if mine == theirs:
            return "both unsure" if mine == UNSURE else "agree"
        return "unsure" if UNSURE in (mine, theirs) else "disagree"

    def summary(self, other_name: str, mine_name: str = "you") -> str:
        """One line: "412 cutouts labelled by both: agree on 380 (92.2%), Cohen's κ 0.84 [0.79, 0.88]"."""
        if not self.n_both:
            return (
                f"No cutout has a class from both {mine_name} and {other_name} "
                f"({mine_name}: {self.labelled(self.mine):,} labelled, {other_name}: {self.labelled(self.theirs):,})"
            )
        kappa = estimate_text(self.kappa, self.kappa_interval())
        return (
            f"{count(self.n_both, 'cutout')} given a class by both {mine_name} and {other_name}: agree on "
            f"{self.n_agree:,} ({100 * self.observed:.1f}%), Cohen's κ {kappa}; "
            f"{len(self.disagreements):,} disagree"
        )

    def table_lines(self, other_name: str, mine_name: str = "you") -> list[str]:
        """The confusion matrix as aligned text lines (rows ``mine_name``, columns ``other_name``)."""
        table = self.confusion
        names = [label_name(k, self.classes) for k in range(len(table))]
        width = max([len(n) for n in names] + [len(f"{table.max(initial=0):,}")]) + 2
        head = " " * (len(mine_name) + max(len(n) for n in names) + 3)
        lines = [head + f"{other_name}:"]
        lines.append(head + "".join(n.rjust(width) for n in names))
        for k, name in enumerate(names):
            cells = "".join(f"{v:,}".rjust(width) for v in table[k])
            lines.append(f"{mine_name}: {name.ljust(max(len(n) for n in names))} " + cells)
        return lines

    @staticmethod
    def labelled(values: np.ndarray) -> int:
        """How many cutouts have a label (a class or unsure) in ``values``."""
        return int(np.isfinite(values).sum())


def kappa_of(table: np.ndarray) -> float:
    """Cohen's kappa of a (C, C) confusion matrix of counts; NaN when there are none, or when chance
    alone gives full agreement (both inspectors used one and the same class)."""
    table = np.asarray(table, dtype=np.float64)
    n = table.sum()
    if n <= 0:
        return float("nan")
    observed = np.trace(table) / n
    expected = float((table.sum(axis=1) * table.sum(axis=0)).sum()) / n**2
    if expected >= 1.0:
        return float("nan")
    return float((observed - expected) / (1.0 - expected))


def inspector_names(paths) -> list[str]:
    """What to call the inspectors whose labels are in ``paths``: each file's name; where two share a name,
    with its folder's ("bob/c.npz.labels.sqlite"); where that is shared too, the whole path."""
    paths = [Path(path) for path in paths]
    names = [path.name for path in paths]
    longer = [f"{path.parent.name}/{path.name}" for path in paths]
    return [
        name if names.count(name) == 1 else (folder if longer.count(folder) == 1 else str(path))
        for name, folder, path in zip(names, longer, paths, strict=True)
    ]


def multinomial_interval(counts, statistic, resamples: int = 2000, seed: int = 0, level: float = 0.95):
    """Bootstrap interval of ``statistic(counts)`` where resampling the units is drawing ``counts`` (K,)
    anew from a multinomial with their observed shares (cells of a confusion matrix, cutouts with the
    same votes). Draws whose statistic is undefined (NaN) are left out; (NaN, NaN) when all are."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return float("nan"), float("nan")
    draws = np.random.default_rng(seed).multinomial(total, counts / total, size=resamples)
    values = np.array([statistic(draw) for draw in draws])
    values = values[np.isfinite(values)]
    if not len(values):
        return float("nan"), float("nan")
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def estimate_text(value: float, interval: tuple[float, float]) -> str:
    """``"0.84 [0.79, 0.88]"``, or ``"undefined (one class only)"`` for NaN."""
    if np.isnan(value):
        return "undefined (one class only)"
    return f"{value:.2f} [{interval[0]:.2f}, {interval[1]:.2f}]"
