"""symnn's named SymPy functions: σ (sigmoid), step, ReLU, leaky ReLU and Iverson's [a = b].

They print as the course writes them (σ(z), ReLU(z)) and keep their derivative in course form
(σ' = σ(1 − σ), ReLU' = step); `elementary()` rewrites them into plain SymPy (exp, Piecewise),
which SymPy checks against, and `stable()` into forms that never overflow, which the code
generator compiles. The activations built from them are the records in ops/activations/.
"""

from __future__ import annotations

import sympy as sp


class _Named(sp.Function):
    """Prints as the course writes it: `latex_name` in LaTeX, `text_name` in text."""

    latex_name = text_name = ""

    def _latex(self, printer, exp=None):
        s = rf"{self.latex_name}\left({printer._print(self.args[0])}\right)"
        return s if exp is None else rf"{s}^{{{exp}}}"

    def _sympystr(self, printer):
        return f"{self.text_name}({printer._print(self.args[0])})"


class sigmoid(_Named):
    """σ(z) = 1 / (1 + e^(−z))."""

    @classmethod
    def eval(cls, arg: sp.Expr) -> sp.Expr | None:
        if arg.is_Number:
            return 1 / (1 + sp.exp(-arg))
        return None  # unevaluated: SymPy keeps the call

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return 1 / (1 + sp.exp(-arg))

    def _eval_is_real(self):
        return self.args[0].is_real

    latex_name = r"\sigma"
    text_name = "σ"


class step(_Named):
    """The threshold (Heaviside step) with step(0) = 0: the sub-gradient PyTorch uses for ReLU."""

    @classmethod
    def eval(cls, arg: sp.Expr) -> sp.Expr | None:
        if arg.is_Number:
            return sp.S.One if arg > 0 else sp.S.Zero
        return None  # unevaluated: SymPy keeps the call

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.DiracDelta(self.args[0])

    def _eval_rewrite_as_Heaviside(self, arg, **kwargs):
        return sp.Heaviside(arg, 0)

    def _eval_rewrite_as_Piecewise(self, arg, **kwargs):
        return sp.Piecewise((1, arg > 0), (0, True))

    latex_name = r"\operatorname{step}"
    text_name = "step"


class relu(_Named):
    """ReLU(z) = max(0, z); its derivative is step(z) (0 at z = 0, as PyTorch)."""

    @classmethod
    def eval(cls, arg: sp.Expr) -> sp.Expr | None:
        if arg.is_Number:
            return sp.Max(0, arg)
        return None  # unevaluated: SymPy keeps the call

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return step(self.args[0])

    def _eval_rewrite_as_Max(self, arg, **kwargs):
        return sp.Max(0, arg)

    def _eval_rewrite_as_Piecewise(self, arg, **kwargs):
        return sp.Piecewise((arg, arg > 0), (0, True))

    latex_name = r"\operatorname{ReLU}"
    text_name = "ReLU"


LEAKY_SLOPE = sp.Rational(1, 100)


class leaky_relu(_Named):
    """Leaky ReLU: z for z > 0, 0.01 z otherwise."""

    @classmethod
    def eval(cls, arg: sp.Expr) -> sp.Expr | None:
        if arg.is_Number:
            return arg if arg > 0 else LEAKY_SLOPE * arg
        return None  # unevaluated: SymPy keeps the call

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        a = self.args[0]
        return step(a) + LEAKY_SLOPE * (1 - step(a))

    def _eval_rewrite_as_Piecewise(self, arg, **kwargs):
        return sp.Piecewise((arg, arg > 0), (LEAKY_SLOPE * arg, True))

    latex_name = r"\operatorname{LeakyReLU}"
    text_name = "LeakyReLU"


class indicator(sp.Function):
    """[a = b], Iverson's bracket: 1 when a equals b, else 0. It is piecewise constant, so its
    derivative is 0 wherever it has one; symnn holds it fixed when differentiating (the pooling
    derivation shows why that is right for the max-pool switch). Not a KroneckerDelta on purpose:
    it compares a stored value with an index expression and must not be summed out."""

    @classmethod
    def eval(cls, a: sp.Expr, b: sp.Expr) -> sp.Expr | None:
        if (a - b).is_Number:
            return sp.S.One if a == b else sp.S.Zero
        return None  # unevaluated: SymPy keeps the call

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.S.Zero

    def _eval_rewrite_as_Piecewise(self, a, b, **kwargs):
        return sp.Piecewise((1, sp.Eq(a, b)), (0, True))

    def _sympystr(self, printer):
        return f"[{printer._print(self.args[0])} = {printer._print(self.args[1])}]"

    def _latex(self, printer, exp=None):
        s = rf"\left[{printer._print(self.args[0])} = {printer._print(self.args[1])}\right]"
        return s if exp is None else rf"{s}^{{{exp}}}"

    def _numbacode(self, printer):  # symnn's NumbaPrinter
        a, b = (printer._print(x) for x in self.args)
        return f"(1.0 if {a} == {b} else 0.0)"

    def _mpmathcode(self, printer):  # lambdify(..., "mpmath") in the checks
        a, b = (printer._print(x) for x in self.args)
        return f"(1 if {a} == {b} else 0)"

    _lambdacode = _numpycode = _pythoncode = _mpmathcode


