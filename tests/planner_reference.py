"""An exact reference for the charging planner, its baselines and a plan checker.

``solve_exact`` states the planner's model (see the module docstring of
``custom_components.homecharge.logic.planner.solve``) as a mixed-integer linear program
and solves it with HiGHS (``scipy.optimize.milp``), in two solves: first the
most energy that can be delivered, then the least cost of delivering that
much (certified: the cost solve must reach the first solve's energy; see
``_least_cost``). Every solve runs with ``mip_rel_gap=0``, no presolve, the
cost scaled so that HiGHS's absolute gap (1e-6) is 1e-7 in currency.

HiGHS 1.8 (the one scipy 1.16 ships) gets some of these small models wrong:
it has called feasible ones infeasible and returned dearer plans as
"optimal" (test_planner_reference.py keeps the cases). So each solve is run
in two formulations (on/off binaries; HiGHS's semi-integer variables), with
presolve too when they contradict each other; every solution is checked
against the rows, and the cost reported is recomputed from the rounded
integer currents, which ``check_currents`` checks against the model's rules.

The model is in the problem's steps of current (``PlanProblem.amp_steps`` to
the ampere); every plan and optimum outside it, as ``Plan.currents``, in amps.

Tests only: the integration never imports scipy.

The baselines the benchmark compares against:

- ``charge_immediately``: every car from slot 0 at its maximum until it has
  its amp-slots, each slot shared out by a load balancer (max-min fair per
  line, a car whose share is under ``min_a`` paused and its share given to
  the others): never above the fuse, blind to prices and to the tariff;
- ``cheapest_slots``: what evcc and ev_smart_charging do: per car alone, the
  ``ceil(need_kwh / (max_a · kwh_per_amp))`` cheapest slots before ``ready``
  at ``max_a``, blind to the other cars, the fuse and the tariff.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
import math
import time

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from custom_components.homecharge.logic.planner.model import CarNeed, Plan, PlanProblem

SLOTS_PER_HOUR = 4
EPSILON = 1e-9
# kW above a step's max_kw that the checker lets pass (float round-off only).
KW_TOLERANCE = 1e-6
# kWh by which the second solve may fall short of the first's best (none:
# distinct integer plans differ by far more).
DELIVERED_TOLERANCE = 1e-6
# The cost objective is multiplied by this so that HiGHS's absolute MIP gap
# (1e-6 in the scaled units) stays at 1e-7 in currency.
COST_SCALE = 10.0
# A solution within this much (currency, or kWh) of HiGHS's proven lower
# bound counts as optimal: far below the tests' tolerance of 1e-6.
PROOF_TOLERANCE = 1e-7
# Seconds per solve when the caller sets no limit (then it must be proven).
SAFETY_TIME_LIMIT = 600.0


@dataclass(frozen=True, kw_only=True)
class Optimum:
    """The exact optimum of a planning problem."""

    currents: dict[str, tuple[float, ...]]
    delivered_kwh: dict[str, float]
    energy_cost: float
    step: int
    step_cost: float
    status: str
    seconds: float
    cost_bound: float
    delivered_bound: float

    @property
    def proven(self) -> bool:
        """Whether HiGHS proved the cost optimal (no time limit hit)."""
        return self.status == "optimal"

    @property
    def cost(self) -> float:
        """Energy plus the chosen step's extra cost."""
        return self.energy_cost + self.step_cost

    @property
    def delivered_total(self) -> float:
        """kWh over all cars."""
        return sum(self.delivered_kwh.values())


def one_group(problem: PlanProblem) -> bool:
    """Whether all cars load the same lines with the same energy per amp."""
    cars = [car for car in problem.cars if car.need_amps > 0]
    return all(
        car.lines == cars[0].lines and car.kwh_per_amp == cars[0].kwh_per_amp
        for car in cars
    )


def usable_slots(problem: PlanProblem, car: CarNeed) -> list[int]:
    """Slots where the car could charge at ``min_a`` on its own."""
    if car.need_amps <= 0 or car.max_a < car.min_a:
        return []
    slots = []
    for t in range(min(car.ready, len(problem.prices))):
        if problem.price_cap is not None and problem.prices[t] > problem.price_cap:
            continue
        if any(problem.headroom[t][line] < car.min_a for line in car.lines):
            continue
        slots.append(t)
    return slots


def _step_amps(max_kw: float, house_kw: float, kwh_per_amp: float) -> int:
    """Whole amps (of one group) that fit under ``max_kw`` beside the house."""
    if house_kw > max_kw:
        return 0
    return max(
        0, math.floor((max_kw - house_kw) / (SLOTS_PER_HOUR * kwh_per_amp) + EPSILON)
    )


