"""Contract over every figure: drawn from a small synthetic results table (no run), and a
`Missing` that names a study, not an exception, when its data is absent."""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from nnbench.methods import Settings
from nnbench.metrics import MetricValues
from nnbench.report.build import build_report
from nnbench.report.figures import FIGURES
from nnbench.report.spec import FigureSpec, Missing
from nnbench.results import Artifact, CellSpec, Outcome, Results, Row, to_frame
from nnbench.results.table import CURVE_COLUMNS
from nnbench.studies import report_sections

ALL_FIGURES = [*FIGURES, *(s for s in report_sections() if isinstance(s, FigureSpec))]

RNG = np.random.default_rng(0)


def _row(i: int, **fields: object) -> Row:
    """A synthetic ok row; `fields` override columns of any part of the record."""
    parts = {
        "cell": CellSpec(
            cell_id=f"c{i:04d}", matrix="random-gaussian", family="random-gaussian", tags="square",
            n=8, n_rows=8, n_cols=8, method="scipy-lu", method_base="scipy-lu",
            group="classical", kind="lu", rank=None,
            dtype="float64", device="cpu", seed=i, matrix_seed=i, repeat=0, batch=1, threads=1,
            options="",
        ),
        "settings": Settings(),
        "outcome": Outcome(status="ok", time_s=1e-3, timing_repeats=1),
        "metrics": MetricValues(
            rel_err_2=1e-15, rel_err_fro=1e-15, ratio_2=1.0, ratio_fro=1.0, solve_backward_err=1e-16
        ),
    }  # fmt: skip
    for name, part in parts.items():
        own = {k: v for k, v in fields.items() if k in {f.name for f in dataclasses.fields(part)}}
        parts[name] = dataclasses.replace(part, **own)
    return Row(**parts)  # type: ignore[arg-type]


def synthetic() -> Results:
    rows, artifacts, curves = [], {}, []
    i = 0
    for n in (8, 16, 32):  # time vs n: 3 sizes
        for method in ("scipy-lu", "torch-lu"):
            size = {"n": n, "n_rows": n, "n_cols": n}
            rows.append(_row(i, **size, method=method, method_base=method, time_s=1e-6 * n**3))
            i += 1
        rows.append(  # the reverse comparison: a hybrid beside them
            _row(i, **size, method="hybrid-lu-newton", method_base="hybrid-lu-newton",
                 group="hybrid", time_s=2e-6 * n**3)
        )  # fmt: skip
        i += 1
    picture = RNG.random((8, 8)).astype(np.float32)
    for rank in (1, 2, 3):  # error vs rank, image panels, spectra, loss curves
        for method in ("scipy-tsvd", "hybrid-lowrank-als"):
            err = 0.5 / rank * (1.1 if method != "scipy-tsvd" else 1.0)
            rows.append(
                _row(i, matrix="image-logo", family="image-logo", tags="image,square",
                     method=method, method_base=method,
                     group="neural" if method != "scipy-tsvd" else "classical",
                     kind="rank-k", rank=rank, rel_err_2=err, ratio_2=1.0 + rank / 20,
                     ratio_fro=1.0 + rank / 10)
            )  # fmt: skip
            artifacts[f"c{i:04d}"] = Artifact(
                picture=picture, approx_picture=picture * 0.9, sigma=np.sort(RNG.random(8))[::-1]
            )
            if method != "scipy-tsvd":
                steps = np.arange(1, 21)
                curve = {"step": steps, "unit": "step", "loss": 1.0 / steps, "elapsed_s": steps}
                curves.append(pd.DataFrame({"cell_id": f"c{i:04d}", **curve}))
            i += 1
    letter = RNG.random((30, 30))
    for rank in (1, 5, 26):  # study 001: the letter B at rank r beside the measures
        rows.append(
            _row(i, matrix="alphabet", family="alphabet", tags="image,rectangular", n=900,
                 n_rows=900, n_cols=26, method="scipy-tsvd", method_base="scipy-tsvd",
                 kind="rank-k", rank=rank, rel_err_2=0.5 / rank)
        )  # fmt: skip
        sigma = np.sort(RNG.random(26))[::-1]
        artifacts[f"c{i:04d}"] = Artifact(picture=letter, approx_picture=letter, sigma=sigma)
        i += 1
    study = "neural-lu-study-final"
    grid = [(opt, lr, "default", 100) for opt in ("sgd", "adam") for lr in (0.1, 0.01)]
    grid += [(opt, 0.1, init, 100) for opt in ("sgd", "adam") for init in ("mean", "identity")]
    grid += [(opt, 0.1, "default", size) for opt in ("sgd", "adam") for size in (1, 10)]
    for opt, lr, init, size in grid:  # study 000's sensitivity grids
        rows.append(
            _row(i, matrix="study000-a", family="study000-a", n=2, n_rows=2, n_cols=2,
                 method=f"{study}[optimizer={opt},lr={lr}]", group="neural", dtype="float32",
                 options=f"optimizer={opt},lr={lr}", optimizer=opt, lr=lr, init=init,
                 data_size=size, final_loss=10.0 ** -RNG.integers(2, 12), steps=5000)
        )  # fmt: skip
        i += 1
    return Results(
        results=to_frame(rows),
        curves=pd.concat(curves, ignore_index=True),
        provenance={"runs": []},
        artifacts=artifacts,
    )


