import keras
from keras import ops

from rbvae_tf import losses
from rbvae_tf.models.vae import VAE


@keras.saving.register_keras_serializable(package="rbvae_tf")
class DIPVAE(VAE):
    """DIP-VAE-I and -II (Kumar et al. 2018): the VAE objective (Eq. 1) plus a moment penalty.

    Type "i" penalises Cov[mu(x)], type "ii" penalises E[Sigma(x)] + Cov[mu(x)], pushing the
    off-diagonal entries to 0 (weight lambda_od) and the diagonal to 1 (weight lambda_d).

    Args:
        dip_type: str. `"i"` or `"ii"`. Defaults to `"i"`.
        lambda_od: float. Off-diagonal weight. Defaults to 10.0.
        lambda_d: float or None. Diagonal weight; None means 10 * lambda_od for type i and lambda_od
            for type ii (Kumar et al.). Defaults to None.
        **kwargs: the arguments of `LatentModel`.

    Example:
    >>> DIPVAE(dip_type="ii", image_size=16, width=0.125).diagonal_weight
    10.0
    """

    metric_names = ("loss", "reconstruction", "kl", "dip")

    def __init__(self, dip_type="i", lambda_od=10.0, lambda_d=None, **kwargs):
        if dip_type not in ("i", "ii"):
            raise ValueError(f"dip_type must be 'i' or 'ii', got {dip_type!r}")
        super().__init__(**kwargs)
        # === Config ===
        self.dip_type = dip_type
        self.lambda_od = lambda_od
        self.lambda_d = lambda_d

    @property
    def diagonal_weight(self):
        if self.lambda_d is not None:
            return self.lambda_d
        return 10.0 * self.lambda_od if self.dip_type == "i" else self.lambda_od

    def objective(self, x, x_reference):
        mean, log_var, reconstruction, kl = self.elbo_terms(x)
        dip = losses.dip_penalty(mean, log_var, self.lambda_od, self.diagonal_weight, self.dip_type)
        return {"reconstruction": reconstruction, "kl": kl, "dip": ops.convert_to_tensor(dip)}

    def get_config(self):
        return {
            **super().get_config(),
            "dip_type": self.dip_type,
            "lambda_od": self.lambda_od,
            "lambda_d": self.lambda_d,
        }