# Formulation and presolve, in the order they are tried.
VARIANTS = (
    ("binaries", False),
    ("semi-integer", False),
    ("binaries", True),
    ("semi-integer", True),
)
# Where HiGHS's first two answers disagreed (each solve's answers), for the
# benchmark's and the tests' reports.
DISAGREEMENTS: list[str] = []


@dataclass(frozen=True, kw_only=True)
class _Answer:
    """What one solve said, its solution checked."""

    label: str
    status: str
    x: np.ndarray | None = None
    value: float = math.inf
    bound: float = -math.inf

    def describe(self) -> str:
        """Formulation, status and value."""
        return f"{self.label}: {self.status} {self.value:.9g}"


def _conflict(
    answers: Sequence[_Answer], tolerance: float, witness: float = math.inf
) -> bool:
    """Whether the answers contradict each other, a checked solution or the
    value of a plan known to be feasible (``witness``)."""
    solved = [a.value for a in answers if a.x is not None]
    best = min(solved, default=witness)
    return any(
        a.status == "broken solution"
        or (a.status == "infeasible" and best < math.inf)
        or (a.status == "optimal" and a.value > best + tolerance)
        for a in answers
    )


class _Model:
    """Variables and constraints of one problem."""

    def __init__(self, problem: PlanProblem) -> None:
        self.problem = problem
        cars = list(problem.cars)
        self.cars = cars
        # Variables: i[c,t] then on[c,t] for every usable (c, t), then z[s].
        self.index: list[tuple[int, int]] = []
        upper: list[int] = []
        for c, car in enumerate(cars):
            for t in usable_slots(problem, car):
                self.index.append((c, t))
                upper.append(
                    min(
                        car.max_a,
                        car.need_amps,
                        *(problem.headroom[t][line] for line in car.lines),
                    )
                )
        n = len(self.index)
        steps = len(problem.steps)
        self.n = n
        self.size = 2 * n + steps
        self.lower = np.zeros(self.size)
        self.upper = np.concatenate(
            [np.array(upper, dtype=float), np.ones(n), np.ones(steps)]
        )
        self.integrality = np.ones(self.size)
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        low: list[float] = []
        high: list[float] = []

        def row(terms: Sequence[tuple[int, float]], lo: float, hi: float) -> None:
            number = len(low)
            for col, value in terms:
                rows.append(number)
                cols.append(col)
                vals.append(value)
            low.append(lo)
            high.append(hi)

        # min_a · on ≤ i ≤ ub · on: off, or between the minimum and the maximum.
        for k, (c, _) in enumerate(self.index):
            row([(k, 1.0), (n + k, -float(cars[c].min_a))], 0.0, np.inf)
            row([(k, 1.0), (n + k, -self.upper[k])], -np.inf, 0.0)
        # Σ_t i[c,t] ≤ N_c.
        for c, car in enumerate(cars):
            terms = [(k, 1.0) for k, (cc, _) in enumerate(self.index) if cc == c]
            if terms:
                row(terms, -np.inf, float(car.need_amps))
        # Per slot and line (a shared circuit too): Σ i over the cars loading
        # the line ≤ headroom.
        by_slot: dict[int, list[int]] = {}
        for k, (_, t) in enumerate(self.index):
            by_slot.setdefault(t, []).append(k)
        for t, ks in by_slot.items():
            for line in range(len(problem.headroom[t])):
                terms = [(k, 1.0) for k in ks if line in cars[self.index[k][0]].lines]
                if len(terms) > 1:
                    row(terms, -np.inf, float(max(0, problem.headroom[t][line])))
        # Exactly one step.
        z0 = 2 * n
        row([(z0 + s, 1.0) for s in range(steps)], 1.0, 1.0)
        # The chosen step's max_kw per clock hour (``power_rows``: a slot alone
        # where the plan holds only part of its hour): Σ power ≤ Σ_s z_s ·
        # room_s. With one energy per amp, in whole amps (exact); else in kW.
        self.grouped = one_group(problem)
        for hour in problem.power_rows():
            ks = [k for t in hour for k in by_slot.get(t, ())]
            if not ks:
                continue
            house = math.fsum(problem.house_kw[t] for t in hour)
            if self.grouped:
                k_amp = cars[self.index[ks[0]][0]].kwh_per_amp
                most = sum(self.upper[k] for k in ks)
                terms = [(k, 1.0) for k in ks]
                for s, step in enumerate(problem.steps):
                    cap = problem.cap_kw(step, hour[0])
                    if cap is None:
                        room = most
                    else:
                        room = min(most, _step_amps(cap * len(hour), house, k_amp))
                    terms.append((z0 + s, -float(room)))
            else:
                most = sum(
                    SLOTS_PER_HOUR * cars[self.index[k][0]].kwh_per_amp * self.upper[k]
                    for k in ks
                )
                terms = [
                    (k, SLOTS_PER_HOUR * cars[self.index[k][0]].kwh_per_amp) for k in ks
                ]
                for s, step in enumerate(problem.steps):
                    cap = problem.cap_kw(step, hour[0])
                    if cap is None:
                        room = most
                    elif house > cap * len(hour):
                        room = 0.0
                    else:
                        room = min(most, cap * len(hour) - house + EPSILON)
                    terms.append((z0 + s, -float(room)))
            row(terms, -np.inf, 0.0)
        self.rows, self.cols, self.vals = rows, cols, vals
        self.low, self.high = low, high

    def constraints(
        self, extra: Sequence[tuple[np.ndarray, float, float]] = ()
    ) -> LinearConstraint:
        """The model's rows, plus dense ``(coefficients, low, high)`` rows."""
        rows, cols, vals = list(self.rows), list(self.cols), list(self.vals)
        low, high = list(self.low), list(self.high)
        for coefficients, lo, hi in extra:
            number = len(low)
            for col in np.flatnonzero(coefficients):
                rows.append(number)
                cols.append(int(col))
                vals.append(float(coefficients[col]))
            low.append(lo)
            high.append(hi)
        matrix = coo_array(
            (np.array(vals), (np.array(rows), np.array(cols))),
            shape=(len(low), self.size),
        ).tocsr()
        return LinearConstraint(matrix, np.array(low), np.array(high))

    def _run(
        self,
        form: str,
        presolve: bool,
        objective: np.ndarray,
        constraints: LinearConstraint,
        time_limit: float,
    ) -> _Answer:
        """One HiGHS solve of one formulation; its solution checked row by row.

        ``binaries``: i and on as above. ``semi-integer``: no on and no
        linking rows; each i is 0 or an integer in [min_a, ub] (HiGHS's own
        semi-integer type).
        """
        n = self.n
        if form == "binaries":
            keep_cols = np.arange(self.size)
            matrix, lb, ub = constraints.A, constraints.lb, constraints.ub
            lower, upper = self.lower, self.upper
            integrality = self.integrality
        else:
            keep_cols = np.concatenate([np.arange(n), np.arange(2 * n, self.size)])
            keep_rows = np.arange(2 * n, constraints.A.shape[0])
            matrix = constraints.A[keep_rows][:, keep_cols]
            lb, ub = constraints.lb[keep_rows], constraints.ub[keep_rows]
            minimum = [float(self.cars[c].min_a) for c, _ in self.index]
            lower = np.concatenate([minimum, self.lower[2 * n :]])
            upper = self.upper[keep_cols]
            integrality = np.concatenate([np.full(n, 3), self.integrality[2 * n :]])
        result = milp(
            objective[keep_cols],
            integrality=integrality,
            bounds=Bounds(lower, upper),
            constraints=LinearConstraint(matrix, lb, ub),
            options={
                "mip_rel_gap": 0.0,
                "presolve": presolve,
                "time_limit": time_limit,
            },
        )
        label = f"{form}{'+presolve' if presolve else ''}"
        if result.status == 2:
            return _Answer(label=label, status="infeasible")
        bound = float(getattr(result, "mip_dual_bound", -np.inf))
        if result.x is None:
            return _Answer(label=label, status="no solution", bound=bound)
        x = np.zeros(self.size)
        x[keep_cols] = np.rint(result.x)
        if form != "binaries":
            x[n : 2 * n] = x[:n] > 0
        values = constraints.A @ x
        if np.any(values < constraints.lb - 1e-6) or np.any(
            values > constraints.ub + 1e-6
        ):
            return _Answer(label=label, status="broken solution")
        value = float(objective @ x)
        status = "optimal" if result.status == 0 else "time limit"
        return _Answer(
            label=label,
            status=status,
            x=x,
            value=value,
            bound=value if status == "optimal" else bound,
        )

    def solve(
        self,
        objective: np.ndarray,
        extra: Sequence[tuple[np.ndarray, float, float]],
        time_limit: float | None = None,
        scale: float = 1.0,
        known: np.ndarray | None = None,
    ) -> tuple[np.ndarray | None, bool, float]:
        """Minimise ``objective``: the best solution (None: infeasible or none
        in time), whether it is proven optimal, and a lower bound. ``known``:
        a solution known to be feasible (it refutes "infeasible").

        HiGHS 1.8 (scipy 1.16) is not to be trusted alone on these models: it
        has called feasible ones infeasible and returned dearer plans as
        "optimal", with presolve and without (see test_planner_reference.py).
        So two formulations are solved without presolve, and when they
        contradict each other (or found nothing), with presolve too; every
        solution is checked against the rows, the best checked one is kept,
        and it counts as proven when a solve claimed it optimal (within
        ``PROOF_TOLERANCE``) or stopped at the time limit that close to its
        lower bound. Every contradiction is logged in ``DISAGREEMENTS``. Without a ``time_limit`` an unproven
        result raises.
        """
        constraints = self.constraints(extra)
        limit = SAFETY_TIME_LIMIT if time_limit is None else time_limit
        tolerance = PROOF_TOLERANCE * scale
        witness = math.inf if known is None else float(objective @ known)
        answers: list[_Answer] = []
        for form, presolve in VARIANTS:
            settled = any(a.x is not None for a in answers) or (
                known is None and all(a.status == "infeasible" for a in answers)
            )
            if (
                len(answers) >= 2
                and settled
                and not _conflict(answers, tolerance, witness)
            ):
                break
            answers.append(self._run(form, presolve, objective, constraints, limit))
        if _conflict(answers, tolerance, witness):
            DISAGREEMENTS.append("; ".join(a.describe() for a in answers))
        solved = [a for a in answers if a.x is not None]
        if known is not None:
            solved.append(
                _Answer(label="known", status="known", x=known, value=witness)
            )
        if not solved:
            if all(a.status == "infeasible" for a in answers):
                return None, True, math.inf
            if time_limit is None:
                raise RuntimeError(f"HiGHS found no solution: {answers}")
            return None, False, min(a.bound for a in answers)
        best = min(solved, key=lambda a: a.value)
        proven = any(
            a.status == "optimal" and abs(a.value - best.value) <= tolerance
            for a in answers
        ) or any(
            a.status == "time limit" and best.value - a.bound <= tolerance
            for a in solved
        )
        if not proven and time_limit is None:
            raise RuntimeError(f"HiGHS did not prove an optimum: {answers}")
        bound = best.value if proven else min(a.bound for a in answers)
        assert best.x is not None
        return best.x, proven, min(bound, best.value)

    def energy_weights(self) -> np.ndarray:
        """kWh per variable (amp-slots of one group: 1 each)."""
        weights = np.zeros(self.size)
        for k, (c, _) in enumerate(self.index):
            weights[k] = 1.0 if self.grouped else self.cars[c].kwh_per_amp
        return weights

    def cost_weights(self) -> np.ndarray:
        """Currency per variable, scaled by ``COST_SCALE``."""
        weights = np.zeros(self.size)
        for k, (c, t) in enumerate(self.index):
            weights[k] = self.problem.prices[t] * self.cars[c].kwh_per_amp
        for s, step in enumerate(self.problem.steps):
            weights[2 * self.n + s] = step.extra_cost
        return weights * COST_SCALE

    def currents(self, x: np.ndarray) -> dict[str, tuple[float, ...]]:
        """The amps per car per slot of a solution."""
        slots = len(self.problem.prices)
        steps = self.problem.amp_steps
        amps = {car.key: [0.0] * slots for car in self.cars}
        for k, (c, t) in enumerate(self.index):
            amps[self.cars[c].key][t] = int(x[k]) / steps
        return {key: tuple(values) for key, values in amps.items()}

    def step(self, x: np.ndarray) -> int:
        """The step a solution chose."""
        return int(np.argmax(x[2 * self.n :]))