@pytest.mark.parametrize("spec", ALL_FIGURES, ids=lambda s: s.name)
def test_every_figure_draws_from_a_synthetic_table(spec):
    made = spec.make(synthetic())
    assert not isinstance(made, Missing), made
    figures = made if isinstance(made, list) else [(spec.name, made)]
    assert figures and all(isinstance(fig, Figure) and fig.axes for _, fig in figures)


@pytest.mark.parametrize("spec", ALL_FIGURES, ids=lambda s: s.name)
def test_every_figure_says_what_is_missing_on_an_empty_table(spec):
    empty = Results(results=to_frame([]), curves=pd.DataFrame(columns=CURVE_COLUMNS))
    made = spec.make(empty)
    assert isinstance(made, Missing) and "run" in made.reason


SYNTHETIC_REPORT = pytest.mark.xdist_group("synthetic-report")
"""The mark of a test that reads `synthetic_report` (built once, on one worker)."""


@pytest.fixture(scope="module")
def synthetic_report(tmp_path_factory) -> Path:
    """The report of `synthetic()` with every study's sections, built once for the tests
    that read it (a full build is seconds). Read-only: copy it to change it."""
    out = tmp_path_factory.mktemp("synthetic") / "report"
    return build_report([synthetic()], out, sections=report_sections())


@SYNTHETIC_REPORT
def test_the_report_builds_from_the_synthetic_table_alone(synthetic_report):
    """No matrix is made and no method runs while drawing: the report needs only the table."""
    out = synthetic_report
    assert (out / "index.html").stat().st_size > 10_000
    page = (out / "index.html").read_text()
    assert "Optimizer x learning rate" in page and "letter B at rank r" in page  # studies
    ranks = pd.read_csv(out / "tables" / "image_effective_rank.csv")
    assert ranks["rank"].iloc[0] == 8 and not math.isnan(ranks["entropy_effective_rank"].iloc[0])


def test_a_study_figure_without_its_cells_is_left_out_and_a_report_figure_says_why(tmp_path):
    empty = Results(results=to_frame([_row(0)]), curves=pd.DataFrame(columns=CURVE_COLUMNS))
    page = (build_report([empty], tmp_path, sections=report_sections()) / "index.html").read_text()
    assert "Optimizer x learning rate" not in page and "letter B" not in page
    assert "figures need data this run does not have" in page and "Error against rank k" in page


@SYNTHETIC_REPORT
def test_a_rebuild_leaves_no_stale_file_and_a_failed_build_no_half_report(
    tmp_path, synthetic_report
):
    out = tmp_path / "report"
    shutil.copytree(synthetic_report, out)  # a full build of synthetic(), rebuilt below
    (out / "results").mkdir()
    (out / "results" / "kept.txt").write_text("a results folder beside the report stays")
    assert (out / "figures" / "sensitivity.png").is_file()
    only_lu = Results(results=to_frame([_row(0)]), curves=pd.DataFrame(columns=CURVE_COLUMNS))
    build_report([only_lu], out, sections=report_sections())
    assert not (out / "figures" / "sensitivity.png").exists()
    assert not (out / "tables" / "image_spectra.csv").exists()
    assert (out / "results" / "kept.txt").is_file()
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~mask  # not mkdtemp's owner-only mode

    def broken(res: Results) -> Missing:
        raise RuntimeError("a figure that fails")

    before = sorted(p.name for p in out.rglob("*"))
    bad = FigureSpec(name="broken", title="Broken", caption="", make=broken)
    with pytest.raises(RuntimeError):
        build_report([synthetic()], out, sections=[bad])
    assert sorted(p.name for p in out.rglob("*")) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report-")]


