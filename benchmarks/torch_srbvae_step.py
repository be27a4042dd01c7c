"""The sRb-VAE training step in eager PyTorch: the speed reference of docs/performance.md.

An independent implementation of one step of Algorithm 1 of the paper on the Appendix D networks,
written the way a PyTorch user would: NCHW tensors, eager mode, one `torch.autograd.grad` per player
from the same forward pass, two Adam optimizers. Never a dependency of rbvae_tf: run it from a
separate venv (`python -m venv VENV && VENV/bin/pip install torch numpy`).

Per step, with M unlabelled images x and M reference images x_r (random, as in `cli.py bench train`):
  p side:  x_hat = G(z_hat, e_hat), x_r_hat = G(z_r_hat, e_r)             one generator pass on 2M rows
  q side:  q(z|.) on [x, x_r, x_hat, x_r_hat], q(e|.) on [x, x_hat]      one pass each, 4M and 2M rows
  game:    d(x, z, e) on [q rows, p rows], d'(x_r, z_r) likewise         one pass each, 2M rows
  Eq. 10:  G(z, e), G(z_r, e_r)                                          one generator pass on 2M rows
  model loss  = E d(q) - E d(p) + E d'(q) - E d'(p) + image and latent reconstruction terms (Eq. 8, 10)
  disc. loss  = logistic loss of both discriminators, q rows real (Eq. 9)

Usage: python benchmarks/torch_srbvae_step.py SIZE WIDTH [--batch 36] [--steps 10] [--warmup 3]
Prints one JSON line: {"median_step_s": ..., "threads": ..., "torch": ...}.
"""

import argparse
import json
import math
import statistics
import time

import torch
from torch import nn

BASE = (32, 64, 128, 256)
LATENT = 32  # the paper's size of e and of z


def ch(base, width):
    return max(1, int(round(base * width)))


class PixelNorm(nn.Module):
    def forward(self, x):
        return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + 1e-8)


def conv(c_in, c_out, pixel_norm):
    layers = [nn.Conv2d(c_in, c_out, 3, padding=1)]
    if pixel_norm:
        layers.append(PixelNorm())
    layers.append(nn.LeakyReLU(0.2))
    return layers


def trunk(width, pixel_norm):
    """conv(32) pool conv(32) conv(64) pool conv(64) conv(128) pool conv(128) conv(256) pool conv(256)."""
    c32, c64, c128, c256 = (ch(c, width) for c in BASE)
    plan = [c32, "pool", c32, c64, "pool", c64, c128, "pool", c128, c256, "pool", c256]
    layers, c_in = [], 3
    for step in plan:
        if step == "pool":
            layers.append(nn.AvgPool2d(2))
        else:
            layers += conv(c_in, step, pixel_norm)
            c_in = step
    return nn.Sequential(*layers, nn.Flatten())


