import warnings
import pytest

warnings.filterwarnings("ignore", message="IProgress not found")


@pytest.fixture(scope="session")
def real():
    "The real SmolLM2-135M-Instruct and its tokenizer (loaded once per test session)."
    from dpo_course.models import load_model
    return load_model()


@pytest.fixture(scope="session")
def tok(real):
    return real[1]
