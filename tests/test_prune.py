"""Pruning a results folder for committing (`nnbench report --prune`) keeps exactly what the
report draws: the same figures, tables and known answers come out of the pruned folder, and
pruning twice changes nothing (issue 23: committed reports rebuild from what is in git)."""

from __future__ import annotations

import shutil

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import on_quick_run

from nnbench.cli import main
from nnbench.report.figures import image_panels, loss_curves, panel_cells
from nnbench.report.prune import CURVE_POINTS, drawn_artifacts, prune_results, thin_curves
from nnbench.report.spec import Missing
from nnbench.report.tables import spectra
from nnbench.results import load_results
from nnbench.results.artifact import FIELDS, Artifact, read_artifact
from nnbench.studies import report_sections
from nnbench.studies.worked import study004_rows

pytestmark = on_quick_run("quick")  # the `pruned` fixture reads the quick run


def test_grey_levels_round_trip_within_half_a_level(tmp_path, rng):
    original = rng.uniform(0, 255, (30, 20)).astype(np.float32)
    approx = original + rng.normal(0, 30, original.shape).astype(np.float32)
    whole = Artifact(picture=original, approx_picture=approx, sigma=np.arange(3.0))
    whole.only(["picture", "approx_picture"]).write(tmp_path / "a.npz")
    back = read_artifact(tmp_path / "a.npz")
    assert back.sigma is None and back.grey_top == pytest.approx(original.max())
    level = original.max() / 255
    assert np.abs(back.picture - original).max() <= level / 2 + 1e-3
    shown = np.clip(approx, 0, original.max())  # what the figure draws: [0, the original's top]
    assert np.abs(back.approx_picture - shown).max() <= level / 2 + 1e-3
    back.only(["approx_picture"]).write(tmp_path / "b.npz")  # a second pruning: no drift
    np.testing.assert_array_equal(
        read_artifact(tmp_path / "b.npz").approx_picture, back.approx_picture
    )


def test_only_keeps_the_named_fields_and_refuses_unknown_ones():
    whole = Artifact(
        picture=np.ones((2, 2)), approx_picture=np.ones((2, 2)), sigma=np.ones(2),
        factors={"L": np.eye(2)},
    )  # fmt: skip
    stored = set(whole.only(FIELDS).arrays())
    assert stored >= {"picture_png", "approx_picture_png", "sigma", "factor_L", "grey_top"}
    kept = whole.only(["sigma"])
    assert kept.picture is None and kept.approx_picture is None and not kept.factors
    with pytest.raises(ValueError, match="unknown artifact fields"):
        whole.only(["pictures"])


def test_thin_curves_keeps_first_last_and_at_most_the_cap():
    curves = pd.concat(
        [
            pd.DataFrame(
                {"cell_id": c, "step": np.arange(1, n + 1), "loss": 1.0 / np.arange(1, n + 1)}
            )
            for c, n in (("long", 10_000), ("long2", 10_000), ("short", 40), ("one", 1))
        ]
    )
    thin = thin_curves(curves)
    sizes = thin.groupby("cell_id").size()
    assert sizes["short"] == 40 and sizes["one"] == 1  # short curves stay whole
    assert CURVE_POINTS // 2 < sizes["long"] <= CURVE_POINTS + 1
    long = thin[thin.cell_id == "long"].step
    assert long.iloc[0] == 1 and long.iloc[-1] == 10_000
    stride = np.diff(long.to_numpy()[:-1])
    assert len(set(stride)) == 1 and (stride[0] & (stride[0] - 1)) == 0  # one power of two
    # equal-length curves keep the same steps: their quantiles line up
    assert list(long) == list(thin[thin.cell_id == "long2"].step)
    pd.testing.assert_frame_equal(thin_curves(thin), thin)


@pytest.fixture(scope="module")
def pruned(quick_run, tmp_path_factory):
    """The quick study's folder, whole and pruned."""
    whole, folder = quick_run("quick")
    copy = tmp_path_factory.mktemp("pruned") / "results"
    shutil.copytree(folder, copy)
    summary = prune_results([copy], report_sections())
    return whole, load_results(copy), copy, summary