@dataclass(frozen=True, kw_only=True)
class _Found:
    """The cheapest plan one cost solve found."""

    currents: dict[str, tuple[float, ...]]
    step: int
    cost: float


def _most_energy(
    model: _Model, time_limit: float | None
) -> tuple[float, float, np.ndarray]:
    """The most energy the model delivers (one group: in amp-slots, else kWh):
    the best found, a proven upper bound (equal when proven), the plan."""
    energy = model.energy_weights()
    x, proven, bound = model.solve(-energy, (), time_limit)
    if x is None:
        raise RuntimeError("no plan at all: not even charging nothing?")
    value = float(energy @ x)
    return value, value if proven else max(value, -bound), x


def _least_cost(
    model: _Model,
    best: float,
    time_limit: float | None,
    known: np.ndarray | None = None,
) -> tuple[_Found | None, float]:
    """The least cost of delivering ``best`` (in ``_most_energy``'s units):
    the plan (None if this model cannot deliver that much, or found nothing
    in time) and a proven lower bound on that cost.

    Minimises cost − W · energy with W larger than every cost difference
    between two plans divided by the smallest energy step, and checks that
    the result delivers ``best``: then no plan delivering ``best`` costs
    less (any such plan's weighted value is at least the optimum's), so it
    is the lexicographic optimum whatever W was. A row "energy ≥ best"
    would say the same more plainly, but HiGHS 1.8 cuts off feasible plans
    with it (test_planner_reference.py), even when nothing else changes.
    """
    energy = model.energy_weights()
    cost = model.cost_weights()
    steps = energy[energy > 0]
    unit = float(steps.min()) if steps.size else 1.0
    swing = float(np.abs(cost).sum()) + 1.0
    tolerance = 0.5 if model.grouped else DELIVERED_TOLERANCE
    for attempt in range(3):
        weight = swing / unit * 1000.0**attempt
        x, _, bound = model.solve(
            cost - weight * energy, (), time_limit, COST_SCALE, known
        )
        if x is None:
            return None, math.inf
        if float(energy @ x) >= best - tolerance:
            break
        if known is None:
            return None, math.inf  # this model cannot deliver that much
    else:
        raise RuntimeError("the cost solve keeps missing the most energy")
    currents = model.currents(x)
    step = model.step(x)
    energy_cost, step_cost = plan_cost(model.problem, currents, step)
    found = _Found(currents=currents, step=step, cost=energy_cost + step_cost)
    # Any plan delivering at least best: cost − W · energy ≥ bound.
    return found, min((bound + weight * best) / COST_SCALE, found.cost)


