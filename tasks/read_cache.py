"""A local workbook as last read and normalised, kept in the data directory under the file's
identity.

`status` and `check` on a large workbook spent most of their time reading it again at every
command (at 100,000 rows: calamine and every cell to text 0.65 s, normalising 0.45 s, of 2 s).
The same file (same path, size, modification and change times, inode), read for the same plan
by the same code, gives the same tables: they are loaded from here instead. Anything else, or
any trouble with the cache, is a plain read; the cache never decides what the source says. A
Google Sheet has no such identity and is always read (one request).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


@cache
def _code() -> str:
    """The program's own fingerprint: any change to how a sheet is read or normalised (all of
    it lives in tasks/) empties the cache."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for module in sorted(here.glob("*.py")):
        digest.update(module.read_bytes())
    return digest.hexdigest()


class ReadCache:
    def __init__(self, folder: Path):
        self.folder = folder

    def _file(self, path: Path) -> Path:
        return self.folder / (hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24] + ".pickle")

    def fetch(self, path: Path, plan_key: str, read: Callable[[], T]) -> T:
        """`read()` of the workbook at `path` for the plan `plan_key` names, or what it gave the
        last time for this very file, plan and program. The identity is taken before reading: a
        file changed meanwhile is read again next time."""
        st = path.stat()
        key = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, plan_key, _code())
        target = self._file(path)
        with contextlib.suppress(Exception):  # missing, damaged, another version: read the file
            with open(target, "rb") as f:
                kept_key, value = pickle.load(f)
            if kept_key == key:
                return value  # type: ignore[no-any-return]  # what `read` gave for this key
        value = read()
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        with contextlib.suppress(OSError):  # a full disk or a read-only data directory: no cache
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            with open(tmp, "wb") as f:
                pickle.dump((key, value), f, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(target)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        return value
