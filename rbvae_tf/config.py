"""The configuration of a training run: one small dataclass and three training budgets (`PRESETS`, the CLI's
`--budget tiny|cpu|paper`; the field keeps its name `preset` so that every config.json stays readable).

`config.json` in a run directory is `asdict(FitConfig)` plus the model's own `get_config()`, so a
run rebuilds itself: `FitConfig(**config["fit"])` gives the run's configuration back, and the model
is rebuilt from `model_config` (`loading.load_trained`).
"""

import dataclasses
import json

from rbvae_tf.data.checks import check_padding, check_size
from rbvae_tf.errors import UserError

PRESETS = {
    # S 16, a handful of steps: for tests and smoke runs.
    "tiny": dict(
        image_size=16,
        width=0.125,
        target_dim=8,
        common_dim=8,
        epochs=2,
        steps_per_epoch=3,
        batch_size=8,
        limit=256,
        jit=False,
        reference_width=1,
        learning_rate=1e-4,
    ),
    # The best sRb-VAE e-probe from at most 30 minutes of training on a 2-core CPU, chosen by measurement:
    # research/select_cpu_preset.py (width 1/2 beat 1/4; 450 steps per epoch were no better and left no margin)
    # and `cli.py bench train` (XLA no faster at this size); see docs/archive/cpu-preset-selection.md. Reference
    # outlines 3 px wide at 64 px: at 32 px the paper's 1 px outline is too faint and the reference branch dies
    # (docs/ablations.md). Learning rate 3e-4, the presets' recipe: better than the paper's 1e-4 at this budget
    # for the VAE and sRb-VAE (docs/ablations.md, v0-vae-lr3e4 and r10-lr3e4; for Rb-VAE it was not, s*-rb02-lr3e4).
    "cpu": dict(
        image_size=32,
        width=0.5,
        target_dim=32,
        common_dim=32,
        epochs=6,
        steps_per_epoch=400,
        batch_size=36,
        limit=None,
        jit=False,
        reference_width=3,
        learning_rate=3e-4,
    ),
    # The paper (Sec. 5.2, App. D): 64 px, full width, 30 epochs over the 60k unlabelled images.
    "paper": dict(
        image_size=64,
        width=1.0,
        target_dim=32,
        common_dim=32,
        epochs=30,
        steps_per_epoch=None,
        batch_size=36,
        limit=None,
        jit="auto",
        reference_width=1,
        learning_rate=1e-4,
    ),
}

# Model arguments a preset adds for one model (the user's --model-arg wins). Empty: the paper's objectives.
# The cpu ones are the best runs of docs/ablations.md (closest to the reference-branch study's targets): they go
# beyond the paper.
PRESET_MODEL_ARGS = {
    "tiny": {},
    "cpu": {
        # r07-er100: z-invariance MMD between unlabelled and reference z, and e(x_r) pulled hard to e_r.
        "srbvae": {"weight_z_invariance": 10000.0, "weight_reference_target": 100.0},
        # rb02-betae10: KL on e weighted 10, so the digit goes through z.
        "rbvae": {"beta_e": 10.0},
    },
    "paper": {},
}

LR_SCHEDULES = ("constant", "cosine")
MIXED_PRECISIONS = (None, "bf16")


@dataclasses.dataclass
class FitConfig:
    """Everything `fit` needs; fields left as None take the preset's value.

    The one place that checks a configuration (`__post_init__`): an unknown budget or schedule, an image side
    that is not a multiple of 16, a negative limit, XLA with several replicas, `data` with image folders, one
    image folder without the other. Each is a `UserError`, which the CLI prints as one line.
    """

    model: str = "srbvae"
    preset: str = "cpu"
    image_size: int = None
    width: float = None  # channel multiplier of every network: channels = width * (32, 64, 128, 256)
    target_dim: int = None  # De; the unsupervised baselines use De + Dz latents
    common_dim: int = None  # Dz
    epochs: int = None
    steps_per_epoch: int = None  # None: one pass over the unlabelled set per epoch
    batch_size: int = None  # global batch, split across replicas
    seed: int = 0  # data order, sampling noise and weight initialisation
    jit: bool = None  # XLA, or "auto": on with a GPU only (`training.use_xla`); off with --replicas > 1
    # None (fp32) or "bf16": the train step's convolutions and matrix products in bfloat16, weights, losses and
    # element-wise ops in fp32 (`runtime.set_precision`); opt-in, on CPUs with AVX512_BF16 or AMX
    mixed_precision: str = None
    replicas: int = 1
    learning_rate: float = None  # both players' Adam
    # The discriminator player's Adam (sVAE, sRb-VAE); None: `learning_rate`, as in the paper.
    discriminator_learning_rate: float = None
    # "constant" (the paper) or "cosine": both players' rates decay to 0 over the run's epochs x steps
    # (`training.learning_rates`).
    lr_schedule: str = "constant"
    model_args: dict = dataclasses.field(default_factory=dict)  # e.g. {"beta_kl": 8.0}
    # data: the MNIST-style set (default: built and cached from these settings; `data`: a folder built by
    # `python cli.py data mnist-style`, whose build arguments replace mnist, data_seed, limit, reference_width,
    # padding)
    # or folders of images (reference, unlabelled)
    data: str = None
    mnist: str = None
    data_seed: int = 0
    limit: int = None  # cap every split (quick runs)
    reference_width: int = None  # outline width of the MNIST-style references at 64 px (the paper: 1)
    # where a shrunk MNIST-style digit sits in its zero padding (App. C.1): "centre" or "corner" (top left)
    padding: str = "centre"
    reference: str = None
    unlabelled: str = None

    def __post_init__(self):
        if self.preset not in PRESETS:
            raise UserError(f"unknown preset {self.preset!r}; choose one of {', '.join(PRESETS)}")
        if self.replicas > 1:
            if self.jit is True:
                raise UserError("--jit does not work with --replicas > 1 (XLA fails under MirroredStrategy on CPU)")
            self.jit = False
        for key, value in PRESETS[self.preset].items():
            if getattr(self, key) is None:
                setattr(self, key, value)
        if self.lr_schedule not in LR_SCHEDULES:
            raise UserError(
                f"unknown learning-rate schedule {self.lr_schedule!r}; choose one of {', '.join(LR_SCHEDULES)}"
            )
        if self.mixed_precision not in MIXED_PRECISIONS:
            raise UserError(f"unknown mixed precision {self.mixed_precision!r}; choose bf16 or None (fp32)")
        check_size(self.image_size, "--image-size")
        check_padding(self.padding)
        if self.limit is not None and self.limit < 0:
            raise UserError(f"--limit must be >= 0, got {self.limit}")
        if self.data and (self.reference or self.unlabelled):
            raise UserError("--data is an MNIST-style folder: it does not combine with --reference/--unlabelled")
        if bool(self.reference) != bool(self.unlabelled):
            raise UserError("--reference and --unlabelled go together")
        self.model_args = {**PRESET_MODEL_ARGS[self.preset].get(self.model, {}), **self.model_args}

    @property
    def model_kwargs(self):
        """Constructor arguments of the model."""
        return dict(
            image_size=self.image_size,
            width=self.width,
            target_dim=self.target_dim,
            common_dim=self.common_dim,
            seed=self.seed,
            **self.model_args,
        )

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)
