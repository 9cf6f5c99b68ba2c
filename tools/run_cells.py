"""Run a notebook's code cells as plain Python, in order, in one namespace, from the notebook's folder (machines without Jupyter).

python tools/run_cells.py nbs/12_cuda_graphs.ipynb
"""
import json, os, sys, time, types
from pathlib import Path

def main(path:str):
    nb = json.loads(Path(path).read_text()); os.chdir(Path(path).parent)
    main_mod = types.ModuleType("__main__"); sys.modules["__main__"] = main_mod; ns = main_mod.__dict__  # a real module: torch.compile's guards look names up in it
    for i, cell in enumerate(nb["cells"]):
        src = "".join(cell["source"])
        if cell["cell_type"] != "code" or "nbdev_export()" in src or src.startswith("#| default_exp"): continue
        t = time.time(); exec(compile(src, f"{path}[cell {i}]", "exec"), ns)
        print(f"-- cell {i} done in {time.time() - t:.1f} s", flush=True)

if __name__ == "__main__": main(sys.argv[1])
