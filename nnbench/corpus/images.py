"""Image families from files that ship with scikit-image (photos, crops of them, frames of a
window moving across them), and two generated ones.

The studies' own images are not available; these are the stand-ins the report names:
study 002's portrait photo -> `camera` (or `astronaut`), its Apple logo -> scikit-image's
`logo`, its 10x10 colour wheel -> `colour_wheel` below, study 001's handwritten alphabet ->
`alphabet_matrix` below (capitals rendered with matplotlib's bundled DejaVu Sans).
"""

from __future__ import annotations

import math
import string
from functools import lru_cache

import numpy as np


def to_gray(image: np.ndarray) -> np.ndarray:
    """Grayscale float64 in [0, 1]; alpha is composited onto white."""
    from skimage.color import rgb2gray
    from skimage.util import img_as_float

    img = img_as_float(image)
    if img.ndim == 3 and img.shape[2] == 4:
        alpha = img[..., 3:4]
        img = img[..., :3] * alpha + (1.0 - alpha)
    if img.ndim == 3:
        img = rgb2gray(img[..., :3])
    return np.asarray(img, dtype=np.float64)


def resize(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if image.shape == shape:
        return image.copy()
    from skimage.transform import resize as sk_resize

    return sk_resize(image, shape, anti_aliasing=True, mode="reflect", order=1)


@lru_cache(maxsize=8)
def bundled_image(name: str) -> np.ndarray:
    """A scikit-image bundled image as grayscale in [0, 1] (no download: they ship in the wheel)."""
    import skimage.data

    loaders = {
        "camera": skimage.data.camera,
        "logo": skimage.data.logo,
        "astronaut": skimage.data.astronaut,
        "coffee": skimage.data.coffee,
        "chelsea": skimage.data.chelsea,
        "rocket": skimage.data.rocket,
        "moon": skimage.data.moon,
        "coins": skimage.data.coins,
    }
    img = to_gray(loaders[name]())
    img.setflags(write=False)
    return img


@lru_cache(maxsize=32)
def _resized(name: str, n: int) -> np.ndarray:
    """The bundled image at n x n, read-only: made once per process, since every method's
    cell on the image makes it again (an anti-aliased resize costs more than a small cell)."""
    image = resize(bundled_image(name), (n, n))
    image.setflags(write=False)
    return image


def skimage_image(
    n: int, rng: np.random.Generator, *, image: str, scale: float = 1.0
) -> np.ndarray:
    """The bundled image resized to n x n, pixels in [0, scale] (1: floats, 255: 8-bit values)."""
    return scale * _resized(image, n)


CROP_PHOTOS = ("camera", "astronaut", "coffee", "chelsea", "rocket", "moon", "coins")


def photo_crop(n: int, rng: np.random.Generator) -> np.ndarray:
    """An n x n crop of a bundled photo, at a random place: the seed picks the photo and the
    offset (and a coarser or finer scale), so that instances share the statistics of natural
    images but not their pixels (the training distribution of a learned sketch)."""
    photo = bundled_image(CROP_PHOTOS[int(rng.integers(len(CROP_PHOTOS)))])
    scale = float(rng.uniform(1.0, 2.0))
    side = min(photo.shape[0], photo.shape[1], max(n, round(n * scale)))
    top = int(rng.integers(photo.shape[0] - side + 1))
    left = int(rng.integers(photo.shape[1] - side + 1))
    return resize(photo[top : top + side, left : left + side], (n, n))


def frame_shape(n: int) -> tuple[int, int]:
    """(h, w) with h * w = n and h the largest divisor of n not above sqrt(n): 16 x 16 frames
    for n = 256, 32 x 32 for 1024, a 1 x n strip for a prime n."""
    h = max(d for d in range(1, math.isqrt(n) + 1) if n % d == 0)
    return h, n // h


def bounce(start: int, step: int, frames: int, span: int) -> np.ndarray:
    """Positions start + step * t (t = 0..frames-1) reflected into [0, span]: a path that
    bounces off the edges, as a window kept inside its picture."""
    if span == 0:
        return np.zeros(frames, dtype=np.int64)
    p = (start + step * np.arange(frames)) % (2 * span)
    return np.where(p <= span, p, 2 * span - p)


DIRECTIONS = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0))


def moving_crop(n: int, rng: np.random.Generator) -> np.ndarray:
    """n frames of an h x w window (`frame_shape(n)`, h * w = n) moving one pixel a frame
    across a bundled photo, bouncing off its edges, as columns: column t is frame t, row-major
    (n x n float64 in [0, 1]), like a video's frames. The seed picks the photo, its scale (its
    shorter side 4 to 10 times sqrt(n), at least the frame's), the start and one of 8
    directions, so that instances share the statistics of such videos but not their frames."""
    h, w = frame_shape(n)
    photo = bundled_image(CROP_PHOTOS[int(rng.integers(len(CROP_PHOTOS)))])
    side = max(h, w, math.sqrt(n) * float(rng.uniform(4.0, 10.0)))
    ratio = side / min(photo.shape)
    shape = (max(h, round(photo.shape[0] * ratio)), max(w, round(photo.shape[1] * ratio)))
    picture = resize(photo, shape)
    dy, dx = DIRECTIONS[int(rng.integers(len(DIRECTIONS)))]
    span_y, span_x = shape[0] - h, shape[1] - w
    ys = bounce(int(rng.integers(span_y + 1)), dy, n, span_y)
    xs = bounce(int(rng.integers(span_x + 1)), dx, n, span_x)
    frames = [picture[y : y + h, x : x + w].reshape(-1) for y, x in zip(ys, xs, strict=True)]
    return np.stack(frames, axis=1)


def colour_wheel(n: int, rng: np.random.Generator) -> np.ndarray:
    """An n x n hue wheel (hue = angle, saturation = radius) on white, as grayscale luminance."""
    from matplotlib.colors import hsv_to_rgb

    coords = (np.arange(n) + 0.5) / n * 2.0 - 1.0
    x, y = np.meshgrid(coords, -coords)
    radius = np.hypot(x, y)
    hue = (np.arctan2(y, x) / (2 * np.pi)) % 1.0
    hsv = np.stack([hue, np.clip(radius, 0, 1), np.ones_like(hue)], axis=-1)
    rgb = hsv_to_rgb(hsv)
    rgb[radius > 1.0] = 1.0
    return to_gray(rgb)


LETTER_PIXELS = 30


@lru_cache(maxsize=1)
def _alphabet() -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    columns = []
    for letter in string.ascii_uppercase:
        fig = Figure(figsize=(LETTER_PIXELS / 100, LETTER_PIXELS / 100), dpi=100)
        canvas = FigureCanvasAgg(fig)
        fig.text(
            0.5, 0.5, letter, fontsize=18, family="DejaVu Sans", ha="center", va="center_baseline"
        )
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba())
        ink = 1.0 - to_gray(rgba)
        columns.append(ink.reshape(-1))
    matrix = np.stack(columns, axis=1)
    matrix.setflags(write=False)
    return matrix


def letter_b(columns: np.ndarray) -> np.ndarray:
    """The letter B (column 1) of an alphabet matrix as a 30x30 picture, as study 001 shows."""
    return columns[:, 1].reshape(LETTER_PIXELS, LETTER_PIXELS)


def alphabet_matrix(n: int, rng: np.random.Generator) -> np.ndarray:
    """Study 001's alphabet matrix: 26 capital letters of 30x30 pixels as columns (900 x 26)."""
    return _alphabet().copy()
