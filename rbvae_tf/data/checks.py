"""Validation of the user-facing arguments shared by the data modules.

Each check returns the value as a plain int (or None) or raises `UserError` with one line.
"""

import numbers

from rbvae_tf.errors import UserError


def check_size(size, name="size"):
    """Checks an image size: a positive multiple of 16 (the encoder halves it four times).

    The one check of the image side, used by the data modules, the networks and the CLI.

    Args:
        size: int. Side of the square images in pixels.
        name: str. How the message names the value. Defaults to `"size"`.

    Returns:
        The size as an int.

    Example:
    >>> check_size(32)
    32
    >>> check_size(24, "--image-size")
    Traceback (most recent call last):
    rbvae_tf.errors.UserError: --image-size must be a positive multiple of 16, got 24
    """
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size <= 0 or size % 16:
        raise UserError(f"{name} must be a positive multiple of 16, got {size!r}")
    return int(size)


def check_limit(limit):
    """Checks an optional cap on the number of images of each split.

    Args:
        limit: int or None. Maximum images per split; None means no cap.

    Returns:
        The limit as an int, or None.

    Example:
    >>> check_limit(None) is None
    True
    """
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise UserError(f"limit must be an integer >= 0, got {limit!r}")
    return int(limit)


def check_seed(seed):
    """Checks a random seed: an integer >= 0 (numpy refuses negative seeds).

    Args:
        seed: int.

    Returns:
        The seed as an int.

    Example:
    >>> check_seed(0)
    0
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UserError(f"seed must be an integer >= 0, got {seed!r}")
    return int(seed)


def check_padding(padding):
    """Checks where a shrunk MNIST-style digit sits in its zero padding: "centre" or "corner".

    Example:
    >>> check_padding("corner")
    'corner'
    """
    from rbvae_tf.data.render import PADDINGS

    if padding not in PADDINGS:
        raise UserError(f"padding must be one of {', '.join(PADDINGS)}, got {padding!r}")
    return padding


def check_reference_width(width, max_width=10):
    """Checks the outline width of the reference images: an integer from 1 to 10 (px at 64 px).

    Example:
    >>> check_reference_width(3)
    3
    """
    if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= max_width:
        raise UserError(f"reference width must be an integer from 1 to {max_width}, got {width!r}")
    return int(width)
