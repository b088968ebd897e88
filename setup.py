"""Build step of the wheel: ship the panel's front-end libraries inside the package.

Everything else about the distribution is in pyproject.toml. The panel serves Chart.js,
SortableJS and SIP.js under /static/vendor; in a checkout they come from node_modules
(`npm ci`, pinned by package-lock.json), which an installed wheel does not have. So the
build copies the files the pages load into web/static/vendor/<package>/ of the build,
with each package's licence and the package.json that names them. The repository never
holds these copies (.gitignore); an editable install keeps serving node_modules.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.errors import SetupError

ROOT = Path(__file__).resolve().parent

# Files of each npm package the pages load (patterns relative to the package's folder).
# The URLs are in web/templates (/static/vendor/...) and web/static/widget.js (SIP.js,
# an ES module that imports the rest of its lib/ folder).
SHIPPED_FILES = {
    "chart.js": ["LICENSE*", "dist/chart.umd.min.js"],
    "sortablejs": ["LICENSE*", "Sortable.min.js"],
    "sip.js": ["LICENSE*", "lib/**/*.js"],
}
VENDOR_DIR = Path("web", "static", "vendor")


def node_modules() -> Path:
    """The repository's node_modules, installed with `npm ci` when missing and npm exists."""
    folder = ROOT / "node_modules"
    if not folder.is_dir():
        npm = shutil.which("npm")
        if npm is None:
            raise SetupError(
                "node_modules is missing and npm is not installed: install Node.js and npm, "
                "or run `npm ci` in the project, so the wheel can ship the front-end libraries"
            )
        subprocess.run([npm, "ci", "--omit=dev", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
    return folder


def copy_libraries(source: Path, target: Path) -> list[Path]:
    """Copy SHIPPED_FILES from `source` (node_modules) to `target`; return the files written."""
    written = [target / "package.json"]
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "package.json", written[0])
    for package, patterns in SHIPPED_FILES.items():
        for pattern in patterns:
            found = sorted(p for p in (source / package).glob(pattern) if p.is_file())
            if not found and "LICENSE" not in pattern:
                raise SetupError(f"{package}/{pattern} not found in {source}: run `npm ci`")
            for path in found:
                copy = target / package / path.relative_to(source / package)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, copy)
                written.append(copy)
    return written


class BuildWithLibraries(build_py):
    """build_py that also writes web/static/vendor from node_modules (not when editable)."""

    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            self._vendor_files = copy_libraries(node_modules(), Path(self.build_lib, VENDOR_DIR))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        extra = [str(p) for p in getattr(self, "_vendor_files", [])]
        return [*super().get_outputs(include_bytecode), *extra]


setup(cmdclass={"build_py": BuildWithLibraries})
