"""The library's layers (tools/architecture.json): every import of a course module goes to a lower layer, so there is no import
circle, and no module imports a private name from another."""
import ast, json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = [l["modules"] for l in json.loads((ROOT/"tools"/"architecture.json").read_text())["layers"]]


def library_sources()->dict:
    return {p.stem: p.read_text() for p in (ROOT/"dpo_course").glob("*.py") if not p.stem.startswith("_")}


def course_imports(source:str)->list[tuple[str, list[str]]]:
    "`(module, names)` for every import of a course module in `source`, at the top or inside a function."
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and not (node.module or "").startswith("dpo_course"): continue
            target = (node.module or "").removeprefix("dpo_course").lstrip(".") if node.level == 0 else (node.module or "")
            if target: out.append((target.split(".")[0], [a.name for a in node.names]))
            else: out += [(a.name, []) for a in node.names]  # from . import x
        elif isinstance(node, ast.Import): out += [(a.name.split(".")[1], []) for a in node.names if a.name.startswith("dpo_course.")]
    return out


def violations(sources:dict, layers:list=LAYERS)->list[str]:
    "Every import that breaks the picture: a module missing from it, an import to the same or a higher layer, a private name taken from another module."
    level, bad = {m: i for i, mods in enumerate(layers) for m in mods}, []
    for mod, src in sorted(sources.items()):
        if mod not in level: bad.append(f"{mod}: missing from tools/architecture.json"); continue
        for target, names in course_imports(src):
            if target.startswith("_") or target == mod: continue  # the package's own index
            if target not in level: bad.append(f"{mod} imports {target}, which tools/architecture.json does not place"); continue
            if level[target] >= level[mod]: bad.append(f"{mod} (layer {level[mod]}) imports {target} (layer {level[target]}): imports must go down")
            bad += [f"{mod} imports the private name {n} from {target}" for n in names if n.startswith("_")]
    return bad


def circles(sources:dict)->list[list[str]]:
    "Import circles among the modules (each as the path that closes it)."
    graph = {m: {t for t, _ in course_imports(s) if t in sources and t != m} for m, s in sources.items()}
    found, state = [], {}
    def visit(m, path):
        state[m] = "open"
        for t in sorted(graph[m]):
            if state.get(t) == "open": found.append(path[path.index(t):] + [t])
            elif t not in state: visit(t, path + [t])
        state[m] = "done"
    for m in sorted(graph):
        if m not in state: visit(m, [m])
    return found


def test_every_import_goes_down_and_no_private_name_crosses():
    assert violations(library_sources()) == []


def test_no_import_circle():
    assert circles(library_sources()) == []


def test_data_imports_nothing_from_models_or_train():
    assert not {t for t, _ in course_imports(library_sources()["data"])} & {"models", "train"}


def test_the_check_catches_planted_mistakes():
    src = library_sources()
    back = dict(src, data=src["data"] + "\nfrom .cli import main\n")  # a bottom module importing the top one
    assert "data (layer 1) imports cli (layer 8): imports must go down" in violations(back)
    assert circles(back) and all(c[0] == c[-1] for c in circles(back))
    private = dict(src, evaluate=src["evaluate"] + "\ndef f():\n    from dpo_course.train import _dpo_args\n")
    assert "evaluate imports the private name _dpo_args from train" in violations(private)
