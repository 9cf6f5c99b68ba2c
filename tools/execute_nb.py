"""Execute notebooks in place, every cell (slow and cuda cells too), saving their outputs; then `nbdev_clean` tidies them.

python tools/execute_nb.py nbs/06_eval.ipynb nbs/11_sweep.ipynb
"""
import os, sys, time
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

for path in [Path(p).resolve() for p in sys.argv[1:]]:  # resolved before the first chdir
    start = time.time()
    nb = read_nb(path); os.chdir(path.parent)
    CaptureShell(path=path.parent).run_all(nb, exc_stop=True)
    write_nb(nb, path); print(f"{path.name}: executed in {time.time() - start:.0f} s", flush=True)
