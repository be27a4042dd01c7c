"""Trains the readers of the transfer/generation scores for the bundled data and ships them in zoo/readers/.

    python -m research.make_readers       # 32 px, data seed 0, the bundled zoo/data/mnist.npz (the presets' data)

`python cli.py evaluate` reads the outputs of attribute transfer and conditional generation with a digit
classifier and a factor regressor trained on the real probe_train images of the data it evaluates on
(`rbvae_tf/evaluation/readers.py`). For the bundled 32 px data, the one every zoo preset trained on, they
are shipped here, so that evaluating a preset (and the card test, tests/zoo/test_presets.py) never trains
them; for any other data they are trained on first use (about 100 s at 32 px on 2 busy cores) and cached.
Training is seeded (seed 0): running this again gives readers of the same accuracy (the exact weights may
differ in the last bits between machines). Prints their accuracy and MAE on the 5,000 real probe_test images.
"""

import json

from rbvae_tf import data
from rbvae_tf.evaluation.readers import readers_name, shipped_readers_dir, train_readers
from research.layout import ZOO

SIZE, DATA_SEED, READER_SEED = 32, 0, 0


def main():
    folder = data.cached_mnist_style(size=SIZE, seed=DATA_SEED, mnist_path=str(ZOO / "data" / "mnist.npz"))
    train, test = data.load_split(folder, "probe_train"), data.load_split(folder, "probe_test")
    readers = train_readers(train, test, seed=READER_SEED)
    readers.info["data"] = folder.name
    readers.info["command"] = "python -m research.make_readers"
    out = readers.save(shipped_readers_dir() / readers_name(folder, READER_SEED))
    print(json.dumps(readers.info, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
