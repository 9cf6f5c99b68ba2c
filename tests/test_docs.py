"""The offline docs site: built by `tools/build_docs.py`, opened in headless Chromium, every sidebar link followed."""
import importlib.util, json, shutil
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT/"_site"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ERROR_TEXT = ("Traceback (most recent call last)", "Error in notebook", "ModuleNotFoundError", "NameError")


@pytest.fixture(scope="module")
def site():
    spec = importlib.util.spec_from_file_location("build_docs", ROOT/"tools"/"build_docs.py")
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    shutil.rmtree(SITE, ignore_errors=True)
    return mod.build(SITE)


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail(f"{CHROMIUM} / {CHROMEDRIVER} missing: `make browser` installs Debian's chromium and chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions(); opts.binary_location = CHROMIUM
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,900"]:
        opts.add_argument(flag)
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield drv
    drv.quit()


def test_every_exported_function_has_an_api_entry(site):
    import dpo_course._modidx as idx, importlib
    for module in idx.d["syms"]:
        names = getattr(importlib.import_module(module), "__all__", [])
        if not names: continue
        text = (SITE/"api"/f"{module.split('.')[-1]}.html").read_text()
        for name in names: assert f"<h3" in text and name in text, (module, name)


def test_site_in_a_browser(site, browser):
    from selenium.webdriver.common.by import By
    browser.get((SITE/"index.html").as_uri())
    links = [(a.text, a.get_attribute("href")) for a in browser.find_elements(By.CSS_SELECTOR, "nav.course-nav a")]
    assert [t for t, _ in links] == [p["title"] for p in site], "the sidebar lists every page in course order"
    assert [p["file"] for p in site][:3] == ["index.html", "00_overview.html", "01_models.html"]
    groups = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "nav.course-nav h4")]
    assert [g.lower() for g in groups] == ["course", "performance track", "scale and reference"], groups  # CSS shows them upper-case
    perf = [p["file"] for p in site if p["section"] == "Performance track"]
    assert perf == ["08_speed.html", "12_cuda_graphs.html", "13_fast_train.html", "15_fused_lora.html", "14_bench.html"], perf
    (SITE/"screenshots").mkdir(exist_ok=True)
    assert browser.save_screenshot(str(SITE/"screenshots"/"index.png"))
    lessons_with_colab = 0
    for title, href in links:
        browser.get(href)
        assert browser.title.startswith(title), (href, browser.title)
        assert browser.find_element(By.TAG_NAME, "h1").text == title, href
        broken = browser.execute_script("return [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src.slice(0, 80))")
        assert not broken, (href, broken)
        text = browser.find_element(By.TAG_NAME, "body").text
        assert not [e for e in ERROR_TEXT if e in text], (href, [e for e in ERROR_TEXT if e in text])
        lessons_with_colab += bool(browser.find_elements(By.LINK_TEXT, "Open in Colab"))
        tex = browser.execute_script(r"return (document.body.innerText.match(/\$[^$\n]*\\[a-zA-Z]+[^$\n]*\$/g) || []).slice(0, 3)")
        assert not tex, (href, "raw TeX on the page", tex)
    assert lessons_with_colab == sum(not p["file"].startswith("api/") for p in site) - 1  # every notebook page but the index
    for page in ("04_loss.html", "06_eval.html"):  # the formulas are MathML, laid out by the browser itself (no script, no network)
        browser.get((SITE/page).as_uri())
        heights = browser.execute_script("return [...document.querySelectorAll('math')].map(m => m.getBoundingClientRect().height)")
        assert heights and min(heights) > 0, (page, heights)
    browser.get((SITE/"03_data.html").as_uri())  # each exercise's solution is on the page, folded until opened
    folded = browser.find_elements(By.CSS_SELECTOR, "details.solution")
    assert len(folded) >= 3 and not any(d.get_attribute("open") for d in folded), len(folded)
    assert not folded[0].find_element(By.TAG_NAME, "pre").is_displayed()
    folded[0].find_element(By.TAG_NAME, "summary").click()
    assert folded[0].find_element(By.TAG_NAME, "pre").is_displayed()
    browser.get((SITE/"05_train.html").as_uri())
    assert browser.execute_script("return [...document.images].filter(i => i.naturalWidth > 100).length") >= 1, "the lesson's plots are embedded"
    assert (SITE/"screenshots"/"index.png").stat().st_size > 10_000