def solve_exact(
    problem: PlanProblem,
    *,
    by_step: bool | None = None,
    time_limit: float | None = None,
) -> Optimum:
    """The most energy, then the least cost: exact, or raise.

    One MILP with a binary per capacity step; or, ``by_step``, one MILP per
    step (its ``max_kw`` fixed: no big-M), the least cost among the steps
    that deliver the most, skipping a step whose extra cost plus the energy
    cost without any power cap cannot beat the best so far. Both are exact
    (the tests check that they agree); by default the binaries for one
    group, per step for several (HiGHS proves those faster).

    With a ``time_limit`` (seconds per solve) the result may be unproven:
    then ``status`` says so, ``delivered_bound`` is a proven upper bound on
    the energy (kWh) and ``cost_bound`` a proven lower bound on the cost of
    delivering at least ``delivered_total``. Without one, unproven raises.
    """
    if problem.continuous:
        raise NotImplementedError("continuous currents are not modelled")
    started = time.perf_counter()
    if by_step is None:
        by_step = not one_group(problem)
    if by_step and len(problem.steps) > 1:
        models = [
            (s, _Model(replace(problem, steps=(option,))))
            for s, option in enumerate(problem.steps)
        ]
    else:
        models = [(-1, _Model(problem))]
    grouped = models[0][1].grouped
    energies = [_most_energy(model, time_limit) for _, model in models]
    best = max(value for value, _, _ in energies)
    tolerance = 0.5 if grouped else DELIVERED_TOLERANCE
    # Steps that could deliver the most; those without a cap first: their
    # energy cost bounds every other step's.
    candidates = sorted(
        (n for n, (_, upper, _) in enumerate(energies) if upper >= best - tolerance),
        key=lambda n: (
            models[n][0] >= 0 and not problem.steps[models[n][0]].unlimited,
            problem.steps[models[n][0]].extra_cost if models[n][0] >= 0 else 0.0,
            n,
        ),
    )
    free_bound: float | None = None
    chosen: _Found | None = None
    bounds: list[float] = []
    for n in candidates:
        step, model = models[n]
        extra = problem.steps[step].extra_cost if step >= 0 else 0.0
        if (
            free_bound is not None
            and chosen is not None
            and extra + free_bound >= chosen.cost - EPSILON
        ):
            continue  # cannot beat the best: the uncapped energy cost says so
        value, _, plan = energies[n]
        # This model's own most-energy plan, when it is the best: feasible.
        known = plan if value >= best - tolerance / 2 else None
        found, bound = _least_cost(model, best, time_limit, known)
        bounds.append(bound)
        if step >= 0 and problem.steps[step].unlimited and free_bound is None:
            free_bound = bound - extra
        if found is None:
            continue
        if step >= 0:
            found = replace(found, step=step)
        if chosen is None or found.cost < chosen.cost - EPSILON * max(
            1.0, abs(chosen.cost)
        ):
            chosen = found
    if chosen is None:
        raise TimeoutError("no plan delivering the most energy was found in time")
    cost_bound = min([chosen.cost, *bounds])
    energy_upper = max(upper for _, upper, _ in energies)
    energy_proven = energy_upper <= best + (1e-6 if grouped else PROOF_TOLERANCE)
    cost_proven = cost_bound >= chosen.cost - PROOF_TOLERANCE
    energy_cost, step_cost = plan_cost(problem, chosen.currents, chosen.step)
    kwh = delivered(problem, chosen.currents)
    if grouped:
        cars = [car for car in problem.cars if car.need_amps > 0]
        per_amp = cars[0].kwh_per_amp if cars else 0.0
        delivered_bound = math.floor(energy_upper + 1e-6) * per_amp
    else:
        delivered_bound = energy_upper
    if energy_proven and cost_proven:
        status = "optimal"
    else:
        unproven = [
            name
            for name, proven in (("energy", energy_proven), ("cost", cost_proven))
            if not proven
        ]
        status = f"time limit: {' and '.join(unproven)} not proven"
    violations = check_currents(problem, chosen.currents, chosen.step)
    if violations:
        raise RuntimeError(f"the MILP's own solution breaks the model: {violations}")
    return Optimum(
        currents=chosen.currents,
        delivered_kwh=kwh,
        energy_cost=energy_cost,
        step=chosen.step,
        step_cost=step_cost,
        status=status,
        seconds=time.perf_counter() - started,
        cost_bound=cost_bound,
        delivered_bound=max(delivered_bound, sum(kwh.values())),
    )


