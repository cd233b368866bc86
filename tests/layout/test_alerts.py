"""The layout's alerts: `alert: true` thresholds compiled into rules, and their problems located."""

from __future__ import annotations

import pytest

from statdash.api.values import AgentStateValue, NumberValue
from statdash.layout.compile import compile_layout
from statdash.layout.loader import load_layout_text
from statdash.layout.problems import LayoutError
from statdash.layout.views import CommandAction, CompiledLayout


def compiled(text: str) -> CompiledLayout:
    return compile_layout(load_layout_text(text, file="alerts.yaml"))


def problems(text: str) -> list[str]:
    with pytest.raises(LayoutError) as caught:
        load_layout_text(text, file="alerts.yaml")
    return [str(problem) for problem in caught.value.problems]


DECLARED = """\
title: Alerts
alert_settings:
  actions: [bell, {command: [/usr/local/bin/page, --team, sales], timeout: 3s}]
  for: 30s
  clear_after: 1m
  repeat: 5m
statistics:
  waiting:
    name: CurrentNumberWaitingCalls
    label: Waiting
    thresholds: {warn: 3, alarm: 6, alert: true}
pages:
  - widgets:
      - kind: queues
        objects: [{queue: 8001@SIP_Switch, label: Sales}, {queue: 8002@SIP_Switch}]
        columns: [$waiting]
      - kind: kpi
        object: {queue: 8001@SIP_Switch}
        stat: $waiting
      - kind: kpi
        object: {queue: 8003@SIP_Switch}
        stat: $waiting
        format: duration
"""


def test_alert_true_watches_every_object_once_with_the_settings() -> None:
    """A declared threshold with alert: true gives one rule per name, each object once."""
    layout = compiled(DECLARED)
    names = [rule.name for rule in layout.alerts]
    assert names == ["Waiting \u2265 6", "Waiting \u2265 0:00:06"]
    rule = layout.alerts[0]
    assert [t.object.id for t in rule.targets] == ["8001@SIP_Switch", "8002@SIP_Switch"]
    assert (rule.level, rule.hold, rule.clear_after, rule.repeat) == ("alarm", 30, 60, 300)
    assert rule.actions == ("bell", CommandAction(("/usr/local/bin/page", "--team", "sales"), 3))
    assert str(rule.location) == "alerts.yaml:16:19"


def test_a_threshold_condition_holds_at_the_alarm_level_only() -> None:
    """The compiled condition is true at alarm, false at warn, unknown without a number."""
    target = compiled(DECLARED).alerts[0].targets[0]
    assert target.condition((NumberValue(6, "6"),)).holds is True
    assert target.condition((NumberValue(4, "4"),)).holds is False
    assert target.condition((None,)).holds is None


def test_an_agents_threshold_alert_ignores_logged_out_agents() -> None:
    """In an agents table the state is an input, and a logged-out agent raises nothing."""
    layout = compiled(
        """\
title: Agents
pages:
  - widgets:
      - kind: agents
        agents: [ana.silva]
        columns:
          - {stat: Productivity, format: percent,
             thresholds: {alarm: 40, direction: below, alert: true}}
"""
    )
    (target,) = layout.alerts[0].targets
    assert len(target.inputs) == 2  # the figure, then the agent's state
    low = NumberValue(10, "10")
    assert target.condition((low, AgentStateValue("WaitForNextCall"))).holds is True
    assert target.condition((low, AgentStateValue("LoggedOut"))).holds is False
    assert layout.alerts[0].name == "Productivity \u2264 40%"


def test_no_alerts_without_alert_true() -> None:
    """Thresholds alone colour cells and raise no alert; the default settings stand."""
    assert compiled(DECLARED.replace(", alert: true", "")).alerts == ()


