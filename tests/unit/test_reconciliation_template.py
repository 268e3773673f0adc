"""template.yaml's reconciliation: the daily schedule, the Standard state machine that loops the
status poller while a run has more, the alarm on the metric the function publishes, and the
least privilege its reads need."""

from __future__ import annotations

import json
from typing import Any

from tijori_local.template import PROJECT_ROOT, load_template

TEMPLATE = load_template()


def _properties(logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = TEMPLATE["Resources"][logical_id]["Properties"]
    return properties


def test_reconciliation_runs_daily_as_a_standard_state_machine_looping_the_status_poller_while_more() -> None:
    machine = _properties("ReconciliationStateMachine")
    assert machine["Type"] == "STANDARD"  # a long window outlives Express's 5 minutes
    schedule = machine["Events"]["Daily"]["Properties"]
    assert schedule["Schedule"] == {"Ref": "ReconcileSchedule"}
    assert schedule["State"] == {"Ref": "ReconcileScheduleState"}
    assert TEMPLATE["Parameters"]["ReconcileSchedule"]["Default"] == "cron(30 0 * * ? *)"
    assert TEMPLATE["Parameters"]["ReconcileScheduleState"]["Default"] == "ENABLED"
    scheduled = json.loads(schedule["Input"])
    assert scheduled == json.loads((PROJECT_ROOT / "events" / "reconcile_schedule.json").read_text())
    definition = json.loads((PROJECT_ROOT / machine["DefinitionUri"]).read_text())
    task = definition["States"]["Reconcile"]
    assert task["Parameters"]["Payload"] == {"reconcile.$": "$.reconcile"}
    assert task["ResultSelector"]["reconcile"] == {"run_id.$": "$.Payload.run_id"}
    assert definition["States"]["Finished"]["Choices"] == [
        {"Variable": "$.more", "BooleanEquals": True, "Next": "Reconcile"}
    ]


def test_the_alarm_watches_the_metric_the_function_publishes_under_its_namespace_and_service() -> None:
    alarm = _properties("ReconciliationMismatchAlarm")
    environment = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert alarm["Namespace"] == environment["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm["MetricName"] == "ReconciliationMismatches"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": environment["POWERTOOLS_SERVICE_NAME"]}]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_the_status_poller_may_scan_the_item_tables_but_write_only_the_reconciliation_table() -> None:
    statements = _properties("StatusPollerFunction")["Policies"][0]["Statement"]
    scans = [s for s in statements if s["Action"] == "dynamodb:Scan"]
    assert scans == [
        {
            "Effect": "Allow",
            "Action": "dynamodb:Scan",
            "Resource": [
                {"Fn::GetAtt": [table, "Arn"]} for table in ("PayoutsTable", "PaymentsTable", "RefundsTable")
            ],
        }
    ]
    writes = [s for s in statements if "dynamodb:PutItem" in s["Action"]]
    assert [s["Resource"] for s in writes] == [{"Fn::GetAtt": ["ReconciliationTable", "Arn"]}]
