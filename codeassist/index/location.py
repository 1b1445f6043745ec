"""Where a repository's index lives: ``<home>/repos/<name>-<hash of the real path>/``.

Never inside the repository itself, so indexing never changes ``git status``.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

__all__ = ["index_dir"]


def index_dir(home: Path, root: Path) -> Path:
    """The folder holding the index of the repository at ``root``."""
    real = os.path.realpath(root)
    digest = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", os.path.basename(real.rstrip(os.sep)) or "root")[:40]
    return Path(home) / "repos" / f"{name}-{digest}"