def test_the_layouts_alert_log_is_beside_the_layout() -> None:
    """`log:` is read relative to the layout's directory."""
    text = DECLARED.replace("  repeat: 5m\n", "  repeat: 5m\n  log: alerts.jsonl\n")
    layout = compile_layout(load_layout_text(text, file="conf/floor.yaml"))
    assert layout.alert_log == "conf/alerts.jsonl"


def test_alert_true_needs_an_alarm_level() -> None:
    """`alert: true` with only a warn level is a located problem."""
    found = problems(DECLARED.replace("{warn: 3, alarm: 6, alert: true}", "{warn: 3, alert: true}"))
    assert found == [
        "alerts.yaml:11:34: statistics.waiting.thresholds.alert: 'alert: true' raises an alert"
        " at the alarm level; give 'alarm'"
    ]


def test_settings_problems_are_located_with_a_did_you_mean() -> None:
    """A misspelt action, a bare number as a delay and a misspelt key are each reported."""
    text = (
        DECLARED.replace("actions: [bell,", "actions: [bel,")
        .replace("for: 30s", "for: 30")
        .replace("repeat: 5m", "repat: 5m")
    )
    found = problems(text)
    assert any("unknown action 'bel'; did you mean 'bell'?" in line for line in found)
    assert any("alert_settings.for: '30' needs a unit" in line for line in found)
    assert any("unknown key 'repat'; did you mean 'repeat'?" in line for line in found)
    assert all(line.startswith("alerts.yaml:") for line in found)


def test_a_command_is_a_list_of_words() -> None:
    """A command given as one string (a shell line) is refused: there is no shell."""
    found = problems(DECLARED.replace("[/usr/local/bin/page, --team, sales]", '"page --team"'))
    assert any("alert_settings.actions[1].command" in line for line in found)


RULES = """\
title: Rules
statistics:
  waiting: {name: CurrentNumberWaitingCalls}
alerts:
  - name: Sales backlog
    when: "waiting > 5"
  - name: Sales backlog
    when: "waiting > 9"
pages:
  - widgets:
      - kind: kpi
        object: {queue: 8001@SIP_Switch}
        stat: $waiting
"""


def test_rule_names_must_differ() -> None:
    """Two rules of one name are a located problem."""
    found = problems(RULES)
    assert found == [
        "alerts.yaml:7:11: alerts[1].name: 'Sales backlog' names two alerts (first"
        " alerts[0]); each alert needs its own name"
    ]


RULE = """\
title: Rules
statistics:
  waiting: {name: CurrentNumberWaitingCalls, label: Waiting}
  ready: {name: CurrentReadyAgents}
alert_settings:
  for: 10s
alerts:
  - name: Sales backlog
    when: "waiting > 5"
    objects: [{queue: 8001@SIP_Switch, label: Sales}]
    level: warn
    for: 0s
    actions: [log]
  - name: Nobody ready
    when: "ready < 1 and waiting > 0"
pages:
  - widgets:
      - kind: queues
        objects: [{queue: 8002@SIP_Switch}, {queue: 8003@SIP_Switch}]
        columns: [$waiting]
      - kind: kpi
        object: {queue: 8003@SIP_Switch}
        stat: $ready
"""


def test_a_rule_is_compiled_per_object_with_its_own_settings() -> None:
    """A `when:` rule watches its objects (subscribed even if no widget shows them) and
    overrides the settings it names; a rule without objects watches those with every name."""
    layout = compiled(RULE)
    backlog, nobody = layout.alerts[:2]
    assert [t.object.label for t in backlog.targets] == ["Sales"]
    assert (backlog.level, backlog.hold, backlog.actions) == ("warn", 0, ("log",))
    assert "8001@SIP_Switch" in {item.object_id for item in layout.items}
    # Only 8003 has both waiting and ready on the page.
    assert [t.object.id for t in nobody.targets] == ["8003@SIP_Switch"]
    assert nobody.hold == 10
    assert str(backlog.location).startswith("alerts.yaml:8:")


