"""The registry behind `symnn derive TOPIC`: each topic builds a Derivation step by step."""
from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from symnn import notation as N
from symnn.derive.derivation import DEFINITION, Derivation
from symnn.derive.rules import D
from symnn.derive.steps import detail_level, differentiate, tidy
from symnn.errors import DerivationError, InputError, unknown
from symnn.ops.activations import ACTIVATIONS, get_activation
from symnn.ops.costs import COSTS, check_compatible, get_cost

TOPICS: dict[str, tuple[Callable[..., Derivation], str]] = {}
STUDY_INPUTS = ("Study Hrs", "Sleep Hrs", "Quiz")
N_ROWS = 8  # rows of the lecture's table

NIELSEN = "Nielsen, M. (2015). Neural Networks and Deep Learning, ch. 1–2. http://neuralnetworksanddeeplearning.com/chap2.html"
TRASK = "Trask, A. (2015). A Neural Network in 13 lines of Python (Part 2 – Gradient Descent). https://iamtrask.github.io/2015/07/27/python-network-part2/"
CROSSVALIDATED = "CrossValidated (2015). A list of cost functions used in neural networks, alongside applications. http://stats.stackexchange.com/questions/154879"


def topic(name: str, summary: str):
    def register(func):
        TOPICS[name] = (func, summary)
        return func
    return register


def derive(topic: "str | sp.Expr", verify: bool = True, timeout: float | None = None,
           detail: str | None = None, **options) -> "Derivation":
    """Derive a topic step by step (see `symnn derive --list`) and check every step with SymPy.

    `topic` may also be a SymPy expression: `derive(x**2 * sp.sin(x), wrt=x)`. A derivation of
    a user's expression (`expr=`) stops after `timeout` seconds (default 20; 0 or None for the
    built-in topics: no limit). `detail` is "brief", "normal" (default) or "full"."""
    from symnn.limits import DEFAULT_TIMEOUT, time_limit
    if isinstance(topic, sp.Basic):
        options["expr"], topic = topic, "expression"
    _ensure_topics()
    if not isinstance(topic, str):
        raise InputError(f"derive() takes a topic name or a SymPy expression, not "
                         f"{type(topic).__name__}; topics: " + ", ".join(sorted(TOPICS)))
    key = topic.lower().replace("_", "-")
    if key not in TOPICS:
        raise unknown("topic", topic, TOPICS)
    func = TOPICS[key][0]
    options = {k: v for k, v in options.items() if v is not None}
    user = "expr" in options
    if timeout is None and user:
        timeout = DEFAULT_TIMEOUT
    _check_timeout(timeout)
    with time_limit(timeout, "the derivation"), detail_level(detail):
        try:
            d = func(**options)
        except TypeError as exc:
            if not user or "argument" in str(exc):
                raise InputError(f"topic {key!r} does not take these options: {exc}") from None
            raise _unreadable(exc) from None
        except (ValueError, NotImplementedError, RecursionError, ZeroDivisionError, OverflowError,
                AttributeError) as exc:
            if not user or isinstance(exc, InputError):
                raise
            raise _unreadable(exc) from None
        return d.verify() if verify else d


def _check_timeout(timeout) -> None:
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or not timeout >= 0 or timeout == float("inf")):
        raise InputError(f"timeout must be a number of seconds >= 0 (0: no limit), not {timeout!r}")


def _unreadable(exc: Exception) -> DerivationError:
    """SymPy failing on a user's expression: one line, the reason's first line."""
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
    if isinstance(exc, RecursionError):
        reason = "it nests too deeply"
    return DerivationError(f"symnn cannot derive this expression: {reason}")


def _ensure_topics() -> None:
    """Topics defined in other modules (backprop, conv2d, ...) register on import."""
    import importlib
    for module in ("symnn.derive.topics_nn",):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


# --- the neuron ---------------------------------------------------------------------------

def perceptron(n_inputs: int = 3):
    xs = [N.x(i) for i in range(1, n_inputs + 1)]
    ws = [N.w(i) for i in range(1, n_inputs + 1)]
    z_expr = sp.Add(*[w * x for w, x in zip(ws, xs)]) + N.b
    return xs, ws, z_expr


