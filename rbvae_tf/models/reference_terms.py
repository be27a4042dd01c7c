"""Terms beyond the paper shared by Rb-VAE and sRb-VAE (ablations of docs/ablations.md).

Both are off by default (weight 0), so the classes train the paper's objectives unless asked.

- `z_invariance`: MMD between z ~ q(z|x) of the unlabelled batch and z_r ~ q(z|x_r) of the
  reference batch. The two sets show the same digits, so when z holds only the common factors the
  two aggregate posteriors are equal; any target factor carried by z makes them differ (the
  reference set has none). Always computed (it is cheap and tells how far z is from invariant).
- `reference_target`: -log q(e_r | x_r), which pulls the target encoder's posterior on reference
  images to the learned reference vector e_r. Costs one more target-encoder pass, so it is only
  computed when its weight is not zero.
"""

from keras import ops

from rbvae_tf import losses


def reference_terms(model, z, z_reference, x_reference, e_reference):
    """`{"z_invariance": MMD(z, z_r)}`, plus `"reference_target"` when `model.weight_reference_target`."""
    terms = {"z_invariance": losses.mmd(z, z_reference)}
    if model.weight_reference_target:
        mean, log_var = model.target_encoder(x_reference, training=True)
        terms["reference_target"] = ops.mean(losses.gaussian_nll(e_reference, mean, log_var))
    return terms