def test_a_matrix_name_with_path_characters_makes_safe_file_names(tmp_path):
    res = synthetic()
    df = res.results.copy()
    df["matrix"] = df["matrix"].str.replace("image-logo", "file:/tmp/my pics/coins.png")
    named = dataclasses.replace(res, results=df)
    out = build_report([named], tmp_path / "report")
    images = [p.name for p in (out / "figures").glob("images_*.png")]
    assert images and all("/" not in name and ":" not in name for name in images)


def test_a_folder_without_curves_beside_one_with_them_still_draws_the_loss_curves(tmp_path):
    """An empty curves table is untyped: joined with a typed one it must not turn the loss
    column into objects (the loss-curve figure's quantiles failed on it)."""
    plain = Results(results=to_frame([_row(9999)]), curves=pd.DataFrame(columns=CURVE_COLUMNS))
    out = build_report([plain, synthetic()], tmp_path)
    assert (out / "figures" / "loss_curves.png").is_file()


@SYNTHETIC_REPORT
def test_a_users_own_run_gets_no_study_sections_and_short_file_names(tmp_path, synthetic_report):
    """Rows of the study-000 configuration on a user's file matrix: no sensitivity table, no
    stand-in note, no reproduction rows 'not run'; the file is named by its file name."""
    path = "file:/home/someone/data/deep/folder/coins.png"
    rows = [
        _row(i, matrix=path, family="file", method="neural-lu-study-final", group="neural",
             optimizer="adam", lr=0.1, init="default", data_size=100, final_loss=1e-9)
        for i in range(3)
    ]  # fmt: skip
    mine = Results(results=to_frame(rows), curves=pd.DataFrame(columns=CURVE_COLUMNS))
    out = build_report([mine], tmp_path, sections=report_sections())
    page = (out / "index.html").read_text()
    assert "sensitivity" not in page.lower() and "stand-in" not in page.lower()
    assert "reproduction_not_run" not in page and "Reproduction" not in page
    assert "file:coins.png" in page and "/home/someone" not in page
    assert "stand-in is the 26 capitals" in (synthetic_report / "index.html").read_text()


def test_error_vs_time_of_preconditioners_alone_is_missing_not_a_crash():
    """A precond-only run has no factorization error to plot (operators have none)."""
    from nnbench.api import Grid, run_grid
    from nnbench.report.figures import error_vs_time
    from nnbench.report.spec import Missing

    res = run_grid(Grid(matrices=("diffusion-2d",), methods=("amg", "cg-jacobi"), sizes=(64,)))
    assert isinstance(error_vs_time(res), Missing)


def test_performance_profile_ratios_are_to_each_problems_fastest_at_matched_accuracy():
    import math

    import numpy as np
    from test_fairness import _points_table

    from nnbench.report.profiles import profile_ratios, profiles

    ratios = profile_ratios(_points_table()).set_index("method_base").ratio
    assert ratios["b"] == 1.0  # its 1e-9 budget at 0.5 ms is the fastest to 1e-6
    assert ratios["a"] == pytest.approx(2.0) and ratios["h"] == pytest.approx(10.0)
    assert math.isinf(ratios["nn"])  # stuck at 1e-4: never reaches the level
    rho = profiles(profile_ratios(_points_table()), np.array([1.0, 5.0, 1e9]))
    nn = rho[rho.method_base == "nn"].rho.tolist()
    assert nn == [0.0, 0.0, 0.0] and rho[rho.method_base == "b"].rho.tolist() == [1.0] * 3