class Encoder(nn.Module):
    def __init__(self, size, width):
        super().__init__()
        self.trunk = trunk(width, pixel_norm=True)
        features = ch(256, width) * (size // 16) ** 2
        self.mean, self.log_var = nn.Linear(features, LATENT), nn.Linear(features, LATENT)

    def forward(self, x):
        h = self.trunk(x)
        return self.mean(h), self.log_var(h)


class Generator(nn.Module):
    def __init__(self, size, width):
        super().__init__()
        c32, c64, c128, c256 = (ch(c, width) for c in BASE)
        self.base, self.c256 = size // 16, c256
        self.fc = nn.Linear(2 * LATENT, c256 * self.base**2)
        layers, c_in = [PixelNorm(), nn.LeakyReLU(0.2)], c256
        for step in [c256, c128, "up", c128, c64, "up", c64, c32, "up", c32, "up"]:
            if step == "up":
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
            else:
                layers += conv(c_in, step, pixel_norm=True)
                c_in = step
        self.net = nn.Sequential(*layers, nn.Conv2d(c32, 3, 3, padding=1), nn.Tanh())

    def forward(self, z, e):
        h = self.fc(torch.cat([z, e], dim=1)).view(-1, self.c256, self.base, self.base)
        return self.net(h)


class Discriminator(nn.Module):
    def __init__(self, size, width, n_latents):
        super().__init__()
        self.trunk = trunk(width, pixel_norm=False)
        self.image_fc = nn.Linear(ch(256, width) * (size // 16) ** 2, 64)
        self.latent_fc = nn.ModuleList(nn.Linear(LATENT, 32) for _ in range(n_latents))
        self.dropout = nn.Dropout(0.25)
        self.fc = nn.Linear(64 + 32 * n_latents, 128)
        self.logit = nn.Linear(128, 1)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x, *latents):
        features = [self.act(self.image_fc(self.trunk(x)))]
        features += [self.act(fc(v)) for fc, v in zip(self.latent_fc, latents)]
        h = self.act(self.fc(self.dropout(torch.cat(features, dim=1))))
        return self.logit(h)[:, 0]


def laplace_nll(x, mean, scale=0.01):
    return ((x - mean).abs() / scale + math.log(2 * scale)).flatten(1).sum(1).mean()


def gaussian_nll(v, mean, log_var):
    return (0.5 * ((v - mean).square() * torch.exp(-log_var) + log_var + math.log(2 * math.pi))).sum(1).mean()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", type=int)
    parser.add_argument("width", type=float)
    parser.add_argument("--batch", type=int, default=36)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    size, width, m = args.size, args.width, args.batch
    enc_z, enc_e, gen = Encoder(size, width), Encoder(size, width), Generator(size, width)
    e_r = nn.Parameter(torch.zeros(LATENT))
    disc, disc_r = Discriminator(size, width, 2), Discriminator(size, width, 1)
    model_params = [*enc_z.parameters(), *enc_e.parameters(), *gen.parameters(), e_r]
    disc_params = [*disc.parameters(), *disc_r.parameters()]
    opt_model = torch.optim.Adam(model_params, lr=1e-4, betas=(0.5, 0.99))
    opt_disc = torch.optim.Adam(disc_params, lr=1e-4, betas=(0.5, 0.99))
    x = torch.rand(m, 3, size, size) * 2 - 1
    x_ref = torch.rand(m, 3, size, size) * 2 - 1

    def step():
        e_hat, z_hat, zr_hat = (torch.randn(m, LATENT) for _ in range(3))
        er = e_r.expand(m, LATENT)
        x_hat, xr_hat = gen(torch.cat([z_hat, zr_hat]), torch.cat([e_hat, er])).split(m)
        z_mean, z_lv = enc_z(torch.cat([x, x_ref, x_hat, xr_hat]))
        e_mean, e_lv = enc_e(torch.cat([x, x_hat]))
        z_all = z_mean + torch.exp(0.5 * z_lv) * torch.randn_like(z_mean)
        e_all = e_mean + torch.exp(0.5 * e_lv) * torch.randn_like(e_mean)
        z, z_r = z_all[:m], z_all[m : 2 * m]
        e = e_all[:m]
        d_q, d_p = disc(torch.cat([x, x_hat]), torch.cat([z, z_hat]), torch.cat([e, e_hat])).split(m)
        dr_q, dr_p = disc_r(torch.cat([x_ref, xr_hat]), torch.cat([z_r, zr_hat])).split(m)
        x_fit, xr_fit = gen(torch.cat([z, z_r]), torch.cat([e, er])).split(m)
        recon = (
            laplace_nll(x, x_fit)
            + laplace_nll(x_ref, xr_fit)
            + gaussian_nll(z_hat, z_mean[2 * m : 3 * m], z_lv[2 * m : 3 * m])
            + gaussian_nll(e_hat, e_mean[m:], e_lv[m:])
            + gaussian_nll(zr_hat, z_mean[3 * m :], z_lv[3 * m :])
        )
        model_loss = d_q.mean() - d_p.mean() + dr_q.mean() - dr_p.mean() + recon
        softplus = nn.functional.softplus
        disc_loss = softplus(-d_q).mean() + softplus(d_p).mean() + softplus(-dr_q).mean() + softplus(dr_p).mean()
        model_grads = torch.autograd.grad(model_loss, model_params, retain_graph=True)
        disc_grads = torch.autograd.grad(disc_loss, disc_params)
        for params, grads, opt in ((model_params, model_grads, opt_model), (disc_params, disc_grads, opt_disc)):
            for p, g in zip(params, grads):
                p.grad = g
            opt.step()

    times = []
    for i in range(args.warmup + args.steps):
        start = time.perf_counter()
        step()
        if i >= args.warmup:
            times.append(time.perf_counter() - start)
    print(
        json.dumps(
            {
                "median_step_s": statistics.median(times),
                "size": size,
                "width": width,
                "batch": m,
                "steps": args.steps,
                "threads": torch.get_num_threads(),
                "torch": torch.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