@topic("neuron", "the forward pass of one neuron: z = Σ w_i x_i + b, ŷ = φ(z)")
def neuron(activation: str = "sigmoid", n_inputs: int = 3) -> Derivation:
    act = get_activation(activation)
    xs, ws, z_expr = perceptron(n_inputs)
    d = Derivation(f"The neuron's forward pass ({act.title.lower()})", references=[NIELSEN])
    d.intro = ("Each input x_i is multiplied by its weight w_i; the neuron adds the products and "
               "the bias b, then applies its activation function φ.")
    i, n = sp.Symbol("i", integer=True), sp.Symbol("n", integer=True)
    xi, wi = sp.IndexedBase("x"), sp.IndexedBase("w")
    d.add(N.z, sp.Sum(wi[i] * xi[i], (i, 1, n)) + N.b, DEFINITION, "weighted sum of the inputs plus the bias")
    d.add(N.z, z_expr, "expansion", f"the sum written out for n = {n_inputs} inputs")
    d.defs[N.z] = z_expr
    d.add(N.yhat, act.phi.subs(N.z, sp.Symbol("z", real=True)), DEFINITION, f"ŷ = φ(z) with φ the {act.title.lower()}")
    d.add(N.yhat, act.phi.xreplace({N.z: z_expr}), "substitution", "the prediction in terms of the inputs")
    d.check_subs = {n: n_inputs, **{xi[m + 1]: xs[m] for m in range(n_inputs)},
                    **{wi[m + 1]: ws[m] for m in range(n_inputs)}}
    return d


@topic("activation", "each activation function and its derivative, step by step")
def activation(activation: str | None = None) -> Derivation:
    names = [get_activation(activation).name] if activation else list(ACTIVATIONS)
    d = Derivation("Activation functions and their derivatives", references=[NIELSEN])
    d.intro = "The derivative of φ is what back-propagation multiplies by at every neuron."
    for name in names:
        act = ACTIVATIONS[name]
        d.section(f"{act.title} ({name})")
        phi = sp.Function("phi")
        d.add(phi(N.z), act.phi, DEFINITION, act.title)
        value = _derive_activation(d, act)
        if value != act.course_derivative:
            d.add(D(act.phi, N.z), act.course_derivative, "rewriting", act.note)
        else:
            d.steps[-1].note = (d.steps[-1].note + "; " if d.steps[-1].note else "") + act.note
        d.goal(f"{name}'", act.phi, N.z, act.course_derivative, key=name)
    return d


def _derive_activation(d: Derivation, act) -> sp.Expr:
    """Differentiate φ as the course does: by its definition in elementary functions."""
    from symnn.ops.functions import elementary, sigmoid
    if act.phi.func is sigmoid:
        d.add(D(act.phi, N.z), D(1 / (1 + sp.exp(-N.z)), N.z), "definition", "σ(z) = 1/(1 + e^(−z))")
        value = differentiate(d, 1 / (1 + sp.exp(-N.z)), N.z, lhs=D(act.phi, N.z))
        d.add(D(act.phi, N.z), sp.exp(-N.z) / (1 + sp.exp(-N.z)) ** 2, "simplification", "")
        d.add(D(act.phi, N.z), 1 / (1 + sp.exp(-N.z)) * (1 - 1 / (1 + sp.exp(-N.z))), "factoring",
              "e^(−z)/(1+e^(−z))² = 1/(1+e^(−z)) · e^(−z)/(1+e^(−z)) and e^(−z)/(1+e^(−z)) = 1 − σ(z)")
        return act.course_derivative
    if act.phi.is_Function and act.phi.func.__module__.startswith("symnn"):
        pieces = elementary(act.phi)
        d.add(D(act.phi, N.z), D(pieces, N.z), "definition", "written piece by piece")
        differentiate(d, pieces, N.z, lhs=D(act.phi, N.z))
        return act.course_derivative
    return differentiate(d, act.phi, N.z)


# --- the perceptron's cost --------------------------------------------------------------