# Checking a plan -----------------------------------------------------------------


def in_steps(
    problem: PlanProblem, currents: Mapping[str, Sequence[float]]
) -> dict[str, list[float]]:
    """Currents in amps as the problem's steps: ints where whole (within 1e-6)."""
    found: dict[str, list[float]] = {}
    for key, amps in currents.items():
        row: list[float] = []
        for value in amps:
            scaled = value * problem.amp_steps
            whole = round(scaled)
            row.append(whole if abs(scaled - whole) <= 1e-6 else scaled)
        found[key] = row
    return found


def delivered(
    problem: PlanProblem, currents: Mapping[str, Sequence[float]]
) -> dict[str, float]:
    """kWh per car: step-slots times energy per step (currents in amps)."""
    steps = in_steps(problem, currents)
    return {
        car.key: car.kwh_per_amp * sum(steps.get(car.key, ())) for car in problem.cars
    }


def plan_cost(
    problem: PlanProblem, currents: Mapping[str, Sequence[float]], step: int
) -> tuple[float, float]:
    """Energy cost and the step's extra cost, recomputed from the currents (A)."""
    energy = 0.0
    steps = in_steps(problem, currents)
    for car in problem.cars:
        for t, value in enumerate(steps.get(car.key, ())):
            if value:
                energy += problem.prices[t] * car.kwh_per_amp * value
    return energy, problem.steps[step].extra_cost


