"""Render the course site offline (no Quarto): every notebook in course order as an HTML page with a sidebar,
an "Open in Colab" link per lesson, the notebooks' saved outputs (plots embedded), and one API page per module
with the `show_doc` output of every exported function. Usage: python tools/build_docs.py [OUT_DIR]"""
import configparser, html, importlib, json, re, sys
from pathlib import Path
import nbformat
from nbconvert import HTMLExporter
from nbconvert.filters import markdown2html_mistune

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT/"nbs"
DIRECTIVE = re.compile(r"^#\|\s*(\S+)")
CSS = """<style>
body { margin: 0; } .course-nav { position: fixed; top: 0; left: 0; bottom: 0; width: 230px; overflow-y: auto; padding: 16px;
  background: #f5f6f8; border-right: 1px solid #ddd; font: 14px/1.5 sans-serif; box-sizing: border-box; }
.course-nav a { display: block; color: #234; text-decoration: none; padding: 2px 0; } .course-nav a.current { font-weight: bold; }
.course-nav h4 { margin: 14px 0 4px; font-size: 12px; text-transform: uppercase; color: #678; }
.course-page { margin-left: 250px; padding: 8px 24px; max-width: 1000px; }
.colab-link { display: inline-block; padding: 3px 10px; border-radius: 4px; background: #f9ab00; color: #000; font: 13px sans-serif; text-decoration: none; }
</style>"""


def settings():
    cfg = configparser.ConfigParser(); cfg.read(ROOT/"settings.ini")
    return cfg["DEFAULT"]


def sidebar()->list[tuple[str, str]]:
    "`(section, notebook)` in the order of the sidebar in `nbs/_quarto.yml` (the one place the groups are written); index first."
    import yaml
    out = []
    for entry in yaml.safe_load((NBS/"_quarto.yml").read_text())["website"]["sidebar"]["contents"]:
        if isinstance(entry, str): out.append(("Course", entry))
        else: out += [(entry["section"], name) for name in entry["contents"]]
    listed, found = {n for _, n in out}, {p.name for p in NBS.glob("*.ipynb") if not p.name.startswith("_")}
    if found != listed: raise SystemExit(f"nbs/_quarto.yml's sidebar and nbs/ differ: missing {sorted(found - listed)}, unknown {sorted(listed - found)}")
    return out


def course_notebooks():
    "The notebooks in sidebar order with their sections."
    return [(section, NBS/name) for section, name in sidebar()]


def title_of(nb, fallback):
    "The `# Title` and `> description` of a notebook's first markdown cell."
    for c in nb.cells:
        if c.cell_type == "markdown" and c.source.lstrip().startswith("# "):
            lines = c.source.strip().splitlines()
            desc = next((l[1:].strip() for l in lines[1:] if l.startswith(">")), "")
            return lines[0][2:].strip(), desc
    return fallback, ""


CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)  # fenced blocks and inline code: no math inside
MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$\w])\$(?=\S)([^$\n]+?)(?<=\S)\$(?![\w$])", re.S)


def tex_to_mathml(text:str)->str:
    "A markdown text with its `$…$` and `$$…$$` formulas as MathML (latex2mathml): browsers render MathML themselves, offline, with no script."
    from latex2mathml.converter import convert
    def math(m): return convert(m.group(1) or m.group(2), display="block" if m.group(1) else "inline")
    return "".join(part if i % 2 else MATH.sub(math, part) for i, part in enumerate(CODE.split(text)))


def clean(nb, path):
    "Drop hidden and export-bookkeeping cells and the `#|` lines; refuse a notebook whose saved outputs hold an error."
    cells = []
    for c in nb.cells[1:] if nb.cells and nb.cells[0].source.lstrip().startswith("# ") else nb.cells:
        if c.cell_type == "markdown": c.source = tex_to_mathml(c.source)
        if c.cell_type != "code": cells.append(c); continue
        flags = [m.group(1) for l in c.source.splitlines() if (m := DIRECTIVE.match(l))]
        code = "\n".join(l for l in c.source.splitlines() if not DIRECTIVE.match(l)).strip()
        if "hide" in flags and code.startswith("# Solution"):  # an exercise's solution: on the page, folded
            cells.append(nbformat.v4.new_markdown_cell(f'<details class="solution"><summary>Solution</summary><pre><code class="language-python">{html.escape(code)}</code></pre></details>'))
            continue
        if {"hide", "default_exp"} & set(flags): continue
        if any(o.get("output_type") == "error" for o in c.get("outputs", [])):
            raise SystemExit(f"{path.name}: a saved output is an error; run the notebook again before building the docs")
        c.source = code
        cells.append(c)
    nb.cells = cells
    return nb


