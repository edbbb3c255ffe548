"""Each cutout's counterpart in another collection of the same objects: by id, sky position or order."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.collection import ArrayCollection
from galview.core.pairing import Pairing, pair_by_id, pair_by_order, pair_collections


def collection(n, *, ids=None, ra=None, dec=None, name="a.npz"):
    images = np.zeros((n, 4, 4, 1), np.uint8)
    return ArrayCollection(name, images, "NHWC", ids=ids, ra=ra, dec=dec)


def test_ids_pair_exactly_and_the_first_of_a_repeated_id_wins():
    found = pair_by_id(["b", "a", "x", "c"], ["a", "b", "c", "b"])
    assert found.tolist() == [1, 0, -1, 2]


def test_order_pairs_cutout_k_with_cutout_k_up_to_the_shorter_file():
    assert pair_by_order(4, 3).tolist() == [0, 1, 2, -1]


def test_auto_takes_ids_when_most_are_shared():
    ours = collection(4, ids=["LSBG-1", "LSBG-2", "LSBG-3", "LSBG-4"])
    theirs = collection(5, ids=["LSBG-4", "x", "LSBG-2", "LSBG-1", "LSBG-3"], name="hsc.npz")
    pairing = pair_collections(ours, theirs)
    assert pairing.by == "id" and pairing.other_index.tolist() == [3, 2, 4, 0]
    assert pairing.summary("hsc.npz") == "4 of 4 cutouts have a counterpart in hsc.npz, paired by id"
    assert pairing.describe(1, theirs.ids) == "#2 (LSBG-2)"


def test_auto_takes_positions_when_the_ids_differ_and_says_how_far():
    ra, dec = np.array([10.0, 20.0, 359.9999, np.nan]), np.array([-5.0, 30.0, 0.0, 1.0])
    ours = collection(4, ids=["a", "b", "c", "d"], ra=ra, dec=dec)
    # the other survey's cutouts of the same objects, shuffled, 0.5″ off in Dec; one object missing
    theirs = collection(
        3, ids=["p", "q", "r"], ra=[0.0001, 10.0, 50.0], dec=[0.5 / 3600, -5.0 + 0.5 / 3600, 0.0]
    )
    pairing = pair_collections(ours, theirs, radius_arcsec=2)
    assert pairing.by == "position" and pairing.other_index.tolist() == [1, -1, 0, -1]
    assert pairing.describe(0, theirs.ids) == "#1 (q) · 0.50″"
    assert pairing.describe(1, theirs.ids) == "none within 2″"
    assert pairing.separation_arcsec[2] == pytest.approx(np.hypot(0.72, 0.5), abs=0.01)  # across RA 0


def test_auto_pairs_by_order_only_files_that_give_no_ids():
    pairing = pair_collections(collection(3), collection(3, name="b.npz"))
    assert pairing.by == "order" and pairing.other_index.tolist() == [0, 1, 2]
    assert "by order" in pairing.summary("b.npz")
    with pytest.raises(ValueError, match="share 0% of their ids"):  # other objects: never paired by order
        pair_collections(collection(2, ids=["a", "b"]), collection(2, ids=["c", "d"]))
    with pytest.raises(ValueError, match="hold 3 and 4 cutouts"):
        pair_collections(collection(3), collection(4))


def test_a_way_of_pairing_the_files_cannot_take_is_refused_saying_what_is_missing():
    with pytest.raises(ValueError, match="both files must give ids"):
        pair_collections(collection(2, ids=["a", "b"]), collection(2), by="id")
    with pytest.raises(ValueError, match="a.npz has no sky positions"):
        pair_collections(collection(2), collection(2, ra=[1, 2], dec=[1, 2]), by="position")
    with pytest.raises(ValueError, match="pair by one of auto, id, position, order"):
        pair_collections(collection(2), collection(2), by="name")
    assert Pairing(np.array([-1]), "order").describe(0, []) == "none (the other file is shorter)"


def test_auto_takes_ids_when_the_other_file_holds_a_few_of_the_objects_only():
    ours = collection(12, ids=[f"LSBG-{i}" for i in range(12)])
    deeper = collection(3, ids=["LSBG-8", "LSBG-2", "elsewhere"], name="deep.npz")
    pairing = pair_collections(ours, deeper)  # 2 of the smaller file's 3 ids: paired by id
    assert pairing.by == "id" and pairing.paired == 2 and pairing.other_index[8] == 0
