"""Writing outputs safely: every file goes to a temporary name in its folder, then `os.replace`,
so an existing output is never half-written and an error leaves it intact."""

import os
import pathlib
import shutil
import tempfile

from rbvae_tf.errors import UserError


def check_can_create(path, verb="create"):
    """UserError unless `path` could be created: its nearest existing ancestor is a writable folder.

    Checked before long work (loading data, training), so that a bad output path fails at once."""
    path = pathlib.Path(path).expanduser()
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise UserError(f"cannot {verb} {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"cannot {verb} {path}: {parent} is not writable")
    return path


def make_folder(out_dir):
    """Creates `out_dir` (and parents) and returns it as a Path, or raises UserError."""
    out_dir = pathlib.Path(out_dir).expanduser()
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"output {out_dir} exists and is not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create {out_dir}: {error.strerror or error}") from None
    return out_dir


def _umask():
    """The process's umask (reading it means setting it: set it back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomically(path, write, mode="wb"):
    """Calls `write(stream)` on a temporary file next to `path`, then renames it to `path`."""
    path = pathlib.Path(path)
    check_can_create(path, "write")
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; an output gets open()'s usual mode
            with os.fdopen(fd, mode) as stream:
                write(stream)
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror or error}") from None
    return path


def write_text_atomically(path, text):
    """`write_atomically` for a text file."""
    return write_atomically(path, lambda stream: stream.write(text), mode="w")


def publish_folder(place, build, marker):
    """Builds a folder with `build(temporary)` next to `place` and renames it into place when complete.

    The folder exists under its name only once complete; if another process published the same folder
    first (so `place/marker` exists), that one is kept. A failed build leaves nothing behind.

    Returns:
        pathlib.Path: `place`.
    """
    place = pathlib.Path(place)
    temporary = make_folder(place.with_name(f".{place.name}.{os.getpid()}.tmp"))
    try:
        build(temporary)
        try:
            os.replace(temporary, place)
        except OSError:  # another process finished the same folder first
            if not (place / marker).is_file():
                raise
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return place
