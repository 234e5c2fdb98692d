"""Fixtures for the static checks of deploy/compose and deploy/k8s: parsed manifests and the set of
environment variable names the platform actually reads (so a typo in a manifest fails here, not in a city).
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("ingest", "streams", "brain_api", "deploy")
_ENV_READ = re.compile(r"""environ(?:\.get)?\s*[\(\[]\s*["'](CITYBRAIN_[A-Z0-9_]+)["']""")
_SETTINGS_CLASS = re.compile(r"^class \w+\(BaseSettings\):", re.MULTILINE)


def _settings_env_names(cls: type[BaseSettings]) -> set[str]:
    prefix = str(cls.model_config.get("env_prefix", "")).upper()
    names: set[str] = set()
    for field_name, info in cls.model_fields.items():
        names.add(prefix + field_name.upper())
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice).upper() for choice in alias.choices)
        elif isinstance(alias, str):
            names.add(alias.upper())
    return names


def platform_env_names() -> set[str]:
    """Every CITYBRAIN_* name a settings class or an explicit `os.environ` read accepts."""
    names: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            names.update(_ENV_READ.findall(text))
            if _SETTINGS_CLASS.search(text):
                module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
                for obj in vars(module).values():
                    if isinstance(obj, type) and issubclass(obj, BaseSettings) and obj is not BaseSettings:
                        names |= _settings_env_names(obj)
    return names


@pytest.fixture(scope="session")
def env_names() -> set[str]:
    return platform_env_names()


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "deploy/compose/compose.yaml").read_text(encoding="utf-8"))


def render_kustomization(source: Path, workdir: Path) -> list[dict[str, Any]]:
    """`kubectl kustomize` over a copy of deploy/k8s, with the overlays' *.example files as the real ones."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (with its built-in kustomize) is not installed; raw manifests are still checked")
    tree = workdir / "k8s"
    shutil.copytree(ROOT / "deploy/k8s", tree, dirs_exist_ok=True)
    for example in tree.rglob("*.example"):
        example.with_suffix("").write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    target = tree / source.relative_to(ROOT / "deploy/k8s")
    out = subprocess.run([kubectl, "kustomize", str(target)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


@pytest.fixture(scope="session")
def production(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return render_kustomization(ROOT / "deploy/k8s/overlays/production", tmp_path_factory.mktemp("prod"))


@pytest.fixture(scope="session")
def base(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return render_kustomization(ROOT / "deploy/k8s/base", tmp_path_factory.mktemp("base"))
