"""Attribute transfer with ONNX Runtime (paper Sec. 5.4): G(mean z(content), mean e(style)).

    python export/onnx_transfer.py exports/run --content a.png --style b.png --out c.png

Needs numpy, Pillow and onnxruntime only, and an export of a reference-based model (rbvae,
srbvae) written by `python cli.py export --onnx`. Importable too:

    from export.onnx_transfer import transfer
    images = transfer("exports/run", content, style)  # float32 (B, S, S, 3) in [-1, 1]
"""

import pathlib
import sys

if __package__ in (None, ""):  # run as `python export/onnx_transfer.py`
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from export.ort_common import (
    ArgumentParser,
    InputError,
    add_common_arguments,
    check_images,
    load_image,
    load_session,
    read_metadata,
    require_reference_based,
    run_main,
    save_image,
    session_options,
)


def transfer(export_dir, content, style, provider="auto", session=None, threads="auto"):
    """Images with the common factors of `content` and the target factors of `style`.

    Args:
        export_dir: str or pathlib.Path. An ONNX export of an rbvae or srbvae model.
        content: float array (S, S, 3) or (B, S, S, 3) in [-1, 1]. Gives z.
        style: float array of the same shape in [-1, 1]. Gives e.
        provider: str. `auto`, `cuda` or `cpu`. Defaults to `"auto"`.
        session: onnxruntime.InferenceSession or None. A loaded `transfer` graph, to reuse.
        threads: str or int. ORT intra-op threads of a new session: `auto` (the measured rule of
            `ort_common.session_options`), `default` or N. Defaults to `"auto"`.

    Returns:
        np.ndarray float32 (B, S, S, 3) in [-1, 1].
    """
    metadata = read_metadata(export_dir)
    require_reference_based(metadata, "transfer")
    content = check_images(content, metadata["image_size"], "content")
    style = check_images(style, metadata["image_size"], "style")
    if content.shape != style.shape:
        raise InputError(f"content and style must have the same shape, got {content.shape} and {style.shape}")
    session = session or load_session(export_dir, "transfer", provider, threads=threads, batch=len(content))
    return session.run(["images"], {"content": content, "style": style})[0]


def main(argv=None):
    parser = ArgumentParser(description="Attribute transfer: z from --content, e from --style.")
    add_common_arguments(parser)
    parser.add_argument("--content", required=True, help="image giving the common factors z")
    parser.add_argument("--style", required=True, help="image giving the target factors e")
    parser.add_argument("--out", required=True, help="output image file (PNG)")
    args = parser.parse_args(argv)
    options, setting = session_options(args.threads)
    metadata = read_metadata(args.export_dir)
    require_reference_based(metadata, "transfer")
    size = metadata["image_size"]
    session = load_session(args.export_dir, "transfer", args.provider, options)
    result = transfer(args.export_dir, load_image(args.content, size), load_image(args.style, size), session=session)
    save_image(result[0], args.out)
    print(f"wrote {args.out} ({size}x{size}, {session.get_providers()[0]}, {setting})")


if __name__ == "__main__":
    run_main(main)