def check_currents(
    problem: PlanProblem, amps: Mapping[str, Sequence[float]], step: int
) -> list[str]:
    """Every rule of the model the currents (in amps) break (empty: feasible)."""
    currents = in_steps(problem, amps)
    errors: list[str] = []
    slots = len(problem.prices)
    keys = {car.key for car in problem.cars}
    if set(currents) != keys:
        errors.append(f"cars {sorted(currents)} != {sorted(keys)}")
    if not 0 <= step < len(problem.steps):
        return [*errors, f"step {step} out of range"]
    option = problem.steps[step]
    line_load: list[list[float]] = [
        [0] * len(problem.headroom[t]) for t in range(slots)
    ]
    power = [0.0] * slots
    for car in problem.cars:
        amps = currents.get(car.key, ())
        if len(amps) != slots:
            errors.append(f"{car.key}: {len(amps)} slots, not {slots}")
            continue
        if sum(amps) > car.need_amps:
            errors.append(f"{car.key}: {sum(amps)} step-slots > need {car.need_amps}")
        for t, value in enumerate(amps):
            if not isinstance(value, int) or isinstance(value, bool):
                errors.append(f"{car.key}[{t}]: {value!r} is not a whole step")
            if value == 0:
                continue
            if not car.min_a <= value <= car.max_a:
                errors.append(
                    f"{car.key}[{t}]: {value} A outside {car.min_a}..{car.max_a}"
                )
            if t >= car.ready:
                errors.append(f"{car.key}[{t}]: {value} A at/after ready {car.ready}")
            if problem.price_cap is not None and problem.prices[t] > problem.price_cap:
                errors.append(
                    f"{car.key}[{t}]: charging at {problem.prices[t]} > cap "
                    f"{problem.price_cap}"
                )
            for line in car.lines:
                line_load[t][line] += value
            power[t] += SLOTS_PER_HOUR * car.kwh_per_amp * value
    for t in range(slots):
        errors.extend(
            f"slot {t} line {line}: {load} A > headroom {problem.headroom[t][line]}"
            for line, load in enumerate(line_load[t])
            if load > 0 and load > problem.headroom[t][line]
        )
    for hour in problem.power_rows():
        max_kw = problem.cap_kw(option, hour[0])
        charging = math.fsum(power[t] for t in hour)
        if max_kw is None or charging <= 0:
            continue
        # The hour's average (a slot alone: its own power).
        house = math.fsum(problem.house_kw[t] for t in hour) / len(hour)
        average = charging / len(hour)
        where = f"slot {hour[0]}" if len(hour) == 1 else f"hour of slots {hour}"
        if house > max_kw:
            errors.append(
                f"{where}: charging {average:.3f} kW while the house "
                f"{house:.3f} kW is above step {step}'s {max_kw} kW"
            )
        elif house + average > max_kw + KW_TOLERANCE:
            errors.append(
                f"{where}: house {house:.3f} + charging {average:.3f} kW > "
                f"step {step}'s {max_kw} kW"
            )
    return errors


