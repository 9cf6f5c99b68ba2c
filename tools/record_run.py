"""A finished run's report as a results file: the run's eval.json (verdict, measures, answers) and summary with the date, machine and versions.

python tools/record_run.py runs/ipo-probe bench/ipo_probe_cpu.json
"""
import json, sys
from pathlib import Path
from dpo_course.models import environment

def measured_on()->dict:
    "`environment()` plus, on a CPU, the bf16 units it has (AMX, AVX512-BF16): CPU timings differ by them."
    env = environment()
    flags = Path("/proc/cpuinfo").read_text().split() if Path("/proc/cpuinfo").exists() else []
    if "CPU" in env["machine"]: env["cpu_bf16_units"] = sorted({f for f in flags if f.startswith("amx") or f == "avx512_bf16"}) or ["none"]
    return env

if __name__ == "__main__":
    run, out = Path(sys.argv[1]), Path(sys.argv[2])
    rep = json.loads((run/"eval.json").read_text())
    config = (run/"config.toml").read_text()
    out.write_text(json.dumps(dict(measured_on(), run=str(run), config=config, report=rep), indent=1))
    print(f"{run}: {rep['verdict']}\nwrote {out}")