def test_a_rule_condition_reads_the_formula_and_its_left_side() -> None:
    """The condition holds when the stored result is true and shows the left side's figure."""
    target = compiled(RULE).alerts[0].targets[0]
    assert len(target.inputs) == 2
    assert target.condition((NumberValue(1, "true"), NumberValue(7, "7"))).holds is True
    verdict = target.condition((NumberValue(0, "false"), NumberValue(3, "3")))
    assert (verdict.holds, verdict.value) == (False, 3)
    assert target.condition((NumberValue(float("nan"), "n/a"), None)).holds is None


def test_an_unknown_name_in_a_rule_is_located_with_a_did_you_mean() -> None:
    """A misspelt statistic in `when:` points into the formula and suggests the name."""
    found = problems(RULE.replace('"waiting > 5"', '"wating > 5"'))
    assert len(found) == 1
    assert found[0].startswith("alerts.yaml:9:12: alerts[0].when: ")
    assert "did you mean 'waiting'?" in found[0]


HOURS = """\
title: Hours
timezone: Europe/Berlin
statistics:
  waiting: {name: CurrentNumberWaitingCalls}
alert_settings:
  active: "Mon-Fri 08:00-20:00"
alerts:
  - name: Day backlog
    when: "waiting > 5"
  - name: Night backlog
    when: "waiting > 2"
    active: ["22:00-06:00", "Sat 09:00-13:00"]
pages:
  - widgets:
      - kind: kpi
        object: {queue: 8001@SIP_Switch}
        stat: $waiting
      - kind: clock
"""


def test_a_rules_active_windows_override_the_settings_in_the_layouts_zone() -> None:
    """alert_settings' `active` is every rule's unless it has its own; both read in the
    layout's `timezone`, which a clock without its own zone shows too."""
    layout = compiled(HOURS)
    day, night = layout.alerts
    assert day.active is not None and night.active is not None
    assert day.active.text == "Mon-Fri 08:00-20:00"
    assert night.active.text == "22:00-06:00, Sat 09:00-13:00"
    assert day.active.timezone == night.active.timezone == "Europe/Berlin"
    clock = list(layout.widgets())[1]
    assert getattr(clock, "timezone", None) == "Europe/Berlin"
    assert (
        compiled(HOURS.replace('  active: "Mon-Fri 08:00-20:00"\n', "  quiet: false\n"))
        .alerts[0]
        .active
        is None
    )


def test_a_bad_window_is_a_located_problem_with_an_example() -> None:
    """A misspelt day in a list and a time that is no time are each located in the file."""
    found = problems(
        HOURS.replace('"Sat 09:00-13:00"', '"Sam 09:00-13:00"').replace(
            '"Mon-Fri 08:00-20:00"', '"Mon-Fri 8am-8pm"'
        )
    )
    assert found == [
        "alerts.yaml:6:11: alert_settings.active: 'Mon-Fri 8am-8pm': expected a time window"
        ' such as "Mon-Fri 08:00-20:00", "Sat 09:00-13:00" or "22:00-06:00"',
        "alerts.yaml:12:29: alerts[1].active[1]: 'Sam 09:00-13:00': 'Sam' is not a day;"
        " use Mon, Tue, Wed, Thu, Fri, Sat, Sun (e.g. 'Mon-Fri 08:00-20:00' or"
        " 'Sat 09:00-13:00')",
    ]


def test_active_must_be_text_or_a_list_and_the_zone_a_known_one() -> None:
    """A number for `active` and an unknown `timezone` are located problems."""
    found = problems(
        HOURS.replace('"Mon-Fri 08:00-20:00"', "8").replace("Europe/Berlin", "Europe/Bonn")
    )
    assert any(
        line.startswith("alerts.yaml:2:11: timezone: unknown time zone 'Europe/Bonn'")
        for line in found
    )
    assert any("alert_settings.active: expected a time window such as" in line for line in found)
