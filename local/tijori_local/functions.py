"""Import each function's handler module as its own module, so the four `app` modules never clash."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from tijori_local.template import PROJECT_ROOT

FUNCTIONS_ROOT = PROJECT_ROOT / "functions"
FUNCTION_NAMES = ("initiate", "payout", "status_poller", "callback")

Handler = Callable[[Any, Any], Any]


def load_code_module(code_dir: Path, module: str = "app", *, instance: str = "") -> ModuleType:
    """Import `<code_dir>/<module>.py` fresh, as `tijori_function_<folder name><instance>`.

    Handlers read their settings at import (cold start), so every call re-imports: a caller that
    changed the environment gets a new cold start.
    """
    path = code_dir / f"{module.replace('.', '/')}.py"
    module_name = f"tijori_function_{code_dir.name}{instance}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = loaded
    try:
        spec.loader.exec_module(loaded)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return loaded


def load_handler(code_dir: Path, handler: str, *, instance: str = "") -> Handler:
    """Resolve a SAM `Handler` string such as `app.lambda_handler` within `code_dir`.

    Each `instance` is a separate import (its own module globals), as each Lambda execution
    environment is: handlers keep per-invocation state in module globals (the Event Handler's
    current event, the batch processor), so concurrent invocations must not share one.
    """
    module_path, _, function_name = handler.rpartition(".")
    function: Handler = getattr(load_code_module(code_dir, module_path, instance=instance), function_name)
    return function


def load_function_module(name: str) -> ModuleType:
    """Import `functions/<name>/app.py` (for tests that call `lambda_handler` directly)."""
    if name not in FUNCTION_NAMES:
        raise ValueError(f"unknown function {name!r}; expected one of {', '.join(FUNCTION_NAMES)}")
    return load_code_module(FUNCTIONS_ROOT / name)