@topic("cost", "∂C/∂w_1, ∂C/∂w_2, ∂C/∂w_3, ∂C/∂b for the lecture's perceptron (one row, then all 8 rows)")
def cost(activation: str = "sigmoid", cost: str = "quadratic") -> Derivation:
    act, cst = get_activation(activation), get_cost(cost)
    check_compatible(act.name, cst.name)
    xs, ws, z_expr = perceptron(3)
    z, yhat, y, C = N.z, N.yhat, N.y, N.C
    d = Derivation(f"How the perceptron learns: the gradient of the {cst.title.lower()}",
                   references=[NIELSEN, TRASK, CROSSVALIDATED])
    d.intro = ("Inputs: " + ", ".join(f"x_{i} = {name}" for i, name in enumerate(STUDY_INPUTS, 1))
               + "; output: ŷ, the predicted Exam score, compared with the actual y. To "
               "“adjust w_1, w_2, w_3” we need how the cost C changes with each weight.")
    d.section("One row of the table")
    d.add(z, z_expr, DEFINITION, "the weighted sum of the three inputs plus the bias")
    d.add(yhat, act.phi, DEFINITION, f"the prediction, φ = {act.title.lower()}")
    c_row = cst.single(yhat, y)
    d.add(C, c_row, DEFINITION, f"the {cst.title.lower()} of one row")
    full = c_row.xreplace({yhat: act.phi}).xreplace({z: z_expr})

    dC_dyhat = dyhat_dz = None
    for var in (*ws, N.b):
        d.section(f"∂C/∂{sp.sstr(var)}")
        chain = D(C, yhat) * D(yhat, z) * D(z, var)
        d.add(D(C, var), chain, "chain rule", "C depends on the weight only through ŷ, and ŷ only through z")
        if dC_dyhat is None:
            dC_dyhat = differentiate(d, c_row, yhat, lhs=D(C, yhat))
            dyhat_dz = differentiate(d, act.phi, z, lhs=D(yhat, z))
        dz = differentiate(d, z_expr, var, lhs=D(z, var))
        local = tidy(dC_dyhat * dyhat_dz * dz)
        d.add(D(C, var), local, "substitution", "multiply the three factors")
        in_inputs = local.xreplace({yhat: act.phi}).xreplace({z: z_expr})
        d.add(D(C, var), in_inputs, "substitution", "the same in terms of the inputs, weights and bias")
        d.goal(f"∂C/∂{sp.sstr(var)}", full, var, in_inputs)

    d.section(f"All {N_ROWS} rows of the table (batch form)")
    r = N.r
    X = [sp.IndexedBase(f"x_{i}", real=True) for i in (1, 2, 3)]
    Z, YH, Y = sp.IndexedBase("z", real=True), sp.IndexedBase("yhat", real=True), sp.IndexedBase("y", real=True)
    z_r = sp.Add(*[w * x[r] for w, x in zip(ws, X)]) + N.b
    d.add(Z[r], z_r, DEFINITION, "row r's weighted sum")
    d.add(YH[r], act.phi.xreplace({z: Z[r]}), DEFINITION, "row r's prediction")
    C_batch = sp.Sum(cst.single(YH[r], Y[r]), (r, 1, N_ROWS))
    d.add(C, C_batch, DEFINITION, f"the cost summed over the {N_ROWS} rows: one number for the whole table")
    w1 = ws[0]
    d.add(D(C, w1), sp.Sum(D(cst.single(YH[r], Y[r]), w1), (r, 1, N_ROWS)), "linearity of Σ",
          "differentiate row by row")
    per_row = local_w1 = tidy(dC_dyhat * dyhat_dz * xs[0])
    per_row = per_row.xreplace({yhat: YH[r], y: Y[r], z: Z[r], xs[0]: X[0][r]})
    d.add(D(cst.single(YH[r], Y[r]), w1), per_row, "same as one row",
          "each row contributes exactly what the one-row derivation found, with that row's values")
    batch = sp.Sum(per_row, (r, 1, N_ROWS))
    d.add(D(C, w1), batch, "substitution", "sum the rows' contributions: one update uses the whole table")
    batch = batch.xreplace({YH[r]: act.phi.xreplace({z: Z[r]})}).xreplace({Z[r]: z_r})
    d.add(D(C, w1), batch, "substitution", "the same in terms of the inputs, weights and bias")
    full_batch = sp.Sum(cst.single(act.phi.xreplace({z: z_r}), Y[r]), (r, 1, N_ROWS))
    d.goal("∂C/∂w_1 (batch)", full_batch, w1, batch)
    del local_w1
    return d


