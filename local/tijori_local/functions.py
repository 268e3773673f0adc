"""Import each function's `app.py` as its own module, so the four `app` modules never clash."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from tijori_local.template import PROJECT_ROOT

FUNCTIONS_ROOT = PROJECT_ROOT / "functions"
FUNCTION_NAMES = ("initiate", "payout", "status_poller", "callback")


def load_function_module(name: str, *, fresh: bool = True) -> ModuleType:
    """Import `functions/<name>/app.py` as module `tijori_function_<name>`.

    Handlers read their settings at import (cold start), so `fresh=True` re-imports: a test that
    changes the environment gets a new cold start.
    """
    if name not in FUNCTION_NAMES:
        raise ValueError(f"unknown function {name!r}; expected one of {', '.join(FUNCTION_NAMES)}")
    module_name = f"tijori_function_{name}"
    if not fresh and module_name in sys.modules:
        return sys.modules[module_name]
    path: Path = FUNCTIONS_ROOT / name / "app.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module
