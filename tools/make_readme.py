"""Write README.md from nbs/index.ipynb (nbdev_readme needs Quarto, which these machines can't install)."""
import sys
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter

ROOT = Path(__file__).resolve().parent.parent
NOTE = "<!-- generated from nbs/index.ipynb by `make readme`: edit the notebook, not this file -->\n\n"

def readme_text() -> str:
    "README.md's text: the index notebook as markdown, hidden cells left out."
    nb = nbformat.read(ROOT/"nbs"/"index.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if not c.source.lstrip().startswith("#| hide")]
    body, _ = MarkdownExporter().from_notebook_node(nb)
    return NOTE + body.strip() + "\n"

if __name__ == "__main__":
    (ROOT/"README.md").write_text(readme_text())
    print("wrote README.md")
