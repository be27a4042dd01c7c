"""Running a model over many images in fixed-size batches, for evaluation and the applications.

Example:
>>> import numpy as np
>>> in_batches(lambda a, b: (a + b, a - b), np.arange(5), np.ones(5), batch_size=2)
(array([1., 2., 3., 4., 5.]), array([-1.,  0.,  1.,  2.,  3.]))
"""

import numpy as np

from rbvae_tf import data as data_lib

BATCH_SIZE = 500  # images per network call: fast on CPU, small in memory


def as_float(images):
    """uint8 images -> float32 in [-1, 1]; float images are only cast to float32."""
    images = np.asarray(images)
    return data_lib.to_unit_range(images) if images.dtype == np.uint8 else images.astype(np.float32)


def in_batches(function, *arrays, batch_size=BATCH_SIZE):
    """`function(*chunks)` on aligned chunks of `arrays` (batch_size rows each), results concatenated.

    Args:
        function: callable. Takes one chunk of each array; returns an array or a tuple of arrays.
        *arrays: arrays with the same number of rows.
        batch_size: int. Rows per call. Defaults to 500.

    Returns:
        numpy array, or a tuple of them when `function` returns a tuple.
    """
    outputs = [
        function(*(a[start : start + batch_size] for a in arrays)) for start in range(0, len(arrays[0]), batch_size)
    ]
    if isinstance(outputs[0], tuple):
        return tuple(np.concatenate([np.asarray(out[k]) for out in outputs]) for k in range(len(outputs[0])))
    return np.concatenate([np.asarray(out) for out in outputs])


def posterior_means(encode, images, batch_size=BATCH_SIZE):
    """The `"mean"` of `encode(images)` (an encoder method such as `model.encode_common`), in batches."""
    return in_batches(lambda chunk: encode(as_float(chunk))["mean"], images, batch_size=batch_size)
