"""Print the CloudFormation that SAM makes of a template, as JSON, offline.

Runs in the tool venv (`.venv-tools`, aws-sam-cli), never the project's: aws-sam-translator pins a
pydantic the project does not use. `sam validate`'s own machinery does the transform, so the
result is what `sam deploy` would hand CloudFormation, except that managed policy names resolve
from samtranslator's bundled map instead of a call to IAM (no credentials, no network).

Usage: .venv-tools/bin/python tests/sam_transform.py template.yaml [Name=Value ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from samcli.lib.translate.sam_template_validator import SamTemplateValidator
from samcli.yamlhelper import yaml_parse
from samtranslator.internal.managed_policies import get_bundled_managed_policy_map

REGION = "ap-south-1"


class BundledManagedPolicyLoader:
    """Stands in for samtranslator's `ManagedPolicyLoader`, which lists policies through IAM."""

    def load(self) -> dict[str, str]:
        return get_bundled_managed_policy_map("aws") or {}


def main(argv: list[str]) -> int:
    template = yaml_parse(Path(argv[0]).read_text(encoding="utf-8"))
    overrides = dict(argument.split("=", 1) for argument in argv[1:])
    validator = SamTemplateValidator(
        template, BundledManagedPolicyLoader(), region=REGION, parameter_overrides=overrides
    )
    transformed = yaml_parse(validator.get_translated_template_if_valid())
    json.dump(transformed, sys.stdout, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