def api_notebook(module):
    "A notebook of markdown cells: the `show_doc` of every name in `module.__all__`."
    from nbdev.showdoc import show_doc
    mod = importlib.import_module(module)
    cells = [nbformat.v4.new_markdown_cell(f"Every exported name of `{module}`, with its signature, parameter notes and docstring.")]
    for name in getattr(mod, "__all__", []):
        md = show_doc(getattr(mod, name), name=name)._repr_markdown_()
        md = re.sub(r"^\[source\]\(.*$", "", md, flags=re.M)  # Quarto-only link syntax
        cells.append(nbformat.v4.new_markdown_cell(md))
    return nbformat.v4.new_notebook(cells=cells)


def nav_html(pages, current):
    out, section = ['<nav class="course-nav"><strong>dpo-course</strong>'], None
    for p in pages:
        if p["section"] != section: section = p["section"]; out.append(f"<h4>{section}</h4>")
        cls = ' class="current"' if p["file"] == current else ""
        out.append(f'<a href="{p["href"]}"{cls}>{html.escape(p["title"])}</a>')
    return "\n".join(out + ["</nav>"])


def render(nb, page, pages, exporter, colab_url=None):
    body, _ = exporter.from_notebook_node(nb)
    depth = page["file"].count("/")
    nav = nav_html([{**p, "href": "../" * depth + p["file"]} for p in pages], page["file"])
    head = f"<h1>{html.escape(page['title'])}</h1>" + (f"<p><em>{html.escape(page['desc'])}</em></p>" if page["desc"] else "")
    if colab_url: head += f'<p><a class="colab-link" href="{colab_url}">Open in Colab</a></p>'
    body = re.sub(r"<title>.*?</title>", f"<title>{html.escape(page['title'])} – dpo-course</title>", body, count=1, flags=re.S)
    body = body.replace("</head>", CSS + "</head>", 1)
    return re.sub(r"(<body[^>]*>)", lambda m: f'{m.group(1)}\n{nav}\n<main class="course-page">{head}', body, count=1).replace("</body>", "</main></body>", 1)


def build(out:Path)->list[dict]:
    "Write the site into `out`; returns its pages (title, file, section)."
    s, exporter = settings(), HTMLExporter(template_name="lab")
    exporter.exclude_input_prompt = exporter.exclude_output_prompt = True
    sources, pages = [], []
    for section, path in course_notebooks():
        nb = nbformat.read(path, as_version=4)
        title, desc = title_of(nb, path.stem)
        file = "index.html" if path.stem == "index" else f"{path.stem}.html"
        pages.append(dict(title=title, desc=desc, file=file, section=section)); sources.append(("nb", path, nb))
    for module in sorted(json.loads(json.dumps(importlib.import_module(f"{s['lib_name']}._modidx").d["syms"])).keys()):
        if not getattr(importlib.import_module(module), "__all__", None): continue
        pages.append(dict(title=module, desc="API reference", file=f"api/{module.split('.')[-1]}.html", section="Scale and reference"))
        sources.append(("api", module, None))
    (out/"api").mkdir(parents=True, exist_ok=True)
    colab = s["git_url"].replace("https://github.com/", "https://colab.research.google.com/github/") + f"/blob/{s['branch']}/{s['nbs_path']}/"
    for page, (kind, src, nb) in zip(pages, sources):
        if kind == "nb": text = render(clean(nb, src), page, pages, exporter, None if src.stem == "index" else colab + src.name)
        else: text = render(api_notebook(src), page, pages, exporter)
        (out/page["file"]).write_text(text)
    (out/"pages.json").write_text(json.dumps(pages, indent=1))
    return pages


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT/"_site")
    pages = build(out)
    print(f"wrote {len(pages)} pages to {out}/ (open {out}/index.html)")
