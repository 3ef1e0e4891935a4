"""Checks of the paths a command will write to, made before any long work starts.

A folder that turns out to be a file (or a file that turns out to be a folder) used to surface
as ``FileExistsError`` / ``IsADirectoryError`` only when the results were written, after all
the work; these raise :class:`ConfigError` naming the option and the path up front.
"""

from __future__ import annotations

import os
from pathlib import Path

from tasks.errors import ConfigError

__all__ = ["check_output_dir", "check_output_file"]


def _nearest_existing(path: Path) -> Path:
    """``path`` itself when it exists, else its closest existing ancestor."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")  # pragma: no cover - a relative path's last parent is "."


def _check_parent(path: Path, what: str, shown: str) -> None:
    base = _nearest_existing(path.parent if not path.exists() else path)
    if not base.is_dir():
        raise ConfigError(f"{what} {shown!r} cannot be created: {str(base)!r} is a file")
    if not os.access(base, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} {shown!r} cannot be written: {str(base)!r} is not writable")


def check_output_dir(path: str | os.PathLike[str], what: str = "out_dir") -> Path:
    """``path`` as a folder results can be written into: an existing folder, or one that can be
    created (no file in the way). ``what`` names the option in the message.

    Raises
    ------
    ConfigError
        When ``path`` is an existing file, or a file stands where one of its parents would be.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "taken"
    >>> _ = f.write_text("x")
    >>> check_output_dir(f.parent / "new" / "run").name
    'run'
    >>> check_output_dir(f, "--out")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tasks.errors.ConfigError: --out '...taken' is a file, not a folder; name a new or existing one
    """
    shown = os.fspath(path)
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ConfigError(f"{what} {shown!r} is a file, not a folder; name a new or existing one")
    _check_parent(p, what, shown)
    return p


def check_output_file(path: str | os.PathLike[str], what: str = "path") -> Path:
    """``path`` as a file that can be written: not a folder, and no file where a parent folder
    would be (missing parent folders are fine: they are created). ``what`` names the option.

    Raises
    ------
    ConfigError
        When ``path`` is a folder or cannot be created.
    """
    shown = os.fspath(path)
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"{what} {shown!r} is a directory; name a file to write")
    if shown.endswith(("/", os.sep)):
        raise ConfigError(f"{what} {shown!r} ends with a path separator; name a file to write")
    _check_parent(p, what, shown)
    return p
