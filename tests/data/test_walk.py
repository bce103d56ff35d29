"""Walking a dataset tree: link loops end, no folder is read twice (issue 12.2)."""

from __future__ import annotations

import os
from pathlib import Path

from medaug_dicom.reader import DicomReader, LabelOptions

from medaug.data import DataOptions, load_dataset, scan_dataset
from medaug.data.files import TreeWalk, tree_fingerprint, walk_files
from tests.hardening.corpus import base, png_bytes, write
from tests.hardening.guard import run_medaug, time_limit, tree_state


def _loops(root: Path) -> Path:
    base(root)
    os.symlink(".", root / "a" / "s1")
    os.symlink(".", root / "a" / "s2")
    return root


def test_self_links_in_a_class_folder_do_not_hang_any_command(tmp_path: Path) -> None:
    """Two ``s -> .`` links made every command walk 2**depth paths (the fingerprint
    followed links); now they are skipped as loops. A real process under a timeout."""
    root = _loops(tmp_path / "data")
    before = tree_state(root)
    outcome = run_medaug(["inspect", str(root), "--json", "--workers", "1"], timeout=120)
    assert outcome.code == 0, outcome.stderr
    assert outcome.report["classes"] == {"a": 2, "b": 2}
    assert outcome.skipped == {
        "a/s1": "symbolic link loop (points to the folder holding it or one above)",
        "a/s2": "symbolic link loop (points to the folder holding it or one above)",
    }
    assert tree_state(root) == before


def test_every_walk_ends_on_loops(tmp_path: Path) -> None:
    root = _loops(tmp_path / "data")
    os.symlink("..", root / "b" / "up")
    os.symlink("self", root / "b" / "self")  # a link to itself
    os.symlink(".", root / "loop")
    with time_limit(30):
        fingerprint = tree_fingerprint(root)
        files = dict(walk_files(root))
        scan = scan_dataset(root, options=DataOptions(reader="folder"))
        dicom_walk = DicomReader(labelling=LabelOptions(label_tag="PatientID")).scan(root).skipped
    assert fingerprint == tree_fingerprint(root)
    assert files[root / "b" / "self"] == "symbolic link loop (the link leads back to itself)"
    assert {p.name for p, r in files.items() if r and "loop" in r} == {
        "s1",
        "s2",
        "up",
        "self",
        "loop",
    }
    assert scan.counts() == {"a": 2, "b": 2}
    assert {s.path.name for s in dicom_walk if "loop" in s.reason} == {
        "s1",
        "s2",
        "up",
        "self",
        "loop",
    }


def test_links_into_the_dataset_are_not_read_twice(tmp_path: Path) -> None:
    root = base(tmp_path / "data")
    os.symlink(root / "b", root / "a" / "b-again")  # absolute link to a sibling class
    os.symlink("a", root / "c")  # a class folder that is another class
    scan = scan_dataset(root)
    assert scan.counts() == {"a": 2, "b": 2}
    reasons = {s.path.relative_to(root).as_posix(): s.reason for s in scan.skipped}
    assert reasons["a/b-again"].startswith("link to a folder inside the dataset")
    assert reasons["c"].startswith("link to a folder inside the dataset")


def test_links_out_of_the_dataset_are_followed_once(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    write(shared / "x.png", png_bytes())
    write(shared / "y.png", png_bytes())
    root = base(tmp_path / "data")
    os.symlink(shared, root / "a" / "more")
    os.symlink(shared, root / "b" / "same-again")
    os.symlink(tmp_path / "elsewhere", root / "b" / "broken")
    ds = load_dataset(root, image_size=16, progress=False, options=DataOptions(workers=1))
    assert ds.counts() == {"a": 4, "b": 2}
    reasons = {s.path.relative_to(root).as_posix(): s.reason for s in ds.skipped}
    assert reasons == {
        "b/same-again": "link to a folder already read through another link",
        "b/broken": "broken symbolic link (No such file or directory)",
    }
    # a change behind the followed link changes the fingerprint, so cached scans renew
    before = tree_fingerprint(root)
    write(shared / "z.png", png_bytes())
    assert tree_fingerprint(root) != before
    assert scan_dataset(root).counts() == {"a": 5, "b": 2}


def test_one_walk_enters_each_folder_once(tmp_path: Path) -> None:
    root = base(tmp_path / "data")
    walk = TreeWalk(root)
    first = list(walk_files(root / "a", walk=walk))
    again = list(walk_files(root / "a", walk=walk))
    assert [p.name for p, _ in first] == ["good0.png", "good1.png"]
    assert again == [
        (root / "a", "folder already read (the same folder is mounted or linked twice)")
    ]
