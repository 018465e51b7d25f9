"""Turn what a student handed in (a folder or a .zip) into a folder laid out like ``exercises/``.

The submission may be a copy of ``exercises/`` (with ``numpy_ag/`` and ``pytorch/`` inside), a folder that
contains such a copy somewhere below it, or a zip of either. Loose module files (``kl.py``, ...) are put into
one track (``flat_track``). Modules the student did not hand in are taken from the stubs, so they are graded
"not attempted" instead of failing to import. Folders and zips alike are refused when they hold a symbolic link,
more than ``MAX_FILES`` files or ``MAX_UNPACKED_BYTES`` bytes, or folders nested more than ``MAX_DEPTH`` deep;
zips are unpacked without leaving the destination.
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from pathlib import Path

from ..paths import EXERCISES_DIR, TRACKS

MAX_UNPACKED_BYTES = 200 * 2**20
MAX_FILES = 5000
MAX_DEPTH = 16  # folders below the submission's top
SKIP = {"__pycache__", ".ipynb_checkpoints", ".git", "__MACOSX"}


class SubmissionLayoutError(ValueError):
    """A submission that cannot be graded at all (not a folder or zip, a broken zip, no code in it)."""


def unpack_zip(archive: Path, dest: Path) -> Path:
    """Unpack ``archive`` into ``dest`` safely; raise SubmissionLayoutError on a broken or oversized zip."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_FILES or sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
                raise SubmissionLayoutError(f"{archive.name} unpacks to more than {MAX_FILES} files or "
                                            f"{MAX_UNPACKED_BYTES // 2**20} MB")
            for member in members:
                if stat.S_ISLNK(member.external_attr >> 16):
                    raise SubmissionLayoutError(f"{archive.name} holds a symbolic link ({member.filename}): hand in "
                                                "regular files only")
                if member.filename.count("/") > MAX_DEPTH + 1:
                    raise SubmissionLayoutError(f"{archive.name} nests folders more than {MAX_DEPTH} deep "
                                                f"({member.filename[:100]}...)")
                target = (dest / member.filename).resolve()
                if not target.is_relative_to(dest.resolve()):
                    continue  # absolute paths and '..' stay out
                if member.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(member) as src, open(target, "wb") as out:
                        shutil.copyfileobj(src, out)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as err:
        if isinstance(err, SubmissionLayoutError):
            raise
        raise SubmissionLayoutError(f"{archive.name} is not a readable zip file ({err})") from None
    return dest


def check_folder(folder: Path) -> None:
    """Refuse a folder that holds a link, too many files or bytes, or folders nested too deep."""
    files = size = 0
    top = len(Path(folder).parts)
    for here, dirs, names in os.walk(folder, followlinks=False):
        depth = len(Path(here).parts) - top
        if depth > MAX_DEPTH:
            raise SubmissionLayoutError(f"{Path(folder).name} nests folders more than {MAX_DEPTH} deep "
                                        f"({Path(here).relative_to(folder).as_posix()[:100]}...)")
        for name in dirs + names:
            path = Path(here) / name
            if path.is_symlink():
                raise SubmissionLayoutError(f"{path.relative_to(folder).as_posix()} is a symbolic link: hand in "
                                            "regular files only")
        for name in names:
            files += 1
            size += (Path(here) / name).lstat().st_size
        if files > MAX_FILES or size > MAX_UNPACKED_BYTES:
            raise SubmissionLayoutError(f"{Path(folder).name} holds more than {MAX_FILES} files or "
                                        f"{MAX_UNPACKED_BYTES // 2**20} MB")


def _is_code_root(folder: Path) -> bool:
    return any((folder / track).is_dir() for track in TRACKS)


def find_code_root(folder: Path, depth: int = 4) -> Path | None:
    """The shallowest folder at or below ``folder`` that holds ``numpy_ag/`` or ``pytorch/``."""
    level = [folder]
    for _ in range(depth + 1):
        for candidate in sorted(level, key=lambda c: c.name != "exercises"):  # a whole kit: its exercises/
            if _is_code_root(candidate):
                return candidate
        level = [c for f in level for c in sorted(f.iterdir()) if c.is_dir() and not c.is_symlink() and c.name not in SKIP]
    return None


def _copy_tree(src: Path, dest: Path) -> None:
    """Copy regular files and folders (no links, no caches)."""
    dest.mkdir(parents=True, exist_ok=True)
    for item in src.iterdir():
        if item.is_symlink() or item.name in SKIP:
            continue
        if item.is_dir():
            _copy_tree(item, dest / item.name)
        elif item.is_file():
            shutil.copyfile(item, dest / item.name)


def prepare(submission: str | Path, workdir: Path, flat_track: str = "numpy_ag",
            stubs: Path = EXERCISES_DIR) -> tuple[Path, list[str]]:
    """Lay ``submission`` out as ``workdir/exercises``; return that folder and notes for the student."""
    submission = Path(submission)
    notes: list[str] = []
    if submission.is_symlink():
        raise SubmissionLayoutError(f"{submission.name} is a symbolic link: hand in a folder or a .zip file")
    if submission.is_file() and submission.suffix.lower() == ".zip":
        source = unpack_zip(submission, workdir / "unpacked")
    elif submission.is_dir():
        check_folder(submission)
        source = submission
    else:
        raise SubmissionLayoutError(f"{submission} is neither a folder nor a .zip file")
    root = find_code_root(source)
    out = workdir / "exercises"
    if root is not None:
        for track in TRACKS:
            if (root / track).is_dir():
                _copy_tree(root / track, out / track)
    else:
        loose = [p for p in source.rglob("*.py") if p.is_file() and not p.is_symlink() and not SKIP & set(p.parts)]
        if not loose:
            raise SubmissionLayoutError(f"{submission.name} holds no Python files: hand in your exercises/ folder")
        (out / flat_track).mkdir(parents=True)
        for path in loose:
            shutil.copyfile(path, out / flat_track / path.name)
        notes.append(f"loose .py files were graded as the {flat_track} track")
    for stub in sorted(stubs.rglob("*.py")):
        rel = stub.relative_to(stubs)
        if rel.parts[0] in TRACKS and not (out / rel).exists():
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(stub, out / rel)
            if rel.name != "__init__.py":
                notes.append(f"{rel.as_posix()} was not handed in: graded as not attempted")
    return out, notes
