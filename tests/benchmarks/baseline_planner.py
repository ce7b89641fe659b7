"""Another revision's planner, loaded beside this one for a benchmark's baseline.

``scripts/bench planner --baseline DIR``: DIR holds the ``logic`` package of
an older ``custom_components/homecharge`` (e.g. ``git archive HEAD~3
custom_components/homecharge/logic | tar -x -C /tmp/old``, then DIR is
``/tmp/old/custom_components/homecharge``). Its modules are imported as a
package of their own; a problem is handed over field by field (what that
revision does not know, such as hourly caps, is left out), and its plan
comes back as this revision's ``Plan`` to be checked and costed by this
revision's reference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
import importlib
from pathlib import Path
import sys
import types
from typing import Any

from custom_components.homecharge.logic.planner.model import Plan, PlanProblem

_PACKAGE = "homecharge_baseline"


def load_baseline(directory: Path) -> Callable[[PlanProblem], Plan]:
    """The ``plan_charging`` of the revision in ``directory``."""
    package = types.ModuleType(_PACKAGE)
    package.__path__ = [str(directory)]
    sys.modules[_PACKAGE] = package
    solve = importlib.import_module(f"{_PACKAGE}.logic.planner.solve")
    model = importlib.import_module(f"{_PACKAGE}.logic.planner.model")
    tariff = importlib.import_module(f"{_PACKAGE}.logic.capacity_tariff")

    def convert(value: Any, kind: Any) -> Any:
        known = {field.name for field in fields(kind)}
        return kind(
            **{
                field.name: getattr(value, field.name)
                for field in fields(value)
                if field.name in known
            }
        )

    def plan_charging(problem: PlanProblem) -> Plan:
        older = convert(problem, model.PlanProblem)
        older = type(older)(
            **{
                **{field.name: getattr(older, field.name) for field in fields(older)},
                "cars": [convert(car, model.CarNeed) for car in problem.cars],
                "steps": tuple(
                    convert(step, tariff.StepOption) for step in problem.steps
                ),
            }
        )
        plan = solve.plan_charging(older)
        return convert(plan, Plan)  # type: ignore[no-any-return]

    return plan_charging
