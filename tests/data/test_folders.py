"""Image folders: listing, header checks, tf.data streaming, Pillow loading, probe folders."""

import os

import numpy as np
import pytest
from PIL import Image

from rbvae_tf.data import folders
from rbvae_tf.errors import UserError

# name, Pillow mode, (width, height)
FILES = [
    ("a_rgb.png", "RGB", (40, 30)),
    ("b_grey.png", "L", (17, 50)),
    ("c_rgba.png", "RGBA", (20, 20)),
    ("d_rgb.jpg", "RGB", (100, 70)),
    ("e_grey.jpeg", "L", (45, 61)),
    ("sub/f_rgb.bmp", "RGB", (64, 64)),
    ("sub/g_grey.BMP", "L", (33, 33)),
]


def smooth_image(rng, width, height):
    """A smooth random RGB image (JPEG-friendly)."""
    coarse = Image.fromarray(rng.integers(0, 256, (4, 4, 3), dtype=np.uint8))
    return coarse.resize((width, height), Image.BILINEAR)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for name, mode, (width, height) in FILES:
        (root / name).parent.mkdir(exist_ok=True)
        smooth_image(rng, width, height).convert(mode).save(root / name)
    (root / "notes.txt").write_text("not an image")
    return root


def test_list_images_recursive_sorted(folder):
    files = folders.list_images(folder)
    assert [os.path.relpath(f, folder) for f in files] == sorted(name for name, _, _ in FILES)


def test_folder_dataset(folder):
    dataset = folders.image_folder_dataset(folder, 16)
    assert dataset.cardinality().numpy() == len(FILES)
    images = np.stack([image.numpy() for image in dataset])
    assert images.shape == (len(FILES), 16, 16, 3) and images.dtype == np.uint8
    files = folders.list_images(folder)
    for image, file in zip(images, files):
        if "grey" in file:
            assert (image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all()
    # Same pixels as Pillow (`load_images`) up to decoder rounding (JPEG decoders differ).
    pillow = folders.load_images(files, 16)
    difference = np.abs(images.astype(int) - pillow).max(axis=(1, 2, 3))
    assert difference.max() <= 3
    assert [d for d, f in zip(difference, files) if ".jp" not in f] == [0] * 5
    assert images.std() > 10


def test_folder_dataset_shuffles_file_order(folder):
    ordered = np.stack([x.numpy() for x in folders.image_folder_dataset(folder, 16)])
    shuffled = folders.image_folder_dataset(folder, 16, shuffle_seed=1)
    first = np.stack([x.numpy() for x in shuffled])
    again = np.stack([x.numpy() for x in folders.image_folder_dataset(folder, 16, shuffle_seed=1)])
    np.testing.assert_array_equal(first, again)  # seeded
    assert not np.array_equal(first, ordered)
    key = lambda images: sorted(image.tobytes() for image in images)
    assert key(first) == key(ordered)  # a permutation


def test_load_images_square_crop(tmp_path):
    wide = np.zeros((20, 60, 3), np.uint8)
    wide[:, 20:40] = 255  # only the centre square is white
    Image.fromarray(wide).save(tmp_path / "wide.png")
    image = folders.load_images([tmp_path / "wide.png"], 16)
    assert image.shape == (1, 16, 16, 3) and image.min() == 255
    streamed = next(iter(folders.image_folder_dataset(tmp_path, 16))).numpy()
    assert streamed.min() == 255


def test_corrupt_file_is_named(folder, tmp_path):
    (tmp_path / "good.png").write_bytes((folder / "a_rgb.png").read_bytes())
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n but then garbage")
    with pytest.raises(UserError, match="broken.png"):
        folders.image_folder_dataset(tmp_path, 16)
    with pytest.raises(UserError, match="cannot decode image .*broken.png"):
        folders.load_images([tmp_path / "good.png", tmp_path / "broken.png"], 16)


def test_truncated_pixels_need_full_check(folder, tmp_path):
    data = (folder / "d_rgb.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    folders.check_images([tmp_path / "cut.jpg"])  # the header is fine
    with pytest.raises(UserError, match="cut.jpg"):
        folders.check_images([tmp_path / "cut.jpg"], full=True)


def test_unsupported_formats(tmp_path):
    Image.new("RGB", (8, 8)).convert("P").save(tmp_path / "palette.bmp")
    with pytest.raises(UserError, match="palette or 1-bit BMP"):
        folders.image_folder_dataset(tmp_path, 16)
    (tmp_path / "palette.bmp").unlink()
    Image.new("RGB", (8, 8)).save(tmp_path / "really_a_gif.png", format="GIF")
    with pytest.raises(UserError, match="GIF image, not PNG"):
        folders.image_folder_dataset(tmp_path, 16)


def test_folder_errors(tmp_path, monkeypatch):
    with pytest.raises(UserError, match="not found"):
        folders.image_folder_dataset(tmp_path / "missing", 16)
    (tmp_path / "notes.txt").write_text("no images here")
    with pytest.raises(UserError, match="no PNG/JPEG/BMP images"):
        folders.image_folder_dataset(tmp_path, 16)
    with pytest.raises(UserError, match="size must be a positive multiple of 16"):
        folders.image_folder_dataset(tmp_path, 30)

    def denied(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "scandir", denied)  # root ignores chmod, so fake an unreadable folder
    with pytest.raises(UserError, match="cannot read folder .*Permission denied"):
        folders.list_images(tmp_path)


def test_load_images_errors(tmp_path):
    with pytest.raises(UserError, match="image not found"):
        folders.load_images([tmp_path / "nope.png"], 16)
    (tmp_path / "text.jpg").write_text("hello")
    with pytest.raises(UserError, match="cannot decode image"):
        folders.load_images([tmp_path / "text.jpg"], 16)
    assert folders.load_images([], 16).shape == (0, 16, 16, 3)


def test_sixteen_bit_png_is_scaled_not_clipped(tmp_path):
    Image.fromarray(np.full((16, 16), 32768, np.uint16)).save(tmp_path / "deep.png")
    image = folders.load_images([tmp_path / "deep.png"], 16)
    assert image[0, 0, 0].tolist() == [128, 128, 128]
    streamed = next(iter(folders.image_folder_dataset(tmp_path, 16))).numpy()
    assert streamed[0, 0].tolist() == [128, 128, 128]


def test_probe_folder(tmp_path):
    rng = np.random.default_rng(0)
    for name, count in (("cats", 3), ("dogs", 2)):
        (tmp_path / name).mkdir()
        for i in range(count):
            smooth_image(rng, 30, 20).save(tmp_path / name / f"{i}.png")
    (tmp_path / "stray.png").write_bytes((tmp_path / "cats" / "0.png").read_bytes())
    probe = folders.load_probe_folder(tmp_path, 32)
    assert probe["class_names"] == ["cats", "dogs"]
    assert probe["labels"].tolist() == [0, 0, 0, 1, 1] and probe["labels"].dtype == np.int64
    assert probe["images"].shape == (5, 32, 32, 3) and probe["images"].dtype == np.uint8
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no PNG/JPEG/BMP images in .*empty"):
        folders.load_probe_folder(tmp_path, 32)


def test_probe_folder_errors(tmp_path):
    with pytest.raises(UserError, match="not found"):
        folders.load_probe_folder(tmp_path / "missing", 32)
    with pytest.raises(UserError, match="no class sub-folders"):
        folders.load_probe_folder(tmp_path, 32)