# --- gradient descent -----------------------------------------------------------------

@topic("gradient-descent", "the update w ← w − η ∂C/∂w in batch and stochastic form")
def gradient_descent(activation: str = "sigmoid", cost: str = "quadratic") -> Derivation:
    base = derive("cost", activation=activation, cost=cost, verify=False)
    d = Derivation("Gradient descent: batch and stochastic updates", references=[NIELSEN, TRASK])
    d.intro = ("Gradient descent moves every weight a small step η against its gradient. Batch "
               "gradient descent sums the gradient over the whole table before one update; "
               "stochastic gradient descent updates after every single row.")
    w1, eta = N.w(1), N.eta
    w_new = sp.Symbol("w_1'", real=True)
    row_goal, batch_goal = base.goals[0], base.goals[-1]
    sections = [
        ("Stochastic gradient descent (one row, one update)", row_goal,
         f"one update per row: {N_ROWS} updates per pass over the table"),
        (f"Batch gradient descent (all {N_ROWS} rows, one update)", batch_goal,
         "the gradient summed over every row, then a single step: 1 update per pass over the table"),
    ]
    for title, goal, note in sections:
        d.section(title)
        batch = goal is batch_goal
        for lhs, rhs in goal.defs.items():
            if not batch or isinstance(lhs, sp.Indexed) or lhs == N.C:
                d.add(lhs, rhs, DEFINITION, "as in the `cost` derivation")
        d.add(w_new, w1 - eta * D(N.C, w1), DEFINITION, "step against the slope, scaled by the learning rate η")
        d.add(w_new, w1 - eta * goal.result, "substitution", note)
        d.goals.append(goal)
    return d


@topic("cost-functions", "the table of cost functions and their gradients (CrossValidated, 2015)")
def cost_functions(cost: str | None = None) -> Derivation:
    from symnn.ops.costs import C, E, a, k, n
    names = [get_cost(cost).name] if cost else list(COSTS)
    d = Derivation("Cost functions and their gradients", references=[CROSSVALIDATED])
    d.intro = ("a is the network's output and E the expected value, summed over the n outputs; "
               "each gradient ∂C/∂a_k is derived step by step and compared with the list's.")
    d.check_subs = {n: 3, k: 2}
    for name in names:
        cst = COSTS[name]
        d.section(f"{cst.title} ({name})")
        d.add(C, cst.total(), DEFINITION, cst.note)
        value = differentiate(d, cst.total(), a[k], lhs=D(C, a[k]))
        course = cst.course_gradient
        if course != value:
            d.add(D(C, a[k]), course, "rewriting", "the form the list gives")
        d.goal(f"∂C/∂a_k ({name})", cst.total(), a[k], course.xreplace({C: cst.total()}), key=name)
    return d


@topic("expression", "any expression you give: --expr 'x^2 exp(-x)' --wrt x (x,y: each partial; "
       "--wrt x --wrt x: the second derivative)")
