"""Conditional generation with ONNX Runtime (paper Fig. 3): the z of one image with many e.

    python export/onnx_generate.py exports/run --image a.png --n 8 --out grid.png --seed 0

One row: the input image, its reference version G(z, e_r) (e_r from metadata.json), then n
samples G(z, e) with e ~ N(0, I), where z is the posterior mean of the input. Needs numpy,
Pillow and onnxruntime only, and an ONNX export of an rbvae or srbvae model. Importable too:

    from export.onnx_generate import generate
    tiles = generate("exports/run", image, n=8, seed=0)  # float32 (n + 2, S, S, 3)
"""

import pathlib
import sys

import numpy as np

if __package__ in (None, ""):  # run as `python export/onnx_generate.py`
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from export.ort_common import (
    ArgumentParser,
    InputError,
    add_common_arguments,
    check_images,
    load_image,
    load_session,
    make_grid,
    parse_threads,
    read_metadata,
    require_reference_based,
    run_main,
    save_image,
)


def generate(export_dir, image, n=8, seed=0, provider="auto", threads="auto"):
    """The input, its reference version and `n` samples of e for the z of one image.

    Args:
        export_dir: str or pathlib.Path. An ONNX export of an rbvae or srbvae model.
        image: float array (S, S, 3) or (1, S, S, 3) in [-1, 1].
        n: int. Number of samples e ~ N(0, I). Defaults to 8.
        seed: int. Seed of the samples. Defaults to 0.
        provider: str. `auto`, `cuda` or `cpu`. Defaults to `"auto"`.
        threads: str or int. ORT intra-op threads: `auto` (the measured rule of
            `ort_common.session_options`), `default` or N. Defaults to `"auto"`.

    Returns:
        np.ndarray float32 (n + 2, S, S, 3) in [-1, 1]: input, G(z, e_r), G(z, e_1..e_n).
    """
    metadata = read_metadata(export_dir)
    require_reference_based(metadata, "conditional generation")
    image = check_images(image, metadata["image_size"], "image")
    if image.shape[0] != 1:
        raise InputError(f"image must be a single image, got a batch of {image.shape[0]}")
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise InputError(f"n must be a non-negative integer, got {n!r}")
    encoder = load_session(export_dir, "encoder_z", provider, threads=threads)
    generator = load_session(export_dir, "generator", provider, threads=threads, batch=n + 1)
    z = encoder.run(["mean"], {"images": image})[0]
    reference = np.asarray(metadata["reference_target"], np.float32)[None]
    samples = np.random.default_rng(seed).standard_normal((n, metadata["target_dim"])).astype(np.float32)
    e = np.concatenate([reference, samples])
    images = generator.run(["images"], {"z": np.repeat(z, n + 1, axis=0), "e": e})[0]
    return np.concatenate([image, images])


def main(argv=None):
    parser = ArgumentParser(description="Conditional generation: z of --image, e_r, then n samples of e.")
    add_common_arguments(parser)
    parser.add_argument("--image", required=True, help="image giving the common factors z")
    parser.add_argument("--n", type=int, default=8, help="number of samples of e (default 8)")
    parser.add_argument("--out", required=True, help="output grid image (PNG)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the samples (default 0)")
    args = parser.parse_args(argv)
    if args.n < 0:
        parser.error(f"--n must be >= 0, got {args.n}")
    threads = parse_threads(args.threads)
    metadata = read_metadata(args.export_dir)
    require_reference_based(metadata, "conditional generation")
    tiles = generate(
        args.export_dir, load_image(args.image, metadata["image_size"]), args.n, args.seed, args.provider, threads
    )
    save_image(make_grid(tiles), args.out)
    print(f"wrote {args.out}: input, reference version, {args.n} samples")


if __name__ == "__main__":
    run_main(main)