def check_plan(problem: PlanProblem, plan: Plan) -> list[str]:
    """Every rule the plan breaks, and any figure of its own that is wrong."""
    errors = check_currents(problem, plan.currents, plan.step)
    if errors or not 0 <= plan.step < len(problem.steps):
        return errors
    energy_cost, step_cost = plan_cost(problem, plan.currents, plan.step)
    if not math.isclose(plan.energy_cost, energy_cost, rel_tol=1e-9, abs_tol=1e-6):
        errors.append(f"energy_cost {plan.energy_cost} != recomputed {energy_cost}")
    if not math.isclose(plan.step_cost, step_cost, rel_tol=1e-9, abs_tol=1e-9):
        errors.append(f"step_cost {plan.step_cost} != step's {step_cost}")
    for key, kwh in delivered(problem, plan.currents).items():
        stated = plan.delivered_kwh.get(key)
        if stated is None or not math.isclose(stated, kwh, rel_tol=1e-9, abs_tol=1e-6):
            errors.append(f"{key}: delivered_kwh {stated} != recomputed {kwh}")
    return errors


def assert_feasible(problem: PlanProblem, plan: Plan) -> None:
    """Raise AssertionError listing what the plan breaks."""
    errors = check_plan(problem, plan)
    if errors:
        shown = "\n  ".join(errors[:20])
        more = f"\n  … and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise AssertionError(f"infeasible plan:\n  {shown}{more}")


# Baselines -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Baseline:
    """A baseline's schedule and what it costs.

    ``amps`` is what each car draws while it charges in a slot (for the fuse
    check); ``amp_slots`` what it takes in that slot (at most ``amps``: a car
    stops part-way through the slot that completes it), for energy and cost.
    """

    amps: dict[str, tuple[int, ...]]
    amp_slots: dict[str, tuple[int, ...]]
    energy_cost: float
    step: int
    step_cost: float
    delivered_kwh: dict[str, float]
    over_fuse: bool
    over_lowest_step: bool

    @property
    def cost(self) -> float:
        """Energy plus the step it ends up in."""
        return self.energy_cost + self.step_cost

    @property
    def delivered_total(self) -> float:
        """kWh over all cars."""
        return sum(self.delivered_kwh.values())

    def slot_power(self, problem: PlanProblem) -> list[float]:
        """Average charging kW per slot."""
        power = [0.0] * len(problem.prices)
        for car in problem.cars:
            for t, amps in enumerate(self.amp_slots[car.key]):
                power[t] += SLOTS_PER_HOUR * car.kwh_per_amp * amps
        return power

    def exceeds_step(self, problem: PlanProblem, step: int) -> bool:
        """Whether some hour's house + average charging power is over the step."""
        option = problem.steps[step]
        power = self.slot_power(problem)
        return any(
            (charging := math.fsum(power[t] for t in hour)) > 0
            and (cap := problem.cap_kw(option, hour[0])) is not None
            and math.fsum(problem.house_kw[t] for t in hour) + charging
            > (cap + KW_TOLERANCE) * len(hour)
            for hour in problem.power_rows()
        )


