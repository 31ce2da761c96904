"""Alert rule files: parsing without eval, round trips, and one-line errors naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from alert_helpers import FakeClock, make_snapshot, running_job

from seisproc.alerts import (
    AlertConfig,
    AlertConfigError,
    AlertManager,
    RuleSpec,
    WebhookAction,
    alerts_path,
    build_registry,
    dump_alert_config,
    known_metric,
    load_alert_config,
    open_alert_manager,
    parse_alert_config,
)
from seisproc.monitoring import DiskStats

EXAMPLE = """
include_defaults = true
disabled = ["high_memory"]

[[rules]]
name = "home_disk"
metric = "disk.home.percent"
comparison = ">="
threshold = 80
for_seconds = 30
severity = "critical"
message = "seisproc home disk at {value:.0f}% (limit {threshold:.0f}%)"
cooldown_seconds = 900
actions = ["log", "team_chat"]

[[rules]]
name = "nightly_slow"
metric = "job.traces_per_s"
comparison = "<"
threshold = 500
job = "nightly-*"
actions = ["log"]

[actions.team_chat]
type = "webhook"
url = "https://hooks.example.com/services/T000/B000"
format = "slack"
timeout_s = 3
retries = 1
headers = { Authorization = "Bearer abc" }
"""


def test_rule_file_round_trips_through_dump_and_parse() -> None:
    config = parse_alert_config(EXAMPLE)
    assert [s.name for s in config.rules] == ["home_disk", "nightly_slow"]
    assert config.rules[0] == RuleSpec(
        name="home_disk", metric="disk.home.percent", comparison=">=", threshold=80.0,
        for_seconds=30.0, severity="critical",
        message="seisproc home disk at {value:.0f}% (limit {threshold:.0f}%)",
        cooldown_seconds=900.0, actions=("log", "team_chat"))
    assert config.rules[1].job == "nightly-*"
    assert config.disabled == ("high_memory",)
    again = parse_alert_config(dump_alert_config(config))
    assert again == config
    assert dump_alert_config(again) == dump_alert_config(config)


def test_rules_from_a_file_fire_on_their_metric_with_the_value_in_the_message() -> None:
    clock = FakeClock()
    alerts = AlertManager(parse_alert_config(EXAMPLE).alert_rules(), clock=clock)
    disks = (DiskStats("/home/u/.seisproc", "home", 100, 85, 15, 85.0),)
    raised = []
    for _ in range(31):
        raised += alerts.check(make_snapshot(disks=disks, memory_percent=90))
        clock.advance(1)
    assert [(a.rule, a.message, a.value) for a in raised] == [
        ("home_disk", "seisproc home disk at 85% (limit 80%)", 85.0)]


def test_a_job_rule_from_a_file_applies_to_matching_jobs_only() -> None:
    alerts = AlertManager(parse_alert_config(EXAMPLE).alert_rules(), clock=FakeClock())
    jobs = (running_job("a" * 12, "nightly-7", traces_per_s=120),
            running_job("b" * 12, "adhoc", traces_per_s=120))
    raised = alerts.check(make_snapshot(jobs=jobs))
    assert [(a.rule, a.job_id, a.value) for a in raised] == [("nightly_slow", "a" * 12, 120.0)]
    assert raised[0].message == "nightly_slow: job.traces_per_s is 120 (< 500)"


def test_defaults_stay_unless_disabled_or_redefined() -> None:
    config = parse_alert_config(EXAMPLE + """