_ELEMENTARY = {
    sigmoid: lambda a: 1 / (1 + sp.exp(-a)),
    step: lambda a: sp.Piecewise((1, a > 0), (0, True)),
    relu: lambda a: sp.Piecewise((a, a > 0), (0, True)),
    leaky_relu: lambda a: sp.Piecewise((a, a > 0), (LEAKY_SLOPE * a, True)),
}


def elementary(expr: sp.Expr) -> sp.Expr:
    """Rewrite symnn's named functions into plain SymPy (exp, Piecewise) for checking and codegen."""
    for func, f in _ELEMENTARY.items():
        expr = expr.replace(func, f)
    return expr


_MPMATH: dict = {}


def mpmath_functions() -> dict:
    """Function name -> mpmath function for each named function (σ, step, ReLU, leaky ReLU),
    lambdified from its elementary() form: a numeric check evaluates σ(big expression) without
    first building exp(−big expression) symbolically."""
    if not _MPMATH:
        x = sp.Symbol("x", real=True)
        for func, f in _ELEMENTARY.items():
            _MPMATH[func.__name__] = sp.lambdify([x], f(x), "mpmath")
    return _MPMATH


def stable(expr: sp.Expr) -> sp.Expr:
    """Rewrite named functions into forms that never overflow, for code generation:
    σ(u) picks 1/(1+e^(−u)) or e^u/(1+e^u) by the sign of u — both from the one t = e^(−|u|),
    so one exponential and no branch, just a choice of quotient; ln(1+e^u) becomes
    max(u, 0) + ln(1 + e^(−|u|)), and ln cosh u becomes |u| + ln(1 + e^(−2|u|)) − ln 2."""

    def sig(u):
        t = sp.exp(-sp.Abs(u))  # e^(−u) when u ≥ 0, e^u when u < 0
        return sp.Piecewise((1 / (1 + t), u >= 0), (t / (1 + t), True))

    def softplus(e):
        u = next(a for a in e.args[0].args if isinstance(a, sp.exp)).args[0]
        return sp.Piecewise((u + sp.log(1 + sp.exp(-u)), u > 0), (sp.log(1 + sp.exp(u)), True))

    def logcosh(u):  # ln cosh u = |u| + ln(1 + e^(−2|u|)) − ln 2
        return sp.Abs(u) + sp.log(1 + sp.exp(-2 * sp.Abs(u))) - sp.log(2)

    expr = expr.replace(sigmoid, sig)
    expr = expr.replace(
        lambda e: isinstance(e, sp.log) and isinstance(e.args[0], sp.cosh), lambda e: logcosh(e.args[0].args[0])
    )
    expr = expr.replace(
        lambda e: (
            isinstance(e, sp.log)
            and isinstance(e.args[0], sp.Add)
            and len(e.args[0].args) == 2
            and sp.S.One in e.args[0].args
            and any(isinstance(a, sp.exp) for a in e.args[0].args)
        ),
        softplus,
    )
    return elementary(expr)


def heaviside_form(expr: sp.Expr) -> sp.Expr:
    """step(u) -> Heaviside(u, 0), which the code printer writes as a comparison."""
    return expr.replace(step, lambda a: sp.Heaviside(a, 0))


def overflow_risk(expr: sp.Expr) -> list[sp.Expr]:
    """The exponentials (exp, cosh, sinh) in the compiled form of expr whose argument SymPy cannot
    bound above: e^u overflows float64 once u passes about 709."""
    risky = []
    for node in sp.preorder_traversal(stable(expr)):
        if isinstance(node, sp.exp) and not node.args[0].is_nonpositive:
            risky.append(node)
        elif isinstance(node, (sp.cosh, sp.sinh)):
            risky.append(node)
    return risky
