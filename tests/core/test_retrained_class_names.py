"""What a model retrained on a collection's labels calls its classes."""

from galview.core.label_values import retrained_class_names

LSBG = ("artifact", "LSBG")


def test_the_collection_names_a_new_task():
    names, note = retrained_class_names(LSBG, ("no ring", "ring"))
    assert names == ("no ring", "ring")
    assert note.startswith("classes: no ring, ring, the collection's") and "artifact, LSBG" in note


def test_otherwise_the_model_keeps_its_names():
    for collection_names in (None, (), LSBG, ("a", "b", "c")):  # unnamed, the same, another count
        assert retrained_class_names(LSBG, collection_names) == (LSBG, None)