[[rules]]
name = "job_stuck"
metric = "job.no_progress_seconds"
comparison = ">"
threshold = 60
""")
    names = [r.name for r in config.alert_rules()]
    assert "high_memory" not in names
    assert names.count("job_stuck") == 1 and names[-1] == "job_stuck"
    assert "critical_memory" in names
    assert [r.name for r in AlertConfig(include_defaults=False).alert_rules()] == []


def test_configured_webhook_is_registered_under_its_name() -> None:
    registry = build_registry(parse_alert_config(EXAMPLE))
    hook = registry.get("team_chat")
    assert isinstance(hook, WebhookAction)
    assert hook.slack and hook.timeout_s == 3 and hook.retries == 1
    assert hook.headers["Authorization"] == "Bearer abc"
    assert {"log", "toast", "sound", "desktop", "team_chat"} <= set(registry.names())


def test_missing_file_means_the_built_in_rules(seisproc_home: Path) -> None:
    assert alerts_path() == seisproc_home / "alerts.toml"
    assert load_alert_config() == AlertConfig()
    assert [r.name for r in open_alert_manager().rules][:2] == ["high_memory", "critical_memory"]


def test_the_file_in_the_seisproc_home_is_read(seisproc_home: Path) -> None:
    (seisproc_home / "alerts.toml").write_text(EXAMPLE)
    alerts = open_alert_manager()
    try:
        assert "home_disk" in [r.name for r in alerts.rules]
        assert alerts.dispatcher.registry.get("team_chat") is not None
    finally:
        alerts.close()


RULE = '[[rules]]\nname = "r1"\nmetric = "memory_percent"\ncomparison = ">"\nthreshold = 90\n'


@pytest.mark.parametrize(("text", "expected"), [
    ("[[rules]\nname=", "not valid TOML"),
    ("colour = 'red'", "unknown field 'colour'"),
    (RULE.replace('"memory_percent"', '"memory_precent"'),
     "rule 'r1': field 'metric': unknown metric 'memory_precent'"),
    (RULE.replace('">"', '"=>"'), "rule 'r1': field 'comparison': '=>' is not one of"),
    (RULE.replace("threshold = 90\n", ""), "rule 'r1': field 'threshold' is missing"),
    (RULE.replace("90", '"ninety"'), "rule 'r1': field 'threshold': expected int or float"),
    (RULE.replace("90", "true"), "rule 'r1': field 'threshold': expected int or float"),
    (RULE + 'severity = "urgent"\n', "rule 'r1': field 'severity': 'urgent' is not one of"),
    (RULE + "for_seconds = -5\n", "rule 'r1': field 'for_seconds' must be >= 0"),
    (RULE + 'job = "x*"\n', "rule 'r1': field 'job': a job filter needs a job.<name> metric"),
    (RULE + 'message = "{value.__class__}"\n', "rule 'r1': field 'message': {value.__class__}"),
    (RULE + 'message = "{value:.0f"\n', "rule 'r1': field 'message': malformed template"),
    (RULE + 'message = "{value:%Y}"\n', "rule 'r1': field 'message':"),
    (RULE + 'actions = ["pager"]\n', "rule 'r1': field 'actions': unknown action 'pager'"),
    (RULE + "actions = 'log'\n", "rule 'r1': field 'actions': expected a list of strings"),
    (RULE + "threshhold = 3\n", "rule 'r1': unknown field 'threshhold'"),
    (RULE + RULE, "rule 'r1': field 'name': defined twice"),
    (RULE.replace('"r1"', '"two words"'), "rule #1: field 'name'"),
    ('[actions.hook]\ntype = "webhook"\n', "action 'hook': field 'url'"),
    ('[actions.hook]\ntype = "webhook"\nurl = "ftp://x"\n', "action 'hook': field 'url'"),
    ('[actions.hook]\ntype = "pigeon"\n', "action 'hook': field 'type': 'pigeon'"),
    ('[actions.webhook]\nurl = "http://x"\nretries = "3"\n',
     "action 'webhook': field 'retries': expected int"),
])
def test_a_malformed_rule_file_gives_one_line_naming_rule_and_field(
        tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "alerts.toml"
    path.write_text(text)
    with pytest.raises(AlertConfigError) as info:
        load_alert_config(path)
    message = str(info.value)
    assert expected in message
    assert message.startswith(f"{path}:")
    assert "\n" not in message


def test_a_rule_file_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "owned"
    text = RULE.replace('"memory_percent"', f'"__import__(\'os\').mkdir(\'{marker}\')"')
    with pytest.raises(AlertConfigError, match="unknown metric"):
        parse_alert_config(text)
    assert not marker.exists()


@pytest.mark.parametrize(("name", "known"), [
    ("memory_percent", True), ("disk.home.percent", True), ("disk.job a1.percent", True),
    ("gpu.0.temperature_c", True), ("job.no_progress_seconds", True),
    ("job_no_progress_seconds", True), ("disk.percent", False), ("job.memory_percent", False),
    ("gpu.0.fan", False), ("", False),
])
def test_metric_names_are_checked_against_the_catalogue(name: str, known: bool) -> None:
    assert known_metric(name) is known


def test_the_readme_example_parses_and_its_actions_exist() -> None:
    readme = Path(__file__).parents[2] / "README.md"
    section = readme.read_text(encoding="utf-8").split("### Monitoring and alerts", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    config = parse_alert_config(example, "README.md")
    assert [s.name for s in config.rules] == ["home_disk", "nightly_slow"]
    assert isinstance(build_registry(config).get("team"), WebhookAction)
    assert "high_memory" not in [r.name for r in config.alert_rules()]
