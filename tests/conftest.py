import os, warnings
import pytest
import netguard

warnings.filterwarnings("ignore", message="IProgress not found")
os.environ["HF_HUB_OFFLINE"] = "1"  # the suite runs offline; subprocesses inherit this
netguard.install()


@pytest.fixture(scope="session", autouse=True)
def no_network_was_used():
    "The whole suite runs with outside connections refused; fail if anything tried one."
    yield
    assert not netguard.ATTEMPTS, f"network connections attempted: {netguard.ATTEMPTS}"


@pytest.fixture(scope="session")
def real():
    "The real SmolLM2-135M-Instruct and its tokenizer (loaded once per test session)."
    from dpo_course.models import load_model
    return load_model()


@pytest.fixture(scope="session")
def tok(real):
    return real[1]


@pytest.fixture(scope="session")
def tiny_dir(tok, tmp_path_factory):
    "A tiny random Llama with the real tokenizer, saved as a model directory."
    from dpo_course.models import tiny_model
    d = tmp_path_factory.mktemp("tiny-model")
    tiny_model(tok).save_pretrained(d); tok.save_pretrained(d)
    return d
