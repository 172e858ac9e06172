"""User matrices (`file:PATH`): tags inferred only when a row needs them and kept in the cache
folder by the matrix's fingerprint, progress lines for large matrices, one clear error (and no
warning) for a bad file, and .mtx, .csv and .png files through a whole run."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse
from conftest import instance_id, instances

from nnbench.api import Grid, run_grid
from nnbench.cli import main
from nnbench.corpus import (
    MATRIX_FAMILIES,
    TAG_CHECKS,
    file_family,
    files,
    infer_tags,
    inferred,
    select_matrices,
)
from nnbench.corpus.inferred import InferredTags, cache_folder, listed_tags
from nnbench.corpus.tags import FACTORING_TAGS
from nnbench.errors import NNBenchError

INFERRED = [t for t in TAG_CHECKS if t != "image"]  # `image` is given by the file type
CHEAP = [t for t in INFERRED if t not in FACTORING_TAGS]  # one pass over the entries


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tag cache in the test's own folder, never the user's."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("NNBENCH_CACHE", str(folder))
    return folder


@pytest.fixture
def checks_run(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tags whose check ran, in order; the checks themselves unchanged."""
    ran: list[str] = []
    for tag, check in list(TAG_CHECKS.items()):

        def counted(a: np.ndarray, tag: str = tag, check=check) -> bool:
            ran.append(tag)
            return check(a)

        monkeypatch.setitem(TAG_CHECKS, tag, counted)
    return ran


def _spd(n: int) -> np.ndarray:
    """Large enough (n >= 256) for its tags to be kept on disk."""
    g = np.random.default_rng(n).standard_normal((n, n))
    return g @ g.T / n + np.eye(n)


def _saved(path: Path, a: np.ndarray) -> str:
    np.save(path, a)
    return str(path)


def test_loading_a_file_checks_no_tag(tmp_path, checks_run):
    """Failed before: loading inferred every tag (a 6000 x 6000 file: 100 s), needed or not."""
    family = file_family(_saved(tmp_path / "a.npy", _spd(256)))
    assert checks_run == []
    assert "image" not in family.tags and checks_run == []  # given by the file type
    assert "square" in family.tags and checks_run == ["square"]  # one tag: its check only
    assert set(family.tags) == {"square", "symmetric", "spd"}
    assert sorted(checks_run) == sorted(INFERRED)  # each check once


def test_a_run_served_by_its_results_folder_checks_no_tag(tmp_path, checks_run):
    """Failed before: a re-run with every cell cached inferred every tag again (1 min 51 s)."""
    grid = Grid(matrices=(f"file:{_saved(tmp_path / 'a.npy', _spd(256))}",), methods=("scipy-lu",))
    first = run_grid(grid, out=tmp_path / "out")
    assert sorted(checks_run) == sorted(CHEAP)  # scipy-lu needs no factorizing tag
    assert first.results.tags.item() == "square,symmetric"
    checks_run.clear()
    again = run_grid(grid, out=tmp_path / "out")
    assert again.provenance["cached_cells"] == 1 and checks_run == []


def test_tags_are_kept_on_disk_by_the_matrix_fingerprint(tmp_path, cache, checks_run):
    """Failed before: a new run (a new process) inferred the tags of the same file again."""
    a, path = _spd(256), tmp_path / "a.npy"
    family = file_family(_saved(path, a))
    tags = set(family.tags)
    assert (cache / "tags" / f"{family.fingerprint}.json").is_file()
    checks_run.clear()
    assert set(file_family(str(path)).tags) == tags and checks_run == []  # read, not checked
    a[0, 1] += 1.0  # edited: another fingerprint, checked afresh
    edited = file_family(_saved(path, a))
    assert "symmetric" not in edited.tags and checks_run == ["symmetric"]


def test_tags_cached_by_other_checks_or_torn_are_checked_again(tmp_path, cache, monkeypatch):
    path = _saved(tmp_path / "a.npy", _spd(256))
    family = file_family(path)
    stored = cache / "tags" / f"{family.fingerprint}.json"
    stored.parent.mkdir(parents=True)
    stored.write_text('{"checks": "old", "tags": {"spd": false, "square": true}}')
    assert "spd" in file_family(path).tags
    stored.write_text('{"checks": ')  # a torn file
    assert "spd" in file_family(path).tags
    assert '"spd": true' in stored.read_text()


def test_small_matrices_keep_their_tags_in_memory_only(tmp_path, cache):
    family = file_family(_saved(tmp_path / "a.npy", np.eye(3)))
    assert {"identity", "spd", "diagonal"} <= set(family.tags)
    assert not cache.exists()


