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
