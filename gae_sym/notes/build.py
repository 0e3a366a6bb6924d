"""Write the notes to a folder, check a folder for staleness, and build the PDF."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from gae_sym.notes.render import FIGURE_DIR, TEX_FILE, Notes

INSTALL_TEX = (
    "no TeX engine found (latexmk or pdflatex); install one, e.g. on Debian/Ubuntu "
    "'apt-get install texlive-latex-base texlive-latex-recommended latexmk', on macOS "
    "'brew install --cask mactex-no-gui'; the Markdown and notes.tex were written"
)


# pdfTeX stamps the build time into the PDF (and its /ID); a fixed SOURCE_DATE_EPOCH
# makes the same notes give the same bytes, so a rebuild does not show up as a change.
# The notes print no date (\date{}), so the fixed date is never seen. The caller's own
# SOURCE_DATE_EPOCH, if set, wins.
_REPRODUCIBLE_ENV = {"SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}


class PdfError(RuntimeError):
    """The PDF could not be built (no TeX engine, or LaTeX errors)."""


def write_notes(notes: Notes, out: Path, draw_figures: bool = True) -> list[Path]:
    """Write every text file (and, with ``draw_figures``, every PNG) under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in notes.files.items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    if draw_figures:
        (out / FIGURE_DIR).mkdir(exist_ok=True)
        for job in notes.figures:
            written.append(job.draw(out / FIGURE_DIR / job.file))
    return written


def stale_files(notes: Notes, out: Path) -> list[str]:
    """Text files under ``out`` that are missing, differ from ``notes``, or are no longer made.

    Only ``.md`` and ``.tex`` files directly in ``out`` count (figures and the PDF do not).
    """
    stale = []
    for name, text in notes.files.items():
        path = out / name
        try:
            current = path.read_text(encoding="utf-8")
        except (FileNotFoundError, IsADirectoryError):
            stale.append(f"{name} (missing)")
            continue
        if current != text:
            stale.append(name)
    if out.is_dir():
        for path in sorted(out.iterdir()):
            if path.suffix in {".md", ".tex"} and path.name not in notes.files:
                stale.append(f"{path.name} (no longer generated: delete it)")
    return stale


def tex_engine() -> list[str] | None:
    """The command that builds a PDF from a .tex: latexmk if present, else pdflatex."""
    if shutil.which("latexmk"):
        return ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-quiet"]
    if shutil.which("pdflatex"):
        return ["pdflatex", "-interaction=nonstopmode", "-halt-on-error"]
    return None


def build_pdf(out: Path, tex_name: str = TEX_FILE) -> Path:
    """Compile ``out/notes.tex`` (with its figures) in a scratch folder; copy back the PDF.

    The auxiliary files stay in the scratch folder, so ``out`` receives only ``notes.pdf``.
    """
    engine = tex_engine()
    if engine is None:
        raise PdfError(INSTALL_TEX)
    with tempfile.TemporaryDirectory(prefix="gae-sym-notes-") as scratch:
        work = Path(scratch)
        shutil.copy(out / tex_name, work / tex_name)
        if (out / FIGURE_DIR).is_dir():
            shutil.copytree(out / FIGURE_DIR, work / FIGURE_DIR)
        # pdflatex alone needs a second pass for the table of contents.
        passes = 1 if engine[0] == "latexmk" else 2
        for _ in range(passes):
            done = subprocess.run(
                [*engine, tex_name],
                cwd=work,
                capture_output=True,
                text=True,
                check=False,
                env=_REPRODUCIBLE_ENV | dict(os.environ),
            )
            if done.returncode != 0:
                log = work / Path(tex_name).with_suffix(".log").name
                text = log.read_text(errors="replace") if log.exists() else done.stdout
                errors = [line for line in text.splitlines() if line.startswith("!")]
                raise PdfError(
                    f"LaTeX failed on {out / tex_name}: " + ("; ".join(errors[:3]) or "see the log")
                )
        pdf = Path(tex_name).with_suffix(".pdf").name
        target = out / pdf
        shutil.copy(work / pdf, target)
    return target


__all__ = ["INSTALL_TEX", "PdfError", "build_pdf", "stale_files", "tex_engine", "write_notes"]
