"""Each config model runs its cross-field check: rules.py registers them in rule_context.py (the models'
module cannot import rules.py, which reads the models), and importing `lib.config` loads them."""

from __future__ import annotations

from lib.config import rule_context, rules, schema


def test_every_checked_model_has_its_check_registered() -> None:
    checked = {
        model.__name__
        for model in vars(schema).values()
        if isinstance(model, type) and issubclass(model, schema._Section) and rule_context.checks_for(model) is not None
    }
    assert checked == {
        "AppConfig",
        "Aurora",
        "Backup",
        "Cutover",
        "DataLake",
        "Deployment",
        "Dms",
        "KinesisTarget",
        "Network",
        "Observability",
        "Project",
        "S3Target",
        "Source",
        "State",
    }
    assert rule_context.checks_for(schema.Source) is rules.check_source
    assert rule_context.checks_for(schema.Task) is None
