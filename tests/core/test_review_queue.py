"""The review queue: order kept, no repeats, a ranking, and its file."""

import numpy as np
import pytest

from galview.core.errors import UserFacingError
from galview.core.review_queue import REVIEW, ReviewQueue
from galview.io.review_files import load_queue, queue_path, save_queue


def test_sent_cutouts_keep_their_order_and_come_first():
    queue = ReviewQueue().added([5, 2]).added([2, 7])
    assert queue.indices == (5, 2, 7) and queue.removed([2]).indices == (5, 7)
    ranking = queue.ranking(10)
    assert ranking.name == REVIEW and ranking.title == "review queue (3 cutouts)" and not ranking.descending
    np.testing.assert_array_equal(ranking.values[[5, 2, 7]], [0, 1, 2])
    assert np.isnan(np.delete(ranking.values, [5, 2, 7])).all()


def test_the_queue_is_kept_per_collection_and_a_bad_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("GALVIEW_HOME", str(tmp_path))
    fingerprint = "10×8×8×3 uint8 #abc"
    assert load_queue(fingerprint, 10).indices == ()
    path = save_queue(fingerprint, ReviewQueue((4, 1)))
    assert path == queue_path(fingerprint) and path.is_file()
    assert load_queue(fingerprint, 10).indices == (4, 1)
    with pytest.raises(UserFacingError, match="is not a review queue of this collection"):
        load_queue(fingerprint, 3)  # an index beyond the collection
    path.write_text('{"fingerprint": "another", "indices": [1]}')
    with pytest.raises(UserFacingError, match=str(path.name)):
        load_queue(fingerprint, 10)
    path.write_text("not json")
    with pytest.raises(UserFacingError):
        load_queue(fingerprint, 10)
    save_queue(fingerprint, ReviewQueue())  # empty: no file
    assert not path.exists()