def _image_results(picture: np.ndarray, methods: dict[str, tuple[str, float]]) -> Results:
    """Rank-5 cells on one image matrix: `methods` maps a method to (its base, its error)."""
    rows, artifacts = [], {}
    for i, (method, (base, err)) in enumerate(methods.items()):
        rows.append(
            _row(i, matrix="image-camera-255", family="image-camera", tags="image,square",
                 method=method, method_base=base, kind="rank-k", rank=5, rel_err_2=err)
        )  # fmt: skip
        artifacts[f"c{i:04d}"] = Artifact(picture=picture, approx_picture=picture * 0.9)
    return Results(
        results=to_frame(rows), curves=pd.DataFrame(columns=CURVE_COLUMNS), artifacts=artifacts
    )


def test_a_0_to_255_picture_and_its_approximations_are_drawn_on_its_own_scale():
    from nnbench.report.figures import image_panels

    picture = RNG.random((8, 8)) * 255.0
    made = image_panels(_image_results(picture, {"scipy-tsvd": ("scipy-tsvd", 0.1)}))
    assert isinstance(made, list)
    images = [im for ax in made[0][1].axes for im in ax.get_images()]
    assert len(images) == 2  # the original and the SVD
    for im in images:
        assert im.get_clim() == pytest.approx((0.0, picture.max()))
        assert np.asarray(im.get_array()).max() > 1.0  # not clipped to [0, 1]


def test_image_panels_show_each_networks_most_accurate_budget_variant():
    from nnbench.report.figures import image_panels

    methods = {
        "scipy-tsvd": ("scipy-tsvd", 0.1),
        "hybrid-lowrank-als[max_steps=16]": ("hybrid-lowrank-als", 0.3),
        "hybrid-lowrank-als[max_steps=64]": ("hybrid-lowrank-als", 0.11),
    }
    made = image_panels(_image_results(RNG.random((8, 8)), methods))
    assert isinstance(made, list)
    titles = [t.get_text().replace("\n", "") for t in made[0][1].axes[0].texts]  # names wrap
    assert any("hybrid-lowrank-als[max_steps=64]" in t for t in titles)
    assert not any("max_steps=16" in t for t in titles)


def test_loss_curves_show_every_group_in_a_grid_of_at_most_12_panels():
    from nnbench.report.figures import loss_curves

    names = [(f"a-hybrid-{i:02d}", "hybrid") for i in range(14)]  # first alphabetically
    names += [("z-neural-lu", "neural"), ("z-neural-qr", "neural"), ("z-amortized", "amortized")]
    rows, curves = [], []
    steps = np.arange(1, 11)
    for i, (method, group) in enumerate(names):
        rows.append(_row(i, method=method, method_base=method, group=group))
        curves.append(
            pd.DataFrame({"cell_id": f"c{i:04d}", "step": steps, "unit": "step",
                          "loss": 1.0 / steps, "elapsed_s": steps})
        )  # fmt: skip
    res = Results(results=to_frame(rows), curves=pd.concat(curves, ignore_index=True))
    fig = loss_curves(res)
    assert isinstance(fig, Figure)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) <= 12
    assert all(any(name in t for t in titles) for name in ("z-neural-lu", "z-amortized"))
    assert any("a-hybrid" in t for t in titles)
    width, height = fig.get_size_inches()
    assert width <= 3 * 4.6 + 1e-9 and height > 3.8  # several rows, not one wide strip


def test_error_vs_time_names_methods_of_every_group_in_at_most_12_legend_entries_beside():
    """A colour per named method (classical methods were all one blue), every group named
    (streaming's networks were only "other neural" dots), the rest in their group's colour."""

    from nnbench.report.figures import OTHERS, error_vs_time

    rows = [
        _row(i, method=f"{group}-{i:02d}", method_base=f"{group}-{i:02d}", group=group,
             rel_err_fro=10.0 ** -(i % 15), time_s=1e-3 * (i + 1))
        for i, group in enumerate(["classical", "hybrid", "neural"] * 14)
    ]  # fmt: skip
    fig = error_vs_time(Results(results=to_frame(rows), curves=pd.DataFrame()))
    assert isinstance(fig, Figure)
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert len(labels) <= 12 and any(label.startswith("other ") for label in labels)
    for group in ("classical", "hybrid", "neural"):
        assert any(label.endswith(f"({group})") for label in labels), (group, labels)
    named = [c for c, t in zip(ax.collections, labels, strict=True) if not t.startswith("other")]
    faces = [tuple(np.round(c.get_facecolors()[0, :3], 6)) for c in named]
    assert len(set(faces)) == len(faces)  # a colour per named method
    for collection, label in zip(ax.collections, labels, strict=True):
        if label.startswith("other "):  # grey, not a named method's colour
            face = tuple(np.round(collection.get_facecolors()[0, :3], 6))
            assert face == tuple(np.round(OTHERS, 6)) and face not in faces
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    box, frame = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
    assert box.x0 >= frame.x1 or box.y1 <= frame.y0  # beside or below, not over the title