def _baseline(
    problem: PlanProblem,
    amps: dict[str, list[int]],
    amp_slots: dict[str, list[int]],
) -> Baseline:
    """Cost a schedule: the cheapest step it fits under (else the largest)."""
    energy = 0.0
    for car in problem.cars:
        for t, taken in enumerate(amp_slots[car.key]):
            energy += problem.prices[t] * car.kwh_per_amp * taken
    over_fuse = False
    for t in range(len(problem.prices)):
        for line in range(3):
            load = sum(amps[car.key][t] for car in problem.cars if line in car.lines)
            if load > max(0, problem.headroom[t][line]):
                over_fuse = True
    frozen = Baseline(
        amps={key: tuple(values) for key, values in amps.items()},
        amp_slots={key: tuple(values) for key, values in amp_slots.items()},
        energy_cost=energy,
        step=0,
        step_cost=0.0,
        delivered_kwh={
            car.key: car.kwh_per_amp * sum(amp_slots[car.key]) for car in problem.cars
        },
        over_fuse=over_fuse,
        over_lowest_step=False,
    )
    fitting = [
        s for s in range(len(problem.steps)) if not frozen.exceeds_step(problem, s)
    ]
    if fitting:
        step = min(fitting, key=lambda s: (problem.steps[s].extra_cost, s))
    else:
        step = max(
            range(len(problem.steps)),
            key=lambda s: (problem.steps[s].max_kw or math.inf, -s),
        )
    return Baseline(
        amps=frozen.amps,
        amp_slots=frozen.amp_slots,
        energy_cost=energy,
        step=step,
        step_cost=problem.steps[step].extra_cost,
        delivered_kwh=frozen.delivered_kwh,
        over_fuse=over_fuse,
        over_lowest_step=frozen.exceeds_step(problem, 0),
    )


def fair_shares(
    cars: Sequence[CarNeed], headroom: Sequence[int], min_a: Mapping[str, int]
) -> dict[str, int]:
    """A load balancer's whole amps: max-min fair per line, under ``min_a`` paused.

    Progressive filling: every car still charging rises by the same amount
    until it reaches its maximum or one of its lines is full. A car whose
    share (rounded down) is under its minimum is paused, the smallest share
    first (the later car on a tie), and the rest filled again.
    """
    charging = list(cars)
    while charging:
        share = {car.key: 0.0 for car in charging}
        room = [float(max(0, value)) for value in headroom]
        rising = list(charging)
        while rising:
            step = min(car.max_a - share[car.key] for car in rising)
            for line in range(3):
                on_line = sum(1 for car in rising if line in car.lines)
                if on_line:
                    step = min(step, room[line] / on_line)
            for car in rising:
                share[car.key] += step
                for line in car.lines:
                    room[line] -= step
            full = {line for line in range(3) if room[line] <= EPSILON}
            rising = [
                car
                for car in rising
                if car.max_a - share[car.key] > EPSILON and not car.lines & full
            ]
        whole = {key: math.floor(value + EPSILON) for key, value in share.items()}
        short = [car for car in charging if whole[car.key] < min_a[car.key]]
        if not short:
            return whole
        paused = min(short, key=lambda car: (whole[car.key], -charging.index(car)))
        charging.remove(paused)
    return {}


def charge_immediately(problem: PlanProblem) -> Baseline:
    """Every car at full power from now, shared out by a load balancer."""
    slots = len(problem.prices)
    remaining = {car.key: car.need_amps for car in problem.cars}
    amps = {car.key: [0] * slots for car in problem.cars}
    taken = {car.key: [0] * slots for car in problem.cars}
    minimum = {car.key: car.min_a for car in problem.cars}
    for t in range(slots):
        wanting = [
            car
            for car in problem.cars
            if remaining[car.key] > 0 and t < car.ready and car.max_a >= car.min_a
        ]
        for key, share in fair_shares(wanting, problem.headroom[t], minimum).items():
            amps[key][t] = share
            taken[key][t] = min(share, remaining[key])
            remaining[key] -= taken[key][t]
    return _baseline(problem, amps, taken)


def cheapest_slots(problem: PlanProblem) -> Baseline:
    """Per car alone: its cheapest slots before ``ready`` at full power."""
    slots = len(problem.prices)
    amps = {car.key: [0] * slots for car in problem.cars}
    taken = {car.key: [0] * slots for car in problem.cars}
    for car in problem.cars:
        if car.need_kwh <= 0 or car.max_a <= 0:
            continue
        count = math.ceil(car.need_kwh / (car.max_a * car.kwh_per_amp) - EPSILON)
        window = range(min(car.ready, slots))
        chosen = sorted(sorted(window, key=lambda t: (problem.prices[t], t))[:count])
        remaining = car.need_amps
        for t in chosen:
            if remaining <= 0:
                break
            amps[car.key][t] = car.max_a
            taken[car.key][t] = min(car.max_a, remaining)
            remaining -= taken[car.key][t]
    return _baseline(problem, amps, taken)