def expression(expr: "str | sp.Expr" = None, wrt=None) -> Derivation:
    """d/dx of a user's expression. `wrt`: a name; "x,y" for each partial derivative; a list
    ["x", "x"] for a higher derivative, by each variable in turn."""
    from symnn.parse import parse
    if expr is None:
        raise InputError("topic 'expression' needs an expression (--expr 'x**2*exp(-x)')")
    if isinstance(expr, str):
        expr = parse(expr)
    elif not isinstance(expr, sp.Expr):
        raise InputError(f"the expression must be text or a SymPy expression, not {type(expr).__name__}")
    free = sorted(expr.free_symbols, key=str)
    partials, order = _variables(wrt, free)
    name = next(n for n in ("f", "g", "h", "F", "G", "f_0") if n not in {s.name for s in free})
    f = sp.Function(name)(*(free or partials))
    held = [s for s in free if s not in (*partials, *order)]
    d = Derivation(_title(expr, partials or order, held, len(order)))
    d.add(f, expr, DEFINITION, "the expression to differentiate"
          + (f"; {', '.join(map(sp.sstr, held))} held constant" if held else ""))
    if order:
        current = expr
        for n, var in enumerate(order, 1):
            if len(order) > 1:
                d.section(f"derivative {n}: by {sp.sstr(var)}")
            current = _in_nn_form(d, differentiate(d, current, var), current, var)
        d.goal(_order_name(name, order), expr, tuple(order), current)
        return d
    for var in partials:
        d.section(f"∂{name}/∂{sp.sstr(var)}")
        d.goal(f"∂{name}/∂{sp.sstr(var)}", expr, var, _in_nn_form(d, differentiate(d, expr, var), expr, var))
    return d


def _in_nn_form(d: Derivation, value: sp.Expr, expr: sp.Expr, var: sp.Symbol) -> sp.Expr:
    """The result in a network's form where one applies (σ instead of 1/(1 + e^(−u)))."""
    from symnn.derive.steps import sigmoid_form
    nicer = sigmoid_form(value, expr)
    if nicer != value:
        d.add(D(expr, var), nicer, "rewriting", "the sigmoid: 1/(1 + e^(−u)) = σ(u)")
    return nicer


def _order_name(name: str, order: list) -> str:
    """df/dx, d^2f/dx^2, or ∂^2f/∂x∂y."""
    n = len(order)
    if n == 1:
        return f"d{name}/d{sp.sstr(order[0])}"
    if len(set(order)) == 1:
        return f"d^{n}{name}/d{sp.sstr(order[0])}^{n}"
    return f"∂^{n}{name}/" + "".join(f"∂{sp.sstr(v)}" for v in reversed(order))


def _title(expr, variables, held, order: int) -> str:
    what = "derivative" if not held and len(variables) == 1 else "partial derivative"
    what = {2: "second ", 3: "third "}.get(order, f"{order}th " if order > 3 else "") + what
    by = ", ".join(map(sp.sstr, variables))
    many = "s" if len(variables) > 1 and not order else ""
    return f"The {what}{many} of {sp.sstr(expr)} with respect to {by}"


def _variables(wrt, free: list) -> tuple[list, list]:
    """(partials, order): "x,y" -> each partial; ["x", "x"] -> the second derivative."""
    if isinstance(wrt, (list, tuple)) and len(wrt) == 1:
        wrt = wrt[0]
    if isinstance(wrt, (list, tuple)):
        if not wrt or len(wrt) > 4:
            raise InputError("give 1 to 4 variables for a higher derivative (--wrt x --wrt x)")
        return [], [_variable(w, free) for w in wrt]
    if isinstance(wrt, str) and "," in wrt:
        names = [w.strip() for w in wrt.split(",")]
        variables = [_variable(w, free) for w in names]
        if len(set(variables)) != len(variables):
            raise InputError(f"--wrt {wrt!r} names a variable twice; for a second derivative give "
                             "--wrt x --wrt x")
        return variables, []
    return [], [_variable(wrt, free)]


def _variable(wrt: "str | sp.Symbol | None", free: list) -> sp.Symbol:
    """The variable to differentiate by: --wrt parsed as one name, or the only free symbol."""
    from symnn.parse import parse
    if wrt is None:
        if len(free) != 1:
            raise InputError(f"say which variable to differentiate by (--wrt); the expression has "
                             f"{', '.join(map(str, free)) or 'no variables'}")
        return free[0]
    var = parse(wrt, what="variable (--wrt)") if isinstance(wrt, str) else wrt
    if not isinstance(var, sp.Symbol):
        raise InputError(f"--wrt must be one variable name such as x, not {sp.sstr(var)[:40]!r}")
    return next((s for s in free if s.name == var.name), var)   # absent: a constant, derivative 0