def test_time_vs_n_fits_slopes_per_family_over_large_n_only():
    from nnbench.report.figures import time_vs_n

    rows, i = [], 0
    for family, sizes in (("spd", (8, 16, 32, 64, 128, 256)), ("randsvd", (8, 16, 32))):
        for n in sizes:
            time = 1e-2 if n < 64 else 1e-9 * n**3  # small n: overheads, flat
            rows.append(_row(i, matrix=family, family=family, n=n, n_rows=n, n_cols=n, time_s=time))
            i += 1
    fig = time_vs_n(Results(results=to_frame(rows), curves=pd.DataFrame()))
    assert isinstance(fig, Figure)
    labels = {
        ax.get_title(): [t.get_text() for t in ax.get_legend().get_texts()]
        for ax in fig.axes
        if ax.get_legend()
    }
    spd = next(v for k, v in labels.items() if "spd" in k)
    randsvd = next(v for k, v in labels.items() if "randsvd" in k)
    assert spd == ["scipy-lu (slope 3.00)"]
    assert randsvd == ["scipy-lu"]  # no size >= 64: no slope printed


def test_singular_value_panels_are_titled_by_their_matrix():
    from nnbench.report.figures import singular_values

    res = synthetic()  # image-logo and the alphabet
    fig = singular_values(res)
    assert isinstance(fig, Figure)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 2
    assert any("image-logo" in t for t in titles) and any("alphabet" in t for t in titles)
    assert not any("alphabet" in t for t in titles if "image-logo" in t)


@pytest.mark.parametrize("spec", FIGURES, ids=lambda s: s.name)
def test_every_plot_names_its_metric_on_the_y_axis(spec):
    made = spec.make(synthetic())
    assert not isinstance(made, Missing), made
    for _, fig in made if isinstance(made, list) else [(spec.name, made)]:
        for ax in fig.axes:
            if ax.get_images() or not (ax.lines or ax.collections):
                continue  # a picture panel, or an empty cell of a grid
            assert ax.get_ylabel().strip(), f"{spec.name}: {ax.get_title()!r} has no y label"


# Issue 34 item 4: figure defects a referee found at 1,400 px, checked from the figures' data.


def _figures(made: object) -> list[Figure]:
    return [fig for _, fig in made] if isinstance(made, list) else [made]  # type: ignore[misc]


