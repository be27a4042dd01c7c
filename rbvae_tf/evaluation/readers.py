"""Independent readers of images: a digit classifier and a regressor of the five normalised target
factors (R, G, B, scale, width, as in the Table-1 probe), small CNNs trained on *real* probe_train
images only, never on a model's outputs. `evaluation.transfer` reads the outputs of attribute
transfer and conditional generation with them.

Both readers share one architecture (`reader_network`): three 3 x 3 convolutions of stride 2
(32, 64, 64 channels, ReLU) after a first one of stride 1, a dense layer of 64 units and the head
(10 logits; 5 sigmoid outputs, one per factor, trained with the squared error). Training: Adam
1e-3, batch 64, `EPOCHS` passes over probe_train shuffled by a NumPy generator of `seed`; the
weights start from a seeded initialisation. No global random stream is touched.

Readers are kept per data configuration: `readers_for(folder)` returns those of a cached
MNIST-style folder, from `zoo/readers/<folder name>/` when they are shipped there (the bundled
32 px data, built by `python -m research.make_readers`), else from `cache_root()/readers/<folder name>/`,
training and saving them there the first time. Each reader folder holds `digit.weights.h5`,
`factors.weights.h5` and `readers.json` (its training set and its accuracy / MAE on probe_test).

Example:
>>> from rbvae_tf import data
>>> folder = data.cached_mnist_style(size=16, limit=200)
>>> readers = readers_for(folder)  # doctest: +SKIP
>>> readers.digits(data.load_split(folder, "probe_test")["images"]).shape  # doctest: +SKIP
(200,)
"""

import json
import pathlib
import time

import keras
import numpy as np
import tensorflow as tf

from rbvae_tf.batching import as_float, in_batches
from rbvae_tf.data import load_split
from rbvae_tf.data.store import cache_root, mnist_style_key
from rbvae_tf.evaluation.encoding import python_random_seeded
from rbvae_tf.files import make_folder, publish_folder
from rbvae_tf.metrics import FACTOR_NAMES, normalise_factors

READER_VERSION = 1  # bump when the architecture or the training changes
EPOCHS = {"digit": 15, "factors": 30}
BATCH = 64
LEARNING_RATE = 1e-3
DIGITS = 10


def reader_network(image_size, outputs, name):
    """The readers' CNN: images in [-1, 1] (S, S, 3) -> `outputs` values (logits or sigmoid factors)."""
    images = keras.Input((image_size, image_size, 3), name="images")
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv_0")(images)
    for i, channels in enumerate((32, 64, 64), start=1):
        x = keras.layers.Conv2D(channels, 3, strides=2, padding="same", activation="relu", name=f"conv_{i}")(x)
    x = keras.layers.Dense(64, activation="relu", name="hidden")(keras.layers.Flatten(name="flatten")(x))
    activation = None if name == "digit" else "sigmoid"
    return keras.Model(images, keras.layers.Dense(outputs, activation=activation, name="head")(x), name=name)


def _loss(name):
    if name == "digit":
        return lambda y, out: tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(y, out, from_logits=True))
    return lambda y, out: tf.reduce_mean(tf.square(y - out))


def train_network(network, images, targets, epochs, seed=0, batch_size=BATCH, learning_rate=LEARNING_RATE):
    """Fits `network` to (images, targets) with Adam, shuffling by `np.random.default_rng(seed)`."""
    optimizer = keras.optimizers.Adam(learning_rate)
    loss_of = _loss(network.name)
    x_all = tf.constant(as_float(images))
    y_all = tf.constant(targets)

    @tf.function(reduce_retracing=True)
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_of(y, network(x, training=True))
        optimizer.apply(tape.gradient(loss, network.trainable_weights), network.trainable_weights)
        return loss

    batch_size = min(batch_size, len(images))  # a tiny --limit still trains
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(images))
        for start in range(0, len(order) - batch_size + 1, batch_size):
            index = order[start : start + batch_size]
            step(tf.gather(x_all, index), tf.gather(y_all, index))
    return network


class Readers:
    """A digit classifier and a factor regressor for images of one size.

    Args:
        digit: keras.Model. Images in [-1, 1] -> 10 logits.
        factors: keras.Model. Images in [-1, 1] -> 5 normalised factors (`FACTOR_NAMES`).
        info: dict. What `readers.json` records (training set, test accuracy and MAE).
    """

    def __init__(self, digit, factors, info=None):
        self.digit_network, self.factor_network = digit, factors
        self.info = dict(info or {})
        self.image_size = digit.input_shape[1]
        spec = tf.TensorSpec([None, self.image_size, self.image_size, 3], tf.float32)
        self._read = tf.function(lambda x: (tf.argmax(digit(x), axis=-1), factors(x)), input_signature=[spec])

    def read(self, images):
        """(digits int64 (N,), factors float64 (N, 5)) read from uint8 or [-1, 1] float images."""
        digits, factors = in_batches(lambda chunk: self._read(as_float(chunk)), np.asarray(images))
        return digits.astype(np.int64), factors.astype(np.float64)

    def digits(self, images):
        return self.read(images)[0]

    def factors(self, images):
        return self.read(images)[1]

    def save(self, folder):
        """Writes digit.weights.h5, factors.weights.h5 and readers.json into `folder`."""
        folder = make_folder(folder)
        self.digit_network.save_weights(folder / "digit.weights.h5")
        self.factor_network.save_weights(folder / "factors.weights.h5")
        (folder / "readers.json").write_text(json.dumps(self.info, indent=1) + "\n")
        return folder

    @classmethod
    def load(cls, folder):
        folder = pathlib.Path(folder)
        info = json.loads((folder / "readers.json").read_text())
        networks = []
        for name, outputs in (("digit", DIGITS), ("factors", len(FACTOR_NAMES))):
            network = reader_network(info["image_size"], outputs, name)
            network.load_weights(folder / f"{name}.weights.h5")
            networks.append(network)
        return cls(*networks, info)