def test_pruning_keeps_what_the_report_draws_and_nothing_else(pruned):
    whole, kept, _, summary = pruned
    drawn = drawn_artifacts(whole, report_sections())
    assert set(kept.artifacts) == set(drawn)
    assert summary.artifacts_removed == len(whole.artifacts) - len(drawn) > 0
    assert summary.artifact_bytes[1] < summary.artifact_bytes[0] / 5
    for cell, fields in drawn.items():  # only the drawn fields
        artifact = kept.artifacts[cell]
        present = {f for f in FIELDS if getattr(artifact, f) is not None and f != "factors"}
        assert present | ({"factors"} if artifact.factors else set()) == fields, cell


def test_the_pruned_folder_draws_the_same_figures_and_tables(pruned):
    whole, kept, _, _ = pruned
    pd.testing.assert_frame_equal(panel_cells(whole), panel_cells(kept))
    before, after = image_panels(whole), image_panels(kept)
    assert isinstance(before, list) and [n for n, _ in before] == [n for n, _ in after]
    plt.close("all")
    assert spectra(whole).keys() == spectra(kept).keys()
    for key, sigma in spectra(whole).items():
        np.testing.assert_array_equal(spectra(kept)[key], sigma)
    assert study004_rows(whole) == study004_rows(kept)
    assert not isinstance(loss_curves(kept), Missing)
    plt.close("all")


def test_pruning_twice_changes_nothing(pruned):
    _, kept, folder, _ = pruned
    files = {p.name: p.read_bytes() for p in (folder / "artifacts").glob("*.npz")}
    again = prune_results([folder], report_sections())
    assert again.artifacts_removed == 0 and again.curve_steps[0] == again.curve_steps[1]
    after = {p.name: read_artifact(p) for p in (folder / "artifacts").glob("*.npz")}
    assert after.keys() == files.keys()
    for name, artifact in after.items():
        for field in FIELDS[:3]:
            np.testing.assert_array_equal(
                getattr(artifact, field), getattr(kept.artifacts[name[:-4]], field)
            )


def test_prune_needs_results_folders(tmp_path, capsys):
    assert main(["report", "--prune", "--out", str(tmp_path / "page")]) == 2
    err = capsys.readouterr().err.strip()
    assert "--prune" in err and "--results" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "page").exists()


def test_a_large_picture_is_kept_at_most_256_pixels_a_side_as_block_means(rng):
    big = rng.uniform(0, 1, (1000, 300)).astype(np.float32)
    small = Artifact(picture=big, approx_picture=big).only(["picture"]).picture
    assert small is not None and small.shape == (250, 75)  # 4 x 4 blocks
    np.testing.assert_allclose(small[0, 0], big[:4, :4].mean(), rtol=1e-6)
    edge = Artifact(picture=big[:999, :299]).only(["picture"]).picture  # padded at the edges
    assert edge is not None and edge.shape == (250, 75)
    kept = rng.uniform(0, 1, (256, 40)).astype(np.float32)
    np.testing.assert_array_equal(Artifact(picture=kept).only(["picture"]).picture, kept)


def test_a_grey_figure_is_embedded_as_exact_8_bit_grey_and_a_colour_one_as_a_palette(rng):
    import io

    from PIL import Image

    from nnbench.report.build import _palette_png

    def encoded(cmap: str) -> tuple[Image.Image, np.ndarray]:
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.imshow(rng.uniform(0, 1, (20, 20)), cmap=cmap)
        ax.set_title("k = 5")
        raw = io.BytesIO()
        fig.savefig(raw, format="png", dpi=50)
        plt.close(fig)
        pixels = np.asarray(Image.open(io.BytesIO(raw.getvalue())).convert("RGB"))
        return Image.open(io.BytesIO(_palette_png(raw.getvalue()))), pixels

    grey, pixels = encoded("gray")
    assert grey.mode == "L"
    np.testing.assert_array_equal(np.asarray(grey), pixels[..., 0])  # lossless
    colour, _ = encoded("viridis")
    assert colour.mode == "P"


def test_long_variant_names_wrap_after_brackets_and_commas():
    from nnbench.report.figures import wrap_name

    name = "amortized-sparse-sketch[families=image-moving-crop,n=1024,count=32,steps=100]"
    lines = wrap_name(name, 30).splitlines()
    assert "".join(lines) == name and len(lines) > 1
    assert all(len(line) <= 30 for line in lines[1:])  # a token longer than a line stays whole
    assert wrap_name("scipy-tsvd", 30) == "scipy-tsvd"