def test_a_cache_that_cannot_be_written_costs_nothing_but_the_checks(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("NNBENCH_CACHE", str(tmp_path / "file" / "cache"))  # under a file
    assert "spd" in file_family(_saved(tmp_path / "a.npy", _spd(256))).tags


def test_cache_folder_follows_nnbench_cache_then_xdg_then_home(tmp_path, monkeypatch):
    assert cache_folder() == tmp_path / "cache"
    monkeypatch.delenv("NNBENCH_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_folder() == tmp_path / "xdg" / "nnbench"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_folder() == tmp_path / "home" / ".cache" / "nnbench"


@pytest.mark.parametrize("item", instances(), ids=instance_id)
def test_inferred_tags_are_the_checks_verdicts(item):
    """As a set and tag by tag, what `infer_tags` (every check at once) finds."""
    family, n = item
    a = family.make(n, seed=0)
    expected = infer_tags(a)
    tags = InferredTags(a, fingerprint="f", label=family.name)
    assert all((tag in tags) == (tag in expected) for tag in INFERRED)
    assert set(tags) == expected and len(tags) == len(expected) and "nonsense" not in tags
    picture = InferredTags(a, fingerprint="f", label=family.name, given={"image"})
    assert set(picture) == expected | {"image"} and picture != tags


def test_a_file_family_travels_to_workers_with_its_tags(tmp_path):
    family = file_family(_saved(tmp_path / "a.npy", np.diag([2.0, 1.0, 0.0])))
    clone = pickle.loads(pickle.dumps(family))
    assert clone.tags == family.tags and hash(clone.tags) == hash(family.tags)
    assert set(clone.tags) == {"square", "symmetric", "diagonal", "singular"}


def test_large_matrices_say_what_their_preparation_costs(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(files, "PROGRESS_MIN_ENTRIES", 16)  # 8 x 8 counts as large here
    monkeypatch.setattr(inferred, "PROGRESS_MIN_ENTRIES", 16)
    path = _saved(tmp_path / "my.npy", _spd(8))
    family = select_matrices(f"file:{path}")[0]
    assert capsys.readouterr().err == f"reading {path} (8x8) ...\n"
    sorted(family.tags)
    each = ", ".join(rf"{tag} \d+\.\d s" for tag in INFERRED)  # each check's time, in order
    line = rf"inferring tags of {re.escape(path)}: {each}\n"
    assert re.fullmatch(line, capsys.readouterr().err)
    csv = tmp_path / "my.csv"
    np.savetxt(csv, _spd(8), delimiter=",")
    select_matrices(f"file:{csv}")
    assert re.fullmatch(
        rf"reading {re.escape(str(csv))} \(0 MB\) \.\.\.\n", capsys.readouterr().err
    )


def test_small_matrices_print_nothing(tmp_path, capsys):
    family = select_matrices(f"file:{_saved(tmp_path / 'a.npy', _spd(8))}")[0]
    sorted(family.tags)
    assert capsys.readouterr().err == ""


def _bad_file(tmp_path: Path, case: str) -> Path:
    if case == "empty-csv":
        path = tmp_path / "e.csv"
        path.write_text("")
    elif case == "blank-csv":
        path = tmp_path / "b.csv"
        path.write_text("\n\n")
    elif case == "folder":
        path = tmp_path / "x.npy"
        path.mkdir()
    else:
        path = tmp_path / "cube.npy"
        np.save(path, np.zeros((2, 3, 4)))
    return path


BAD_FILES = {
    "empty-csv": r"matrix '.*e\.csv' is empty \(shape \(0, 0\)\); give a non-empty matrix",
    "blank-csv": r"matrix '.*b\.csv' is empty",
    "folder": r"matrix file '.*x\.npy' is a folder; give the path of a \.npy file",
    "3-D": (
        r"matrix '.*cube\.npy' has 3 dimensions \(shape \(2, 3, 4\)\) and a matrix needs 2; "
        r"give one 2-D array"
    ),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_file_is_one_clear_error_without_warnings(tmp_path, recwarn, case):
    """Failed before: an empty CSV also printed numpy's warning, a folder named x.npy 'did not
    exist', and a 3-D array was told to reshape a vector."""
    path = _bad_file(tmp_path, case)
    with pytest.raises(NNBenchError, match=BAD_FILES[case]) as err:
        select_matrices(f"file:{path}")
    assert "\n" not in str(err.value)
    assert "does not exist" not in str(err.value) and "vector" not in str(err.value)
    assert not recwarn.list, [str(w.message) for w in recwarn.list]


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_file_on_the_command_line_is_one_line(tmp_path, recwarn, capsys, case):
    path, out = _bad_file(tmp_path, case), tmp_path / "out"
    assert main(["run", "--matrices", f"file:{path}", "--no-progress", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.search(BAD_FILES[case], err), err
    assert not recwarn.list and not out.exists()


def _matrix_file(tmp_path: Path, suffix: str) -> tuple[Path, np.ndarray]:
    """A 12 x 12 nonsingular matrix in a file of that type, and the matrix it holds."""
    rng = np.random.default_rng(5)
    path = tmp_path / f"m{suffix}"
    if suffix == ".mtx":
        sparse = scipy.sparse.random(12, 12, density=0.3, random_state=rng)
        sparse = sparse + 4 * scipy.sparse.eye(12)
        scipy.io.mmwrite(path, scipy.sparse.coo_matrix(sparse))
        return path, sparse.toarray()
    if suffix == ".csv":
        a = rng.standard_normal((12, 12))
        np.savetxt(path, a, delimiter=",")
        return path, a
    from skimage.io import imsave

    pixels = rng.integers(0, 256, size=(12, 12), dtype=np.uint8)
    imsave(path, pixels, check_contrast=False)
    return path, pixels / 255.0


@pytest.mark.parametrize("suffix", [".mtx", ".csv", ".png"])
def test_file_matrices_run_end_to_end(tmp_path, suffix):
    path, a = _matrix_file(tmp_path, suffix)
    grid = Grid(matrices=(f"file:{path}",), methods=("scipy-lu", "scipy-tsvd"), ranks=(2,))
    res = run_grid(grid, out=tmp_path / "out")
    df = res.results.set_index("method")
    assert list(df.status) == ["ok", "ok"], df.reason.tolist()
    assert (df.n_rows == 12).all() and (df.matrix == f"file:{path}").all()
    assert df.loc["scipy-lu", "rel_err_fro"] < 1e-13
    assert df.loc["scipy-tsvd", "ratio_fro"] == pytest.approx(1.0, abs=1e-9)
    tags = set(df.loc["scipy-lu", "tags"].split(","))
    assert "square" in tags and ("image" in tags) == (suffix == ".png")
    np.testing.assert_allclose(select_matrices(f"file:{path}")[0].make(), a, rtol=1e-12, atol=0)
    image_artifacts = [x for x in res.artifacts.values() if x.picture is not None]
    assert len(image_artifacts) == (suffix == ".png")  # the rank-k cell on a picture


def _refuse(monkeypatch: pytest.MonkeyPatch, *tags: str) -> None:
    """These tags' checks raise: a run that asks for one fails loudly."""
    for tag in tags:

        def refused(a: object, tag: str = tag) -> bool:
            raise AssertionError(f"{tag} was checked")

        monkeypatch.setitem(TAG_CHECKS, tag, refused)


def test_sparse_preconditioners_on_an_spd_file_check_spd_and_never_pivoting(
    tmp_path, monkeypatch, capsys
):
    """Failed before: every row listed every tag, so a run of cg-jacobi on an SPD .mtx of
    n = 18,000 spent 240 s on `needs_pivoting` (an LU in natural order) that no
    preconditioner needs. Now a row checks the cheap tags and those its method names."""
    monkeypatch.setattr(inferred, "PROGRESS_MIN_ENTRIES", 16)
    path = tmp_path / "mesh.mtx"
    scipy.io.mmwrite(path, MATRIX_FAMILIES["mesh-square-refined"].make(3000, seed=1))
    _refuse(monkeypatch, "needs_pivoting", "singular")
    grid = Grid(matrices=(f"file:{path}",), methods=("cg-jacobi", "sparse-ic0", "amg"))
    rows = run_grid(grid).results
    assert list(rows.status) == ["ok"] * 3, rows.reason.tolist()
    assert set(rows.tags) == {"spd,square,symmetric"}
    err = capsys.readouterr().err
    assert re.search(r"inferring tags of .*mesh\.mtx: .*spd \d+\.\d s", err), err


def test_a_row_lists_the_cheap_tags_and_those_its_method_needs(tmp_path, checks_run):
    family = file_family(_saved(tmp_path / "a.npy", np.diag([2.0, 1.0, 0.0])))
    assert listed_tags(family.tags, ()) == ["diagonal", "square", "symmetric"]
    assert sorted(checks_run) == sorted(CHEAP)
    assert listed_tags(family.tags, {"singular"}) == ["diagonal", "singular", "square", "symmetric"]
    assert checks_run[len(CHEAP) :] == ["singular"]  # the cheap ones not checked again
    generated = MATRIX_FAMILIES["spd"]
    assert listed_tags(generated.tags, ()) == sorted(generated.tags)  # declared: all listed
