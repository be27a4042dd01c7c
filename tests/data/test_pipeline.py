"""Training input pipeline: shapes, [-1, 1] range, seeded shuffling, bad input, work per step."""

import numpy as np
import pytest
import tensorflow as tf

from rbvae_tf.data import pipeline
from rbvae_tf.errors import UserError


def numbered_images(n, size=16, offset=0):
    """uint8 images whose pixels all equal their index (plus offset)."""
    return np.broadcast_to((np.arange(n) + offset).astype(np.uint8)[:, None, None, None], (n, size, size, 3)).copy()


def image_ids(batch):
    """Index back from a [-1, 1] batch of `numbered_images`."""
    return pipeline.from_unit_range(batch.numpy())[:, 0, 0, 0].astype(int).tolist()


def test_unit_range_round_trip():
    values = np.arange(256, dtype=np.uint8)
    unit = pipeline.to_unit_range(values)
    assert isinstance(unit, np.ndarray) and unit.dtype == np.float32
    assert unit[0] == -1 and unit[255] == 1 and abs(unit[128] - 0.0039216) < 1e-6
    np.testing.assert_array_equal(pipeline.from_unit_range(unit), values)
    tensor = pipeline.to_unit_range(tf.constant(values))
    assert isinstance(tensor, tf.Tensor) and tensor.dtype == tf.float32
    assert pipeline.from_unit_range(np.array([-5.0, 5.0])).tolist() == [0, 255]


def test_batches_from_arrays():
    unlabelled, reference = numbered_images(12), numbered_images(8, offset=100)
    dataset = pipeline.train_dataset(unlabelled, reference, batch_size=4, seed=0)
    steps = list(dataset.take(6))
    for x_u, x_r in steps:
        assert x_u.shape == (4, 16, 16, 3) and x_r.shape == (4, 16, 16, 3)
        assert x_u.dtype == tf.float32 and x_r.dtype == tf.float32
        for x in (x_u, x_r):
            assert -1 <= float(tf.reduce_min(x)) and float(tf.reduce_max(x)) <= 1
    first_epoch = sum((image_ids(x_u) for x_u, _ in steps[:3]), [])
    assert sorted(first_epoch) == list(range(12)) and first_epoch != list(range(12))
    references = sum((image_ids(x_r) for _, x_r in steps[:2]), [])
    assert sorted(references) == list(range(100, 108))
    assert sum((image_ids(x_u) for x_u, _ in steps[3:]), []) != first_epoch  # reshuffled


def test_seeded():
    images = numbered_images(50)
    run = lambda seed: [image_ids(x) for x, _ in pipeline.train_dataset(images, images, 10, seed).take(3)]
    assert run(0) == run(0)
    assert run(0) != run(1)
    x_u, x_r = next(iter(pipeline.train_dataset(images, images, 10, 0)))
    assert image_ids(x_u) != image_ids(x_r)  # the two sources are shuffled independently


def test_batches_from_datasets_and_small_sources():
    stream = tf.data.Dataset.from_tensor_slices(numbered_images(5))
    x_u, x_r = next(iter(pipeline.train_dataset(stream, numbered_images(3), batch_size=7)))
    assert x_u.shape == (7, 16, 16, 3) and x_r.shape == (7, 16, 16, 3)  # repeats before batching
    assert set(image_ids(x_u)) == set(range(5)) and set(image_ids(x_r)) == set(range(3))


@pytest.mark.parametrize(
    "unlabelled, reference, batch_size, message",
    [
        (numbered_images(4), numbered_images(4), 0, "batch size"),
        (numbered_images(4), numbered_images(4), 2.5, "batch size"),
        (numbered_images(4).astype(np.float32), numbered_images(4), 2, "uint8"),
        (numbered_images(4)[..., :1], numbered_images(4), 2, "uint8"),
        (numbered_images(0), numbered_images(4), 2, "no images"),
        (numbered_images(4, size=32), numbered_images(4), 2, "32 px but reference images 16 px"),
        (numbered_images(4), tf.data.Dataset.from_tensor_slices(np.zeros((0, 16, 16, 3), np.uint8)), 2, "empty"),
        (numbered_images(4), tf.data.Dataset.range(3), 2, "uint8"),
    ],
)
def test_bad_input(unlabelled, reference, batch_size, message):
    with pytest.raises(UserError, match=message):
        pipeline.train_dataset(unlabelled, reference, batch_size)


def _dataset_graph(dataset):
    graph = tf.compat.v1.GraphDef()
    graph.ParseFromString(tf.raw_ops.DatasetToGraphV2(input_dataset=dataset._variant_tensor).numpy())
    return graph


def test_array_batches_cost_one_gather_and_no_image_buffer():
    """Counts the work per step instead of timing it (a busy machine cannot fail this).

    Arrays are shuffled by index: every shuffle buffer holds int64 indices, never images, and each
    step maps one batch of indices per source to one gather of `batch_size` images plus the scale
    to [-1, 1].
    """
    images = numbered_images(100)
    graph = _dataset_graph(pipeline.train_dataset(images, images[:50], batch_size=8))
    ops = [node.op for node in graph.node]
    shuffles = [node for node in graph.node if node.op.startswith("ShuffleDataset")]
    assert len(shuffles) == 2  # one per source
    for node in shuffles:
        assert node.attr["output_types"].list.type == [tf.int64.as_datatype_enum]
    # map after batch: one call per step and source, not one per image
    maps = [i for i, op in enumerate(ops) if op.startswith("ParallelMapDataset")]
    batches = [i for i, op in enumerate(ops) if op.startswith("BatchDataset")]
    assert len(maps) == len(batches) == 2 and all(b < m for b, m in zip(batches, maps))
    gathers = [[node.op for node in function.node_def].count("GatherV2") for function in graph.library.function]
    assert gathers == [1, 1]
