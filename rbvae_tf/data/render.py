"""Batched numpy image operations behind the MNIST-style data set (paper Sec. 5.1, App. C.1).

Every operation works on a whole batch at once. Resampling is linear, so each resize is a
matrix product `M @ image @ M.T` with one (out, in) matrix per image; this gives exact
area (box-coverage) interpolation with a different scale per image and no Python loop per
image. Binary morphology uses shifted boolean arrays.
"""

import numpy as np

DIGIT_SIZE = 64  # the transformations are defined at 64 px (paper App. C.1)
# Where a shrunk digit sits in its zero padding (App. C.1 says only "apply zero-padding to recover the
# original resolution"): the fraction of the padding placed before it on each axis.
PADDINGS = {"centre": 0.5, "corner": 0.0}


def bilinear_matrix(n_in, n_out):
    """Bilinear resampling matrix with half-pixel centres, as `tf.image.resize(bilinear)`.

    Args:
        n_in: int. Input length.
        n_out: int. Output length.

    Returns:
        np.ndarray float32 (n_out, n_in); row i holds the weights of output pixel i.

    Example:
    >>> bilinear_matrix(2, 4).sum(axis=1).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    source = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    source = np.clip(source, 0, n_in - 1)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, n_in - 1)
    frac = source - low
    matrix = np.zeros((n_out, n_in), np.float32)
    np.add.at(matrix, (np.arange(n_out), low), 1 - frac)
    np.add.at(matrix, (np.arange(n_out), high), frac)
    return matrix


def area_matrices(n_in, n_out, scales, anchor=0.5):
    """Area resampling matrices that scale an image by `scales`, placed at `anchor` of the padding.

    Input pixel j covers [j, j+1); it lands on [a n_out + (j - a n_in) s, a n_out + (j + 1 - a n_in) s)
    with a = `anchor`: 0.5 scales about the centre, 0 about the top-left corner.
    Weight (i, j) is the overlap of that interval with output pixel [i, i+1), so an output pixel
    is the mean of the input it covers (zero outside the input): area interpolation when
    shrinking, nearest-neighbour when enlarging. `scales = n_out / n_in` is a plain resize (no
    padding, so the anchor does not matter); `n_out = n_in` with s < 1 shrinks and zero-pads.

    Args:
        n_in: int. Input side.
        n_out: int. Output side.
        scales: array-like (N,). Scale factor of each image.
        anchor: float in [0, 1]. Share of the padding before the image on each axis. Defaults to
            0.5 (centred).

    Returns:
        np.ndarray float32 (N, n_out, n_in).

    Example:
    >>> area_matrices(4, 2, [0.5])[0].tolist()
    [[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]]
    >>> area_matrices(4, 4, [0.5], anchor=0.0)[0].tolist()
    [[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    """
    scales = np.asarray(scales, np.float32).reshape(-1, 1, 1)
    anchor = float(anchor)  # a Python float: anchor 0.5 gives the centred matrices bit for bit
    low = anchor * n_out + (np.arange(n_in, dtype=np.float32) - anchor * n_in) * scales  # (N, 1, n_in)
    # Length of footprint j left of output edge i, for the edges 0..n_out; overlap = its diff.
    covered = np.arange(n_out + 1, dtype=np.float32).reshape(1, -1, 1) - low
    np.clip(covered, 0, scales, out=covered)
    return np.diff(covered, axis=1)


def resample(images, matrices):
    """Applies `M @ image @ M.T` to each image.

    Args:
        images: np.ndarray float32 (N, n, n).
        matrices: np.ndarray float32 (N, m, n) or (1, m, n) shared by all images.

    Returns:
        np.ndarray float32 (N, m, m).
    """
    return np.matmul(np.matmul(matrices, images), np.swapaxes(matrices, 1, 2))


def digit_masks(digits, size=DIGIT_SIZE):
    """Resizes 28 px digits to `size` px (bilinear) and binarises them at half intensity.

    Args:
        digits: np.ndarray uint8 (N, 28, 28).
        size: int. Output side. Defaults to 64.

    Returns:
        np.ndarray bool (N, size, size): the filled digit.
    """
    matrix = bilinear_matrix(digits.shape[1], size)[None]
    return resample(digits.astype(np.float32), matrix) > 127.5


def edges(masks):
    """Boundary of binary shapes: the internal morphological gradient `mask AND NOT erode(mask)`.

    The erosion uses the 4-neighbour cross. This edge detector gives an exactly one pixel wide,
    closed, binary outline without any threshold to tune (a Sobel magnitude would be two
    pixels wide and graded), so the width factor k is exactly a k x k dilation of a 1 px line.

    Args:
        masks: np.ndarray bool (N, H, W).

    Returns:
        np.ndarray bool (N, H, W). Pixels outside the image count as background.
    """
    padded = np.pad(masks, ((0, 0), (1, 1), (1, 1)))
    eroded = (
        padded[:, 1:-1, 1:-1] & padded[:, :-2, 1:-1] & padded[:, 2:, 1:-1] & padded[:, 1:-1, :-2] & padded[:, 1:-1, 2:]
    )
    return masks & ~eroded


def _grow(masks, width):
    """Turns a width x width square dilation into a (width+1) one, in place, alternating sides."""
    if width % 2:  # odd -> even: extend towards +1 (down, right)
        masks[:, 1:, :] |= masks[:, :-1, :]
        masks[:, :, 1:] |= masks[:, :, :-1]
    else:  # even -> odd: extend towards -1 (up, left), so the square stays centred
        masks[:, :-1, :] |= masks[:, 1:, :]
        masks[:, :, :-1] |= masks[:, :, 1:]


def dilate(masks, widths):
    """Binary dilation of each mask by a square of side `widths[n]`.

    The structuring element of side k covers offsets -(k-1)//2 .. k//2 (centred for odd k).
    Images are grouped by width (sorted once), so the work is one pass per width value.

    Args:
        masks: np.ndarray bool (N, H, W).
        widths: array-like of int >= 1 (N,).

    Returns:
        np.ndarray bool (N, H, W).

    Example:
    >>> dot = np.zeros((1, 5, 5), bool); dot[0, 2, 2] = True
    >>> int(dilate(dot, [3]).sum())
    9
    """
    widths = np.asarray(widths, int).reshape(-1)
    order = np.argsort(widths, kind="stable")
    sorted_widths = widths[order]
    out = np.empty_like(masks)
    grown, done = masks[order], 0
    for width in range(1, int(sorted_widths.max(initial=1)) + 1):
        finished = int(np.searchsorted(sorted_widths, width, side="right"))
        out[order[done:finished]] = grown[: finished - done]
        grown, done = grown[finished - done :], finished
        if not len(grown):
            break
        _grow(grown, width)
    return out


def colourise(grey, colours):
    """Multiplies a [0, 1] intensity image by an RGB colour and quantises to uint8.

    Args:
        grey: np.ndarray float32 (N, H, W) in [0, 1].
        colours: np.ndarray (N, 3). Multiplier of each channel, in [0, 1].

    Returns:
        np.ndarray uint8 (N, H, W, 3) = floor(255 * grey * colour + 0.5).
    """
    gains = 255.0 * np.asarray(colours, np.float32)
    out = np.empty(grey.shape + (3,), np.uint8)
    channel = np.empty_like(grey)
    for c in range(3):  # one channel at a time: contiguous, no (N, H, W, 3) float temporary
        np.multiply(grey, gains[:, c, None, None], out=channel)
        channel += 0.5  # grey >= 0, so truncation rounds to nearest
        out[..., c] = channel
    return out


def render_digits(digits, colours, scales, widths, size=DIGIT_SIZE, padding="centre"):
    """Draws MNIST digits as coloured, thickened, scaled boundaries (paper App. C.1).

    At 64 px: bilinear resize 28 -> 64, binarise, edge (`edges`), square dilation of side
    `width`, shrink by `scale` with zero padding (area interpolation), the digit at the centre
    or at the top-left corner (`padding`), then multiply by `colour`. For another `size` the
    finished 64 px image is resized to `size` with area interpolation; both resamplings are
    linear, so they are fused into one matrix.

    Args:
        digits: np.ndarray uint8 (N, 28, 28).
        colours: array-like (N, 3). RGB multipliers in [0, 1]; (1, 1, 1) is white.
        scales: array-like (N,). Scale factor in (0, 1].
        widths: array-like of int (N,). Side of the dilation square, >= 1.
        size: int. Output side. Defaults to 64.
        padding: str. A key of `PADDINGS`: "centre" (the default) or "corner".

    Returns:
        np.ndarray uint8 (N, size, size, 3).
    """
    outline = dilate(edges(digit_masks(digits)), widths).astype(np.float32)
    matrices = area_matrices(DIGIT_SIZE, size, np.asarray(scales) * size / DIGIT_SIZE, PADDINGS[padding])
    return colourise(resample(outline, matrices), colours)
