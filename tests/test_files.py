"""rbvae_tf.files: outputs replace their old version in one step and get the usual file mode."""

import os
import stat

import pytest

from rbvae_tf.errors import UserError
from rbvae_tf.files import write_text_atomically


def test_atomic_write_has_the_mode_of_a_plain_write(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    atomic = write_text_atomically(tmp_path / "atomic.txt", "y")
    assert stat.S_IMODE(os.stat(atomic).st_mode) == stat.S_IMODE(os.stat(plain).st_mode)
    assert atomic.read_text() == "y"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atomic.txt", "plain.txt"]  # no temporary left


def test_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")

    def broken(stream):
        stream.write("half")
        raise UserError("boom")

    from rbvae_tf.files import write_atomically

    with pytest.raises(UserError, match="boom"):
        write_atomically(path, broken, mode="w")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_publish_folder_renames_a_complete_build_and_leaves_nothing_after_a_failure(tmp_path):
    from rbvae_tf.files import publish_folder

    def build(folder):
        (folder / "done.json").write_text("{}")

    place = publish_folder(tmp_path / "cache" / "key", build, "done.json")
    assert (place / "done.json").read_text() == "{}" and sorted(p.name for p in place.parent.iterdir()) == ["key"]

    def failing(folder):
        (folder / "half").write_text("x")
        raise RuntimeError("build failed")

    with pytest.raises(RuntimeError):
        publish_folder(tmp_path / "cache" / "other", failing, "done.json")
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["key"]  # no half-built folder

    def second(folder):  # a second build of an already published folder keeps the first
        (folder / "done.json").write_text("second")
        (folder / "extra").write_text("x")

    place.joinpath("sub").mkdir()  # a non-empty target: os.replace fails, the published one is kept
    assert publish_folder(place, second, "done.json") == place
    assert (place / "done.json").read_text() == "{}" and not (place / "extra").exists()
