"""The sRb-VAE step with one backward pass through each discriminator (`AdversarialBase.game_gradients`)
against the former step with one backward pass per player, in ONE process.

    python docs/archive/bench/game_gradients_ab.py 64 1.0 [ROUNDS] [STEPS]

Both models are built with the paper preset. The former step is the same `train_step` with `game_gradients`
replaced by two `tape.gradient` calls, one per player. (Runs 1 and 2 in BENCHMARKS.md used a first version of
this script that kept a copy of the former two-tape `train_step`; run 3 is the first with this version.) Each
round runs STEPS steps of the new step, then STEPS of the former, back to back, and prints the median step of each (wall seconds, and the cores it kept busy:
CPU seconds / wall) and the former/new ratios of wall and CPU time. Interleaving inside one process
cancels much of the drift between processes that made whole-process A/B runs on this machine vary by
+-15 %. The last line: medians of the ratios over the rounds.
"""

import pathlib
import statistics
import sys
import time
import types

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs" / "bench"))

BATCH = 36


def two_backward_gradients(self, tape, calls, model_loss, recon_loss, discriminator_loss):
    """The former gradients: one backward pass per player, so two through each discriminator."""
    return (tape.gradient(model_loss, self.model_variables),
            tape.gradient(discriminator_loss, self.discriminator_variables))


def main(argv):
    import keras
    import numpy as np
    import tensorflow as tf

    from profile_step import tf_model

    size, width = int(argv[0]), float(argv[1])
    rounds = int(argv[2]) if len(argv) > 2 else 8
    steps = int(argv[3]) if len(argv) > 3 else 4
    new, former = tf_model(size, width), tf_model(size, width)
    former.game_gradients = types.MethodType(two_backward_gradients, former)
    rng = np.random.default_rng(0)
    batch = tuple(tf.constant(rng.uniform(-1, 1, (BATCH, size, size, 3)).astype(np.float32)) for _ in range(2))
    dataset = tf.data.Dataset.from_tensors(batch).repeat()

    class Clock(keras.callbacks.Callback):
        """Wall and CPU seconds of each step. (Timing whole `fit` calls instead showed, here, calls of exactly
        10.24 or 20.48 s with the cores half idle: a stall outside the steps, unexplained, that hit either side.)"""

        def on_train_batch_begin(self, batch, logs=None):
            self.start = time.perf_counter(), time.process_time()

        def on_train_batch_end(self, batch, logs=None):
            self.times.append((time.perf_counter() - self.start[0], time.process_time() - self.start[1]))

    def run(model):
        clock = Clock()
        clock.times = []
        model.fit(dataset, epochs=1, steps_per_epoch=steps, callbacks=[clock], verbose=0, shuffle=False)
        return statistics.median(t[0] for t in clock.times), statistics.median(t[1] for t in clock.times)

    for model in (new, former):  # trace and warm up
        run(model)
        run(model)
    wall_ratios, cpu_ratios = [], []
    print("| round | new s/step (cores) | former s/step (cores) | former/new wall | former/new CPU |")
    print("|---|---|---|---|---|")
    for i in range(rounds):
        (new_wall, new_cpu), (old_wall, old_cpu) = run(new), run(former)
        wall_ratios.append(old_wall / new_wall)
        cpu_ratios.append(old_cpu / new_cpu)
        print(f"| {i + 1} | {new_wall:.3f} ({new_cpu / new_wall:.2f}) | {old_wall:.3f} ({old_cpu / old_wall:.2f}) | "
              f"{wall_ratios[-1]:.3f} | {cpu_ratios[-1]:.3f} |", flush=True)
    print(f"size {size} width {width}: median former/new {statistics.median(wall_ratios):.3f} wall, "
          f"{statistics.median(cpu_ratios):.3f} CPU over {rounds} rounds of {steps} steps")


if __name__ == "__main__":
    main(sys.argv[1:])