def _text_boxes(ax, renderer) -> list:
    """The window boxes of an axes' drawn, non-empty text: title, axis labels and the tick
    labels inside its view (a locator also labels ticks past the limits, never drawn)."""
    frame = ax.get_window_extent(renderer)
    texts = [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
    texts += [
        t
        for t in ax.get_xticklabels()
        if frame.x0 - 1 <= t.get_window_extent(renderer).intervalx.mean() <= frame.x1 + 1
    ]
    texts += [
        t
        for t in ax.get_yticklabels()
        if frame.y0 - 1 <= t.get_window_extent(renderer).intervaly.mean() <= frame.y1 + 1
    ]
    return [
        t.get_window_extent(renderer) for t in texts if t.get_visible() and t.get_text().strip()
    ]


@pytest.mark.parametrize("spec", ALL_FIGURES, ids=lambda s: s.name)
def test_no_legend_over_data_and_no_text_over_another_panels(spec):
    made = spec.make(synthetic())
    for fig in _figures(made):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        drawn = [ax for ax in fig.axes if ax.axison]
        for ax in drawn:
            legend = ax.get_legend()
            if legend is not None:
                box = legend.get_window_extent(renderer)
                assert not box.overlaps(ax.get_window_extent(renderer)), ax.get_title()
        for legend in fig.legends:
            box = legend.get_window_extent(renderer)
            assert not any(box.overlaps(ax.get_window_extent(renderer)) for ax in drawn)
        for i, ax in enumerate(drawn):
            for other in drawn[i + 1 :]:
                for box in _text_boxes(ax, renderer):
                    clash = [b for b in _text_boxes(other, renderer) if box.overlaps(b)]
                    assert not clash, f"{spec.name}: {ax.get_title()!r} by {other.get_title()!r}"


def _one_step_run() -> Results:
    """Two trained methods: one with 20-step curves, one whose every curve is one step."""
    rows, curves = [], []
    for i, (method, steps) in enumerate([("neural-a", 20), ("neural-a", 20), ("neural-b", 1)]):
        rows.append(_row(i, method=method, method_base=method, group="neural", seed=i))
        x = np.arange(1, steps + 1)
        curves.append(pd.DataFrame({"cell_id": f"c{i:04d}", "step": x, "unit": "step",
                                    "loss": 1.0 / x, "elapsed_s": x}))  # fmt: skip
    return Results(results=to_frame(rows), curves=pd.concat(curves, ignore_index=True))


def test_a_method_whose_curves_are_single_points_is_named_not_drawn_on_a_meaningless_axis():
    from nnbench.report.figures import loss_curves

    fig = loss_curves(_one_step_run())
    assert isinstance(fig, Figure)
    titles = [ax.get_title() for ax in fig.axes if ax.axison]
    assert len(titles) == 1 and "neural-a" in titles[0]
    assert "neural-b" in fig.get_suptitle() and "one recorded point" in fig.get_suptitle()
    for ax in fig.axes:  # every drawn axis spans the steps of a curve, not 0.96..1.04
        for line in ax.lines:
            assert len(set(line.get_xdata())) > 1


def test_every_figure_draws_no_axis_around_a_single_x_value():
    for spec in ALL_FIGURES:
        for fig in _figures(spec.make(synthetic())):
            for ax in fig.axes:
                xs = [x for line in ax.lines for x in np.atleast_1d(line.get_xdata())]
                if len(xs) > 1 and not ax.get_images():
                    assert len(set(map(float, xs))) > 1, f"{spec.name}: {ax.get_title()!r}"


def test_solver_residuals_are_no_training_loss_and_panels_name_the_precision_trained_in():
    from nnbench.report.figures import loss_curves

    res = _one_step_run()
    gmres = res.curves.assign(unit="gmres iteration")
    assert isinstance(loss_curves(Results(results=res.results, curves=gmres)), Missing)
    float32 = res.results.assign(dtype="float32")
    fig = loss_curves(Results(results=float32, curves=res.curves))
    assert isinstance(fig, Figure)
    assert all("float32" in ax.get_title() for ax in fig.axes if ax.axison)


def test_profiles_give_each_method_of_a_group_its_own_colour_and_flag_an_untimed_fit():
    from matplotlib.colors import to_rgb

    from nnbench.report.figures import performance_profiles

    rows = []
    for i in range(24):
        method = ("scipy-lu", "torch-lu", "doolittle", "fitted-lu")[i % 4]
        rows.append(_row(i, matrix=f"m{i // 8}", family="f", seed=i, method=method,
                         method_base=method, time_s=1e-3 * (1 + i % 4),
                         train_time_s=0.2 if method == "fitted-lu" else float("nan")))  # fmt: skip
    fig = performance_profiles(Results(results=to_frame(rows), curves=pd.DataFrame()))
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    colours = [to_rgb(line.get_color()) for line in ax.lines]
    assert len(colours) == 4 and len(set(colours)) == 4
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "fitted-lu (fit 0.2 s, untimed) (classical)" in labels


def test_every_error_vs_rank_panel_has_the_optimal_error_where_its_cells_have_ratio_2():
    from nnbench.report.figures import error_vs_rank

    rows = []
    for i, rank in enumerate([1, 2, 3] * 2):
        rows.append(_row(i, kind="rank-k", rank=rank, matrix="m", family="m", n=16 * (1 + i // 3),
                         n_rows=16, n_cols=16, method="neural-x", method_base="neural-x",
                         group="neural", rel_err_2=0.6 / rank, ratio_2=1.5))  # fmt: skip
    fig = error_vs_rank(Results(results=to_frame(rows), curves=pd.DataFrame()))
    assert isinstance(fig, Figure)
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == 2
    for ax in panels:
        reference = [line for line in ax.lines if "optimal" in str(line.get_label())]
        assert len(reference) == 1
        np.testing.assert_allclose(reference[0].get_ydata(), [0.4, 0.2, 0.4 / 3], rtol=1e-12)


def test_profiles_show_up_to_16_methods_on_a_tau_axis_ending_a_decade_past_the_data():
    """cpu-scale's profile said "+1 more" and dropped its 13th method; its tau axis ran to 1e4
    where every ratio was below 10."""
    from nnbench.report.figures import performance_profiles

    rows = []
    for i in range(13 * 3):
        method = f"m{i % 13:02d}"
        rows.append(_row(i, matrix=f"p{i // 13}", family="f", seed=i, method=method,
                         method_base=method, time_s=1e-3 * (1 + 0.5 * (i % 13))))  # fmt: skip
    fig = performance_profiles(Results(results=to_frame(rows), curves=pd.DataFrame()))
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.lines) == 13 and "more" not in ax.get_title()
    assert len({line.get_color() for line in ax.lines}) == 13
    assert 7.0 <= ax.get_xlim()[1] <= 10.0 * 1.2  # ratios reach 7: the axis ends at 10


def test_fronts_give_each_configuration_its_own_colour():
    """Six classical configurations on one problem were six shades of one blue."""
    from matplotlib.colors import to_rgb

    from nnbench.report.figures import fronts

    methods = ("scipy-lu", "torch-lu", "doolittle", "scipy-cholesky", "torch-cholesky", "lapack")
    rows = [
        _row(i, method=m, method_base=m, time_s=1e-3 * (1 + i), rel_err_fro=1e-15 * (1 + i))
        for i, m in enumerate(methods)
    ]
    fig = fronts(Results(results=to_frame(rows), curves=pd.DataFrame()))
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    colours = [np.array(to_rgb(line.get_color())) for line in ax.lines]
    assert len(colours) == len(methods)
    gaps = [np.abs(a - b).max() for i, a in enumerate(colours) for b in colours[i + 1 :]]
    assert min(gaps) >= 0.2  # told apart at a glance, not two shades of one hue


def test_a_shape_has_one_colour_in_every_singular_value_panel():
    """A 32x32 spectrum was blue beside one matrix and orange beside another (its colour was
    its place in the panel's line cycle)."""
    from nnbench.report.figures import singular_values

    rows, artifacts = [], {}
    shapes = {"image-logo": (8, 32), "image-camera": (32,)}
    for i, (matrix, n) in enumerate((m, n) for m, sizes in shapes.items() for n in sizes):
        rows.append(_row(i, matrix=matrix, family=matrix, tags="image,square", n=n, n_rows=n,
                         n_cols=n, method="scipy-tsvd", method_base="scipy-tsvd", kind="rank-k",
                         rank=1, rel_err_2=0.1))  # fmt: skip
        artifacts[f"c{i:04d}"] = Artifact(sigma=np.sort(RNG.random(n))[::-1] + 0.1)
    res = Results(results=to_frame(rows), curves=pd.DataFrame(), artifacts=artifacts)
    fig = singular_values(res)
    assert isinstance(fig, Figure)
    colour_of: dict[str, set] = {}
    for ax in fig.axes:
        for line in ax.lines:
            colour_of.setdefault(line.get_label(), set()).add(str(line.get_color()))
    assert set(colour_of) == {"8x8", "32x32"}
    assert all(len(colours) == 1 for colours in colour_of.values())


@pytest.mark.parametrize("spec", ALL_FIGURES, ids=lambda s: s.name)
def test_a_figures_title_fits_inside_the_saved_picture(spec):
    """A figure saved as laid out (a constrained layout, no tight box) cut a long title at both
    edges ("verse comparison ... classical is fast")."""
    from nnbench.report.build import _figure_bytes

    made = spec.make(synthetic())
    for fig in _figures(made):
        title = fig._suptitle
        _figure_bytes(fig, svg=False)  # fits the title, draws, closes
        if title is None or not title.get_text():
            continue
        box, page = title.get_window_extent(), fig.bbox
        if fig.get_layout_engine() is not None and type(fig.get_layout_engine()).__name__ == (
            "ConstrainedLayoutEngine"
        ):
            assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1, title.get_text()


def test_time_against_size_draws_a_preconditioners_build_and_solve():
    """It drew the build alone, so CG without a preconditioner looked 100x faster than IC(0)."""
    from nnbench.report.figures import time_vs_n

    rows = [
        _row(i, matrix="diffusion-2d", family="diffusion-2d", tags="spd,sparse", n=n, n_rows=n,
             n_cols=n, method=m, method_base=m, kind="precond", time_s=build, cg_total_s=total)
        for i, (n, m, build, total) in enumerate(
            (n, m, b * n, t * n) for n in (64, 256, 1024)
            for m, b, t in (("cg-none", 1e-7, 1e-2), ("sparse-ic0", 1e-4, 2e-3))
        )
    ]  # fmt: skip
    fig = time_vs_n(Results(results=to_frame(rows), curves=pd.DataFrame()))
    assert isinstance(fig, Figure)
    drawn = {line.get_label().split(" ")[0]: line.get_ydata() for line in fig.axes[0].lines}
    assert list(drawn["cg-none"]) == pytest.approx([1e-2 * n for n in (64, 256, 1024)])
    assert list(drawn["sparse-ic0"]) == pytest.approx([2e-3 * n for n in (64, 256, 1024)])
    from nnbench.report.build import log_ticks

    log_ticks(fig.axes[0])  # the sizes run stay the ticks (they read "1e+03" once replaced)
    assert list(fig.axes[0].get_xticks()) == [64, 256, 1024]


def test_an_image_figure_of_sixteen_methods_stays_readable_at_page_width():
    """Sixteen pictures on one line made a 37-inch figure, shown at a third of its size."""
    from nnbench.report.figures import image_panels

    methods = {f"m{i:02d}": (f"m{i:02d}", 0.1 + i / 100) for i in range(15)}
    made = image_panels(_image_results(RNG.random((8, 8)), {"scipy-tsvd": ("scipy-tsvd", 0.1),
                                                           **methods}))  # fmt: skip
    assert isinstance(made, list)
    (_, fig), *_ = made
    assert fig.get_figwidth() * 110 <= 1700  # shown at 1,400 px: at least 80% of its size
    assert len(fig.axes[0].get_images()) == 17  # the original and every method


def test_a_log_axis_under_two_decades_labels_several_ticks_that_do_not_overlap():
    """The streaming reverse comparison's x axis showed only 10^0; an SVD panel's minor tick
    labels (2x10^-5, 3x10^-5, 4x10^-5, 6x10^-5) ran into each other."""
    from nnbench.report.build import log_ticks

    for low, high in ((1.2, 3.5), (2.1e-5, 6.5e-5), (1e-16, 1.0), (2.6e-15, 3.9e-15)):
        fig, ax = plt.subplots(figsize=(3.0, 2.5))
        ax.plot([low, high], [low, high], "o")
        ax.set_xscale("log")
        ax.set_yscale("log")
        log_ticks(ax)
        fig.canvas.draw()
        for axis in (ax.xaxis, ax.yaxis):
            shown = [t for t in axis.get_ticklabels(which="both") if t.get_text()]
            lo, hi = sorted(axis.get_view_interval())
            inside = [t for t in shown if lo <= t.get_position()[axis is ax.yaxis] <= hi]
            assert len(inside) >= 2, (low, high, [t.get_text() for t in shown])
            boxes = [t.get_window_extent() for t in inside]
            assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
        plt.close(fig)


def test_a_panel_keeps_room_for_a_legend_of_long_configuration_names():
    """learned-sketch's reverse comparison collapsed ('constrained_layout not applied because
    axes sizes collapsed to zero'): its 60-character names did not fit beside a 5.8-inch panel."""
    import warnings

    from nnbench.report.build import _figure_bytes
    from nnbench.report.figures import fronts

    long = "amortized-sparse-sketch-families-image-moving-crop-n-1024-count-32-batch-size-4"
    long += "-positions-learned"
    rows = [
        _row(i, method=f"{long}-{i}", method_base=f"{long}-{i}", time_s=1e-3 * (1 + i),
             rel_err_fro=1e-15 * (1 + i))
        for i in range(8)
    ]  # fmt: skip
    fig = fronts(Results(results=to_frame(rows), curves=pd.DataFrame()))
    assert isinstance(fig, Figure)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a collapsed layout warns
        _figure_bytes(fig, svg=False)
