"`make lab`: JupyterLab, installed by the dev extra, serves the lessons (started headless here, its lesson list read over HTTP)."
import json, os, socket, subprocess, sys, time, urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port()->int:
    with socket.socket() as s: s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def test_jupyterlab_serves_every_lesson(tmp_path):
    port = free_port()
    cmd = [str(Path(sys.executable).parent/"jupyter"), "lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=",
           "--ServerApp.password=", f"--ServerApp.root_dir={ROOT/'nbs'}", "--allow-root"]  # CI runs as root
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path))  # its connection files here, not in the user's runtime folder
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        for _ in range(120):  # up to a minute to start
            try:
                listing = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents", timeout=2).read())
                lab = urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=5)
                break
            except OSError: time.sleep(0.5)
        else: raise AssertionError("JupyterLab did not answer in a minute" + (": " + server.stderr.read()[-2000:] if server.poll() is not None else ""))
        served = {f["name"] for f in listing["content"]}
        assert {p.name for p in (ROOT/"nbs").glob("*.ipynb")} <= served, served
        assert lab.status == 200 and b"JupyterLab" in lab.read()
    finally: server.terminate(); server.wait(timeout=30)