def reader_scores(readers, split):
    """Accuracy of the digit reader and MAE per factor of the factor reader on a split (real images)."""
    digits, factors = readers.read(split["images"])
    errors = np.mean(np.abs(factors - normalise_factors(split["factors"])), axis=0)
    mae = {name: float(value) for name, value in zip(FACTOR_NAMES, errors)}
    mae["mean"] = float(np.mean(errors))
    return {"images": int(len(digits)), "digit_accuracy": float(np.mean(digits == split["labels"])), "factor_mae": mae}


def train_readers(train, test=None, seed=0, epochs=None):
    """Trains the two readers on a real split (a dict as from `data.load_split`).

    Args:
        train: dict with `images` uint8 (N, S, S, 3), `factors` (N, 5) raw and `labels` (N,).
        test: dict or None. Scored into `info["probe_test"]` when given.
        seed: int. Seed of the initialisation and of the shuffling. Defaults to 0.
        epochs: dict or None. Epochs per reader (`digit`, `factors`). Defaults to `EPOCHS`.

    Returns:
        Readers.
    """
    epochs = {**EPOCHS, **(epochs or {})}
    started = time.perf_counter()
    size = train["images"].shape[1]
    targets = {
        "digit": np.asarray(train["labels"], np.int64),
        "factors": normalise_factors(train["factors"]).astype(np.float32),
    }
    networks = []
    for offset, (name, outputs) in enumerate((("digit", DIGITS), ("factors", len(FACTOR_NAMES)))):
        with python_random_seeded(seed + offset):
            network = reader_network(size, outputs, name)
        networks.append(train_network(network, train["images"], targets[name], epochs[name], seed + offset))
    info = {
        "version": READER_VERSION,
        "image_size": int(size),
        "seed": seed,
        "epochs": epochs,
        "batch": BATCH,
        "learning_rate": LEARNING_RATE,
        "train_images": int(len(train["images"])),
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    readers = Readers(*networks, info)
    if test is not None:
        readers.info["probe_test"] = reader_scores(readers, test)
    return readers


def shipped_readers_dir():
    """`zoo/readers` (or `$RBVAE_ZOO/readers`): readers trained by `python -m research.make_readers`."""
    from rbvae_tf.presets import zoo_dir

    return zoo_dir() / "readers"


def readers_name(folder, seed=0):
    """The readers' folder name for a cached MNIST-style folder (or its key): data key, version and seed."""
    return f"{pathlib.Path(folder).name}-v{READER_VERSION}-seed{seed}"


def shipped_readers(size=32, data_seed=0, mnist_path=None, seed=0):
    """The shipped readers of the full MNIST-style data of (size, data_seed, MNIST source), without
    building that data; they read any limited build of it too (a limited build is a prefix of the full
    one, and they never saw probe_test). Raises FileNotFoundError if none are shipped."""
    key, _ = mnist_style_key(size, data_seed, None, mnist_path)
    folder = shipped_readers_dir() / readers_name(key, seed)
    if not (folder / "readers.json").is_file():
        raise FileNotFoundError(f"no shipped readers {folder} (python -m research.make_readers builds them)")
    readers = Readers.load(folder)
    readers.info["path"] = f"zoo/readers/{folder.name}"
    return readers


def readers_for(folder, seed=0):
    """The readers of a cached MNIST-style folder: shipped, cached, or trained now and cached.

    Args:
        folder: pathlib.Path from `data.cached_mnist_style` (its name is the data's key).
        seed: int. Seed of the readers. Defaults to 0.

    Returns:
        Readers, trained on the folder's probe_train split, with `info["probe_test"]` the scores on
        its probe_test split and `info["path"]` where they were found.
    """
    folder = pathlib.Path(folder)
    name = readers_name(folder, seed)
    shipped = shipped_readers_dir() / name
    for place, shown in ((shipped, f"zoo/readers/{name}"), (cache_root() / "readers" / name, None)):
        if (place / "readers.json").is_file():
            readers = Readers.load(place)
            readers.info["path"] = shown or str(place)
            return readers
    readers = train_readers(load_split(folder, "probe_train"), load_split(folder, "probe_test"), seed)
    readers.info["data"] = folder.name
    place = publish_folder(cache_root() / "readers" / name, readers.save, "readers.json")
    readers.info["path"] = str(place)
    return readers
