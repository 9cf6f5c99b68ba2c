"""`make test-gpu`: the GPU tests on a GPU machine, their log written with the date, GPU and versions.

python tools/test_gpu.py [bench/test_gpu.txt [FIRST_STEP]]
Runs `pytest tests/gpu` (Unsloth, 4-bit, the fast engine on the full HH file, TRL) and `tests/test_before_after.py` (before answers are the
reference's and after answers the adapters', both engines, tiny and real model, on the GPU), and the `cuda`-flagged cells of the lessons that
test on a GPU (12, 15: graphs replay like eager steps; the fused projections match PEFT's). Exits non-zero if anything failed."""
import json, subprocess, sys, time
from pathlib import Path
from dpo_course.models import environment

NB_TEST = "from nbdev.test import nbdev_test; nbdev_test(path={!r}, flags='cuda', do_print=True, timing=True)"  # the function: no console script needed on PATH
STEPS = [[sys.executable, "-m", "pytest", "-v", "-s", "-rs", "-p", "no:cacheprovider", "tests/gpu", "tests/test_before_after.py"]] + [
         [sys.executable, "-c", NB_TEST.format(nb)] for nb in ("nbs/12_cuda_graphs.ipynb", "nbs/15_fused_lora.ipynb")]

def main(out="bench/test_gpu.txt", first:str="0"): # first: the step to start at (a later call on the same machine runs the rest)
    env = environment()
    lines, ok = [f"make test-gpu · {json.dumps(env)}" + (f" · steps {first}.. of {len(STEPS)}" if int(first) else "")], True
    for cmd in STEPS[int(first):]:
        t = time.perf_counter(); p = subprocess.run(cmd, capture_output=True, text=True)
        ok &= p.returncode == 0
        lines += [f"\n$ python {' '.join(cmd[1:])}   (exit {p.returncode}, {time.perf_counter() - t:.0f} s)", (p.stdout + p.stderr).strip()[-20000:]]
        Path(out).write_text("\n".join(lines + ["\n(still running)"]) + "\n")  # a run cut off by a time limit keeps what it finished
    lines.append(f"\nresult: {'every test passed' if ok else 'FAILED'}")
    Path(out).write_text("\n".join(lines) + "\n"); print("\n".join(lines))
    return 0 if ok else 1

if __name__ == "__main__": sys.exit(main(*sys.argv[1:]))
