"""Schedule expressions and template reference checking (pure logic)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tijori_local.deploy import NO_VALUE, LocalDeployer, UnresolvedReferenceError, check_references
from tijori_local.schedule import Schedule, ScheduleExpressionError
from tijori_local.template import load_template

T0 = datetime(2026, 11, 22, 10, 7, 30, tzinfo=UTC)  # a Sunday


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("rate(5 minutes)", T0 + timedelta(minutes=5)),
        ("rate(1 hour)", T0 + timedelta(hours=1)),
        ("rate(2 days)", T0 + timedelta(days=2)),
        ("cron(0/15 * * * ? *)", datetime(2026, 11, 22, 10, 15, tzinfo=UTC)),
        ("cron(30 9 * * ? *)", datetime(2026, 11, 23, 9, 30, tzinfo=UTC)),
        ("cron(0 12 ? * MON-FRI *)", datetime(2026, 11, 23, 12, 0, tzinfo=UTC)),
        ("cron(0 0 1 JAN ? 2027)", datetime(2027, 1, 1, 0, 0, tzinfo=UTC)),
        ("cron(10,20 10 ? * SUN *)", datetime(2026, 11, 22, 10, 10, tzinfo=UTC)),
    ],
)
def test_next_firing(expression: str, expected: datetime) -> None:
    assert Schedule.parse(expression).next_after(T0) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "rate(0 minutes)",
        "rate(5 weeks)",
        "cron(* * * *)",
        "cron(0 0 L * ? *)",
        "every 5 minutes",
        "cron(61 * * * ? *)",
    ],
)
def test_bad_expressions_are_rejected(expression: str) -> None:
    with pytest.raises(ScheduleExpressionError):
        Schedule.parse(expression)


def test_real_template_references_all_resolve() -> None:
    check_references(load_template())


@pytest.mark.parametrize(
    ("fragment", "named"),
    [
        ({"Ref": "Nowhere"}, "Nowhere"),
        ({"Fn::GetAtt": ["Ghost", "Arn"]}, "Ghost"),
        ({"Fn::Sub": "arn:${Phantom.Arn}/x"}, "Phantom"),
        ({"Fn::Sub": ["${Local}-${Missing}", {"Local": "x"}]}, "Missing"),
        ({"Fn::If": ["NoSuchCondition", 1, {"Ref": "AWS::NoValue"}]}, "NoSuchCondition"),
    ],
)
def test_broken_reference_is_named(fragment: dict[str, Any], named: str) -> None:
    template = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"Tag": fragment}}}}
    with pytest.raises(UnresolvedReferenceError, match=named):
        check_references(template)


def test_sub_literal_and_pseudo_parameters_are_fine() -> None:
    template = {
        "Resources": {"Q": {"Type": "X", "Properties": {"A": {"Fn::Sub": "${AWS::Region}-${!Literal}"}}}}
    }
    check_references(template)


def test_resource_condition_that_names_nothing_is_named() -> None:
    template = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Condition": "Unheard"}}}
    with pytest.raises(UnresolvedReferenceError, match="Unheard"):
        check_references(template)


_CONDITIONAL = {
    "Parameters": {"Size": {"Type": "Number", "Default": 5}, "Stage": {"Type": "String", "Default": "prod"}},
    "Conditions": {
        "Sized": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Size"}, "0"]}]},
        "Prod": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "SizedProd": {"Fn::And": [{"Condition": "Sized"}, {"Condition": "Prod"}]},
        "SizedOrProd": {"Fn::Or": [{"Condition": "Sized"}, {"Condition": "Prod"}]},
    },
    "Resources": {},
}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, {"Sized": True, "Prod": True, "SizedProd": True, "SizedOrProd": True}),
        ({"Size": "0"}, {"Sized": False, "Prod": True, "SizedProd": False, "SizedOrProd": True}),
        (
            {"Size": "0", "Stage": "dev"},
            {"Sized": False, "Prod": False, "SizedProd": False, "SizedOrProd": False},
        ),
    ],
)
def test_conditions_are_evaluated_against_the_parameters(
    overrides: dict[str, str], expected: dict[str, bool]
) -> None:
    check_references(_CONDITIONAL)
    deployer = LocalDeployer(
        _CONDITIONAL, dynamodb=None, sqs=None, secretsmanager=None, parameter_overrides=overrides
    )
    assert {name: deployer.condition(name) for name in expected} == expected


def test_if_with_no_value_drops_the_property() -> None:
    deployer = LocalDeployer(
        _CONDITIONAL, dynamodb=None, sqs=None, secretsmanager=None, parameter_overrides={"Size": "0"}
    )
    properties = {
        "Reserved": {"Fn::If": ["Sized", {"Ref": "Size"}, {"Ref": "AWS::NoValue"}]},
        "Kept": "x",
        "List": [
            {"Fn::If": ["Prod", "p", {"Ref": "AWS::NoValue"}]},
            {"Fn::If": ["Sized", "s", {"Ref": "AWS::NoValue"}]},
        ],
    }
    assert deployer.resolve(properties) == {"Kept": "x", "List": ["p"]}
    assert deployer.resolve(properties["Reserved"]) is NO_VALUE
